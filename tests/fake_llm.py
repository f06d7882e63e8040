"""An OpenAI-compatible chat-completions server on 127.0.0.1 for tests: litellm's real HTTP path runs
against it. It records each request and answers with a reply the test sets (or fails with a status).

Fault behaviours (tests/faults): `delay_s` holds every answer back that long, `body` replaces the whole
response body with raw bytes (non-JSON, JSON of the wrong shape, truncated JSON), `status` answers with an
error status and an OpenAI-style error body.

Streaming (a request with `"stream": true`): the reply goes out as server-sent events, one
`chat.completion.chunk` per piece of `stream_pieces` (the reply cut after each space, so the pieces join to
the reply), then a chunk with `finish_reason`, then `data: [DONE]`, in chunked transfer encoding.
`chunk_delay_s` holds each piece (and the failure) back: a slow model a client can leave mid-answer.
`fail_after` ends the stream after that many pieces, by `fail_with`: "error" (an OpenAI error event) or "drop"
(the connection closes mid-body; with no delay, the client may lose the pieces still in its buffer). Each
stream's outcome is appended to `streams`: "completed", "failed", or "client-closed" (the client hung up
before the end)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

StreamOutcome = Literal["completed", "failed", "client-closed"]


@dataclass
class FakeOpenAI:
    """Records each request body; answers with `replies` in turn (the last repeats), or fails with `status`."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=lambda: ["You like football."])
    status: int = 200
    delay_s: float = 0.0
    body: bytes | None = None
    chunk_delay_s: float = 0.0
    fail_after: int | None = None
    fail_with: Literal["error", "drop"] = "error"
    streams: list[StreamOutcome] = field(default_factory=list)
    stream_ended: threading.Condition = field(default_factory=threading.Condition)

    def reset(
        self,
        *replies: str,
        status: int = 200,
        delay_s: float = 0.0,
        body: bytes | None = None,
        chunk_delay_s: float = 0.0,
        fail_after: int | None = None,
        fail_with: Literal["error", "drop"] = "error",
    ) -> None:
        """Forget recorded requests and streams and set what to answer next (and how: late, raw bytes, an error
        status; for streams: slowly, or failing after some pieces)."""
        self.requests.clear()
        self.replies = list(replies) or ["You like football."]
        self.status = status
        self.delay_s = delay_s
        self.body = body
        self.chunk_delay_s = chunk_delay_s
        self.fail_after = fail_after
        self.fail_with = fail_with
        with self.stream_ended:
            self.streams.clear()

    def stream_ends(self, outcome: StreamOutcome) -> None:
        """Record how a stream ended and wake whoever waits for it."""
        with self.stream_ended:
            self.streams.append(outcome)
            self.stream_ended.notify_all()

    def wait_for_streams(self, count: int, timeout_s: float) -> list[StreamOutcome]:
        """The outcomes of the streams so far, once `count` have ended (or after timeout_s, however many)."""
        with self.stream_ended:
            self.stream_ended.wait_for(lambda: len(self.streams) >= count, timeout_s)
            return list(self.streams)

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


def stream_pieces(reply: str) -> list[str]:
    """The pieces a streamed reply is sent in: each word with the spaces after it ("You ", "like ", ...)."""
    return re.findall(r"\S*\s+|\S+$", reply) or [reply]


def chunk_event(model: str, delta: dict[str, str], finish_reason: str | None = None) -> bytes:
    """One server-sent event holding a chat.completion.chunk."""
    chunk = {
        "id": "chatcmpl-test-stream",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run the fake server on a free loopback port for the duration of the block."""
    state = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            status, delay = state.status, state.delay_s
            if body.get("stream") and state.body is None and status == 200:
                if delay > 0:
                    time.sleep(delay)
                self.stream(body["model"], state.next_reply())
                return
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

        def stream(self, model: str, reply: str) -> None:
            """Send the reply as SSE chunks (chunked encoding, so a drop mid-body is visible to the client)."""
            delay, fail_after, fail_with = state.chunk_delay_s, state.fail_after, state.fail_with
            self.protocol_version = "HTTP/1.1"  # for chunked encoding; the connection closes after the answer

            def send(data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                send(chunk_event(model, {"role": "assistant", "content": ""}))
                for index, piece in enumerate(stream_pieces(reply)):
                    if delay > 0:
                        time.sleep(delay)
                    if index == fail_after:
                        if fail_with == "error":
                            error = {"error": {"message": "backend exploded mid-stream", "type": "server_error"}}
                            send(f"data: {json.dumps(error)}\n\n".encode())
                            self.wfile.write(b"0\r\n\r\n")
                        state.stream_ends("failed")  # "drop": return without the final chunk, and close
                        return
                    send(chunk_event(model, {"content": piece}))
                send(chunk_event(model, {}, finish_reason="stop"))
                send(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                state.stream_ends("client-closed")
                return
            state.stream_ends("completed")

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
