"""OpenTelemetry traces and JSON logs of the real server (`python -m graphql_schema` as a subprocess on the
tests' Neo4j): spans exported by OTLP/HTTP to a receiver this test runs on 127.0.0.1 (decoded with
opentelemetry-proto), and what a process without any OTEL_ setting loads (nothing of the SDK)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from testkit.fixtures import REPO, process_environment
from testkit.keys import ROOT_KEY
from testkit.servers import serve

SPANS_WAIT_S = 120.0


class OtlpReceiver:
    """An OTLP/HTTP trace receiver: every span POSTed to /v1/traces, with its attributes as a dict."""

    def __init__(self) -> None:
        self.spans: list[tuple[Span, dict[str, Any]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                with receiver.lock:
                    for resource_spans in request.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            for span in scope_spans.spans:
                                receiver.spans.append((span, _attributes(span)))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def of_trace(self, trace_id: bytes) -> list[tuple[Span, dict[str, Any]]]:
        with self.lock:
            return [(span, attributes) for span, attributes in self.spans if span.trace_id == trace_id]


def _attributes(span: Span) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        found[attribute.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return found


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.mark.neo4j
def test_a_request_is_traced_to_its_neo4j_statements_and_logged_as_json(
    neo4j_settings: Neo4jSettings, keyed_runtime: Runtime, tmp_path: Path
) -> None:
    trace_id = uuid.uuid4().bytes
    given = f"traced-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "server.log"
    with otlp_receiver() as receiver:
        env = {
            **process_environment(neo4j_settings),
            "MEMOS_ROOT_API_KEY": ROOT_KEY,  # keyed_runtime stored it; a start never replaces ROOT's key
            "MEMOS_LOG_FORMAT": "json",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        with serve(env, log_path) as server:
            answer = httpx.post(
                f"{server.base_url}/graphql",
                json={"query": "{ me { user { userId } } }"},
                headers={
                    "Authorization": f"Bearer {ROOT_KEY}",
                    "X-Request-ID": given,
                    # W3C trace context: the server's span joins this trace.
                    "traceparent": f"00-{trace_id.hex()}-{uuid.uuid4().hex[:16]}-01",
                },
                timeout=120,
            )
            assert answer.status_code == 200 and answer.json()["data"]["me"]["user"]["userId"], answer.text
            assert answer.headers["x-request-id"] == given
            deadline = time.monotonic() + SPANS_WAIT_S
            while time.monotonic() < deadline:
                spans = receiver.of_trace(trace_id)
                if any(span.kind == Span.SPAN_KIND_SERVER for span, _ in spans) and any(
                    attributes.get("db.system") == "neo4j" for _, attributes in spans
                ):
                    break
                time.sleep(0.2)
    log = log_path.read_text(errors="replace")
    servers = [span for span, _ in spans if span.kind == Span.SPAN_KIND_SERVER]
    assert servers, ([span.name for span, _ in receiver.spans], log[-3000:])
    statements = [(span, attributes) for span, attributes in spans if attributes.get("db.system") == "neo4j"]
    assert statements, [span.name for span, _ in spans]
    server_ids = {span.span_id for span in servers}
    by_id = {span.span_id: span for span, _ in spans}
    for span, attributes in statements:
        assert span.kind == Span.SPAN_KIND_CLIENT
        assert (REPO / "cypher" / "queries" / f"{span.name}.cypher").is_file(), span.name  # a statement's name
        assert attributes["db.operation"] in ("read", "write") and attributes["db.name"] == neo4j_settings.database
        assert not set(attributes) - {"db.system", "db.operation", "db.name"}, attributes  # no parameter values
        parent = span.parent_span_id
        while parent and parent not in server_ids:  # the statement runs within the request's server span
            parent = by_id[parent].parent_span_id if parent in by_id else b""
        assert parent in server_ids, span.name

    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access" and "POST /graphql" in line["message"]]
    assert [line["request_id"] for line in access] == [given], access


def _loaded_by_create_app(environ: dict[str, str], prelude: str = "") -> dict[str, Any]:
    """What building the GraphQL app in a fresh process with `environ` loads and installs."""
    code = f"""{prelude}
import json, sys
from graphql_schema.app import create_app
from memos_graph.config import MOSConfig
app = create_app(MOSConfig.load())
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation",
                                                        "opentelemetry.exporter")))
from opentelemetry import trace
print(json.dumps({{"loaded": loaded, "provider": type(trace.get_tracer_provider()).__name__,
                  "app": type(app).__name__}}))
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "MEMOS_", "NEO4J_"))}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**env, **environ}, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def test_without_otel_settings_nothing_of_opentelemetry_is_installed() -> None:
    off = _loaded_by_create_app({})
    assert off["loaded"] == [] and off["provider"] == "ProxyTracerProvider" and off["app"] == "RequestIds", off
    disabled = _loaded_by_create_app({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"})
    assert disabled["loaded"] == [] and disabled["app"] == "RequestIds", disabled
    on = _loaded_by_create_app({"OTEL_TRACES_EXPORTER": "console"})
    assert on["provider"] == "TracerProvider" and on["app"] == "OpenTelemetryMiddleware", on


BLOCK_SDK = """
import importlib.abc, sys
class NoSdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation")):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoSdk())
"""


def test_traces_asked_for_without_the_extra_installed_are_explained_and_the_app_still_builds() -> None:
    result = _loaded_by_create_app({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, prelude=BLOCK_SDK)
    assert result["app"] == "RequestIds" and result["provider"] == "ProxyTracerProvider", result
    assert "pip install 'memos-graph[otel]'" in result["stderr"], result["stderr"][-2000:]
