"""An OpenAI-compatible chat-completions server on 127.0.0.1 for tests: litellm's real HTTP path runs
against it. It records each request and answers with a reply the test sets (or fails with a status)."""

from __future__ import annotations

import json
import threading
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

    def reset(self, *replies: str, status: int = 200) -> None:
        """Forget recorded requests and set what to answer next."""
        self.requests.clear()
        self.replies = list(replies) or ["You like football."]
        self.status = status

    def next_reply(self) -> str:
        reply = self.replies[0]
        if len(self.replies) > 1:
            self.replies.pop(0)
        return reply


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run the fake server on a free loopback port for the duration of the block."""
    state = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            if state.status != 200:
                payload: dict[str, Any] = {"error": {"message": "backend exploded", "type": "server_error"}}
            else:
                message = {"role": "assistant", "content": state.next_reply()}
                payload = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            data = json.dumps(payload).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
