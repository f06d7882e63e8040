"""OpenTelemetry traces, off unless the standard environment asks for them.

On when OTEL_TRACES_EXPORTER names `otlp` or `console`, or when OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (OTLP then); off with OTEL_SDK_DISABLED=true or
OTEL_TRACES_EXPORTER=none. When on, the HTTP doors wrap their ASGI app in OpenTelemetry's ASGI middleware
(a server span per request) and every named Cypher statement the graph layer runs is a client span named after
its statement, with db.system, db.operation and db.name (never the parameters).

opentelemetry is imported only once traces are on, and is an extra (`pip install 'memos-graph[otel]'`): when
traces are asked for without it the service says so in its log and runs without them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp

logger = logging.getLogger(__name__)

SERVICE_NAME = "memos-graph"
EXTRA_HINT = "pip install 'memos-graph[otel]'"
_EXPORTERS = {"otlp", "console"}
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


class _State:
    """What enabling traces made, once per process (a tracer provider can be installed only once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.decided = False
        self.tracer: Any = None  # opentelemetry.trace.Tracer once on
        self.client_kind: Any = None  # opentelemetry.trace.SpanKind.CLIENT
        self.provider: Any = None  # the SDK's TracerProvider


_STATE = _State()


def requested_exporters(environ: Mapping[str, str]) -> list[str]:
    """The span exporters the environment asks for (`otlp`, `console`); empty when traces are off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [part.strip().lower() for part in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if part.strip()]
    if named:
        unknown = sorted(set(named) - _EXPORTERS - {"none"})
        if unknown:
            logger.warning("OTEL_TRACES_EXPORTER names %s, which memos-graph does not export to", ", ".join(unknown))
        return [name for name in named if name in _EXPORTERS]
    return ["otlp"] if any(environ.get(name, "").strip() for name in _ENDPOINTS) else []


def enable_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Install a tracer provider when the environment asks for traces (once per process); whether traces are
    on. Without the otel extra installed it logs how to install it and returns False."""
    with _STATE.lock:
        if _STATE.decided:
            return _STATE.tracer is not None
        environ = os.environ if environ is None else environ
        exporters = requested_exporters(environ)
        _STATE.decided = True
        if not exporters:
            return False
        try:
            _install(exporters, environ)
        except ImportError as exc:
            logger.warning(
                "traces were asked for (%s) but OpenTelemetry is not installed (%s): %s; serving without traces",
                ", ".join(exporters),
                exc.name or exc,
                EXTRA_HINT,
            )
            return False
        return True


def _install(exporters: list[str], environ: Mapping[str, str]) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    if "otlp" in exporters:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        protocol = next((environ[name] for name in _PROTOCOLS if environ.get(name)), "http/protobuf")
        if protocol != "http/protobuf":
            logger.warning("OTLP protocol %r is not supported: memos-graph exports traces by http/protobuf", protocol)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if "console" in exporters:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _STATE.provider = provider
    _STATE.client_kind = trace.SpanKind.CLIENT
    _STATE.tracer = trace.get_tracer("memos_graph")
    logger.info("OpenTelemetry traces on, exported to %s", ", ".join(exporters))


def instrument_asgi(app: ASGIApp) -> ASGIApp:
    """`app` wrapped in OpenTelemetry's ASGI middleware when traces are on (enabling them from the
    environment if nobody did yet); `app` itself otherwise."""
    if not enable_from_environment():
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # No spans for each ASGI receive and send: one server span per request is what an operator reads.
    wrapped: ASGIApp = OpenTelemetryMiddleware(app, tracer_provider=_STATE.provider, exclude_spans=["receive", "send"])
    return wrapped


def statement_span(name: str, operation: str, database: str) -> contextlib.AbstractContextManager[Any]:
    """A client span for one Cypher statement while traces are on (named after the statement; its parameters
    are never recorded), else a context that does nothing."""
    tracer = _STATE.tracer
    if tracer is None:
        return contextlib.nullcontext()
    attributes = {"db.system": "neo4j", "db.operation": operation, "db.name": database}
    span: contextlib.AbstractContextManager[Any] = tracer.start_as_current_span(
        name, kind=_STATE.client_kind, attributes=attributes
    )
    return span
