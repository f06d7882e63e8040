"""An OpenAI-compatible chat-completions server on 127.0.0.1 for tests: litellm's real HTTP path runs
against it. It records each request and answers with a reply the test sets (or fails with a status).

Fault behaviours (tests/faults): `delay_s` holds every answer back that long, `body` replaces the whole
response body with raw bytes (non-JSON, JSON of the wrong shape, truncated JSON), `status` answers with an
error status and an OpenAI-style error body."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeOpenAI:
    """Records each request body; answers with `replies` in turn (the last repeats), or fails with `status`."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=lambda: ["You like football."])
    status: int = 200
    delay_s: float = 0.0
    body: bytes | None = None

    def reset(self, *replies: str, status: int = 200, delay_s: float = 0.0, body: bytes | None = None) -> None:
        """Forget recorded requests and set what to answer next (and how: late, raw bytes, an error status)."""
        self.requests.clear()
        self.replies = list(replies) or ["You like football."]
        self.status = status
        self.delay_s = delay_s
        self.body = body

    def next_reply(self) -> str:
        reply = self.replies[0]
        if len(self.replies) > 1:
            self.replies.pop(0)
        return reply

    def response_body(self, model: str) -> bytes:
        """What to send for one request: the raw body if set, an error, or a completion with the next reply."""
        if self.body is not None:
            return self.body
        if self.status != 200:
            payload: dict[str, Any] = {"error": {"message": "backend exploded", "type": "server_error"}}
        else:
            message = {"role": "assistant", "content": self.next_reply()}
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        return json.dumps(payload).encode()


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run the fake server on a free loopback port for the duration of the block."""
    state = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            status, delay = state.status, state.delay_s
            data = state.response_body(body["model"])
            if delay > 0:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (its timeout): nothing left to answer

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
