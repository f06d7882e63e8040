"""The log formats (text with the request id, one JSON object a line), which X-Request-ID values are taken,
and which environments turn traces on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from memos_graph.config import MOSConfig
from memos_graph.errors import ConfigurationError
from memos_graph.logs import REQUEST_ID, configure_logging, log_handler
from memos_graph.request_ids import MAX_LENGTH, accepted_request_id
from memos_graph.tracing import requested_exporters


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    named = logging.getLogger("memos_graph.tests.logs")
    named.propagate = False
    named.setLevel(logging.DEBUG)
    yield named
    named.handlers.clear()
    named.propagate = True


def test_json_lines_hold_the_fields_the_request_id_and_the_exception(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(log_handler("json", out))
    token = REQUEST_ID.set("abc-123")
    try:
        logger.info("stored %d memories for %s", 3, 'caf\u00e9 "quoted"\nnext line')
        try:
            raise ValueError("broken")
        except ValueError:
            logger.exception("it failed")
    finally:
        REQUEST_ID.reset(token)
    logger.warning("outside any request")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # the newline in the message stays inside its line
    first, failed, outside = (json.loads(line) for line in lines)
    assert first["message"] == 'stored 3 memories for caf\u00e9 "quoted"\nnext line'
    assert (first["level"], first["logger"], first["request_id"]) == ("INFO", logger.name, "abc-123")
    assert first["time"].endswith("+00:00") and "exception" not in first
    assert failed["request_id"] == "abc-123" and "ValueError: broken" in failed["exception"]
    assert outside["request_id"] is None


def test_text_lines_show_the_request_id_in_brackets(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(log_handler("text", out))
    token = REQUEST_ID.set("rid-7")
    try:
        logger.warning("inside")
    finally:
        REQUEST_ID.reset(token)
    logger.warning("outside")
    inside, outside = out.getvalue().splitlines()
    assert inside.endswith(f"WARNING {logger.name} [rid-7]: inside")
    assert outside.endswith(f"WARNING {logger.name} [-]: outside")


def test_configure_logging_replaces_the_root_handlers() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        out = io.StringIO()
        configure_logging("json", logging.INFO, out)
        assert len(root.handlers) == 1
        logging.getLogger("memos_graph.tests.configured").info("hello")
        assert json.loads(out.getvalue())["message"] == "hello"
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


def test_the_log_format_is_a_setting_with_an_environment_variable() -> None:
    assert MOSConfig.load(environ={}).logs.format == "text"
    assert MOSConfig.load(environ={"MEMOS_LOG_FORMAT": "json"}).logs.format == "json"
    with pytest.raises(ConfigurationError):
        MOSConfig.load(environ={"MEMOS_LOG_FORMAT": "xml"})


@pytest.mark.parametrize(
    "given", [b"4f1c9a2e-0b7d-4c33-9a51-2f0e6d1b8c77", b"00-abc.def:1", b"x" * MAX_LENGTH, b"a/b+c=="]
)
def test_sane_request_ids_are_taken(given: bytes) -> None:
    assert accepted_request_id(given) == given.decode()


@pytest.mark.parametrize(
    "given", [None, b"", b"x" * (MAX_LENGTH + 1), b"a b", b"a\tb", b'a"b', b"a<b>", b"caf\xc3\xa9", b"a\\b", b"a;b"]
)
def test_other_request_ids_are_refused(given: bytes | None) -> None:
    assert accepted_request_id(given) is None


@pytest.mark.parametrize(
    ("environ", "exporters"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console, otlp"}, ["console", "otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, []),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, []),
    ],
)
def test_traces_are_on_only_when_the_environment_asks(environ: dict[str, str], exporters: list[str]) -> None:
    assert requested_exporters(environ) == exporters
