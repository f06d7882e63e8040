"""An OpenAI-compatible chat-completions server on 127.0.0.1 for tests: litellm's real HTTP path runs
against it. It records each request and answers with a reply the test sets (or fails with a status).

Fault behaviours (tests/faults): `delay_s` holds every answer back that long, `body` replaces the whole
response body with raw bytes (non-JSON, JSON of the wrong shape, truncated JSON), `status` answers with an
error status and an OpenAI-style error body. A completion reports `usage_tokens` as its total token count
(what the chat model's per-user token budget counts).

Streaming (a request with `"stream": true`): the reply goes out as server-sent events, one
`chat.completion.chunk` per piece of `stream_pieces` (the reply cut after each space, so the pieces join to
the reply), then a chunk with `finish_reason`, then `data: [DONE]`, in chunked transfer encoding.
`chunk_delay_s` holds each piece (and the failure) back: a slow model a client can leave mid-answer.
`fail_after` ends the stream after that many pieces, by `fail_with`: "error" (an OpenAI error event) or "drop"
(the connection closes mid-body; with no delay, the client may lose the pieces still in its buffer). Each
stream's outcome is appended to `streams`: "completed", "failed", or "client-closed" (the client hung up
before the end).

Embeddings (`POST /v1/embeddings`): one vector per input, derived from a SHA-256 of the model and the text
(`fake_embedding`: the same text always gets the same vector, not of unit length), of the request's
`dimensions` or else `embedding_dimensions[model]` (DEFAULT_EMBEDDING_DIM); base64 when asked. Each request's
body is appended to `embedding_requests` and its bearer key to `embedding_keys` (apart from the chat
requests). `embedding_status` fails the requests from number `embedding_fail_from` (0-based, since the last
reset) on, `embedding_fail_count` of them (None: all); a 401 quotes the key it was sent, as some providers
do. `embedding_body` replaces the answer with raw bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

StreamOutcome = Literal["completed", "failed", "client-closed"]
DEFAULT_EMBEDDING_DIM = 16


def fake_embedding(model: str, text: str, dimension: int) -> list[float]:
    """The fake server's vector for a text: values in [-1, 1) from SHA-256 of (model, text, block)."""
    values: list[float] = []
    block = 0
    while len(values) < dimension:
        digest = hashlib.sha256(f"{model}\x1f{text}\x1f{block}".encode()).digest()
        values.extend((byte - 128) / 128 for byte in digest)
        block += 1
    return values[:dimension]


@dataclass
class FakeOpenAI:
    """Records each request body; answers with `replies` in turn (the last repeats), or fails with `status`."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=lambda: ["You like football."])
    status: int = 200
    delay_s: float = 0.0
    body: bytes | None = None
    usage_tokens: int = 2
    chunk_delay_s: float = 0.0
    fail_after: int | None = None
    fail_with: Literal["error", "drop"] = "error"
    streams: list[StreamOutcome] = field(default_factory=list)
    stream_ended: threading.Condition = field(default_factory=threading.Condition)
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)
    embedding_keys: list[str | None] = field(default_factory=list)
    embedding_dimensions: dict[str, int] = field(default_factory=dict)
    embedding_status: int = 200
    embedding_fail_from: int = 0
    embedding_fail_count: int | None = None
    embedding_body: bytes | None = None

    def reset_embeddings(
        self,
        dimensions: dict[str, int] | None = None,
        status: int = 200,
        fail_from: int = 0,
        fail_count: int | None = None,
        body: bytes | None = None,
    ) -> None:
        """Forget recorded embedding requests and set how the next ones are answered."""
        self.embedding_requests.clear()
        self.embedding_keys.clear()
        self.embedding_dimensions = dict(dimensions or {})
        self.embedding_status = status
        self.embedding_fail_from = fail_from
        self.embedding_fail_count = fail_count
        self.embedding_body = body

    def embedding_answer(self, body: dict[str, Any], key: str | None) -> tuple[int, bytes]:
        """The status and body for one /v1/embeddings request (recorded first)."""
        number = len(self.embedding_requests)
        self.embedding_requests.append(body)
        self.embedding_keys.append(key)
        failing = number >= self.embedding_fail_from and (
            self.embedding_fail_count is None or number < self.embedding_fail_from + self.embedding_fail_count
        )
        if self.embedding_status != 200 and failing:
            message = f"Incorrect API key provided: {key}" if self.embedding_status == 401 else "embedder exploded"
            return self.embedding_status, json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
        if self.embedding_body is not None:
            return 200, self.embedding_body
        model = str(body["model"])
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimension = int(body.get("dimensions") or self.embedding_dimensions.get(model, DEFAULT_EMBEDDING_DIM))
        data = []
        for index, text in enumerate(texts):
            vector = fake_embedding(model, str(text), dimension)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dimension}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return 200, json.dumps({"object": "list", "data": data, "model": model, "usage": usage}).encode()

    def reset(
        self,
        *replies: str,
        status: int = 200,
        delay_s: float = 0.0,
        body: bytes | None = None,
        chunk_delay_s: float = 0.0,
        fail_after: int | None = None,
        fail_with: Literal["error", "drop"] = "error",
        usage_tokens: int = 2,
    ) -> None:
        """Forget recorded requests and streams and set what to answer next (and how: late, raw bytes, an error
        status, the token count reported; for streams: slowly, or failing after some pieces)."""
        self.requests.clear()
        self.usage_tokens = usage_tokens
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
                "usage": {
                    "prompt_tokens": self.usage_tokens - 1,
                    "completion_tokens": 1,
                    "total_tokens": self.usage_tokens,
                },
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
            if self.path.rstrip("/").endswith("/embeddings"):
                authorization = self.headers.get("Authorization")
                key = authorization.removeprefix("Bearer ") if authorization else None
                self.answer(*state.embedding_answer(body, key))
                return
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
            self.answer(status, data)

        def answer(self, status: int, data: bytes) -> None:
            """Send a JSON answer (quietly, if the client has gone)."""
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
