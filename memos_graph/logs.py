"""Log lines as text (the default) or one JSON object a line, each carrying the id of the request it belongs to.

The id lives in a contextvar (`REQUEST_ID`), set by the HTTP doors' middleware (memos_graph.request_ids) for
the whole of a request or WebSocket connection. asyncio tasks and the worker threads (memos_graph.workers
copies the context into them) inherit it, so a line logged anywhere on a request's behalf carries its id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("memos_request_id", default=None)
# Shown where a line belongs to no request (start-up, background work).
NO_REQUEST = "-"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside any request."""
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as `request_id` (NO_REQUEST outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get() or NO_REQUEST
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id; exception and stack
    as text fields when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id in (None, NO_REQUEST) else request_id,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) writing `log_format` lines with request ids."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(RequestIdFilter())  # on the handler: it sees the records of every logger that propagates
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: LogFormat, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Make the root logger write `log_format` lines (and nothing else) at `level`."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(log_format, stream))
    root.setLevel(level)
