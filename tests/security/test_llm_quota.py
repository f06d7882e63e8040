"""M8: one user's use of the chat model (whose provider key every user shares) is bounded, through the real
app: model work running at once per user and in all, model calls per minute and tokens per hour per user,
refused with TOO_MANY_REQUESTS before the model is called, the same count for every door (GraphQL over HTTP
and WebSocket, MCP, MOS) and for fine-mode adds. The budgets run on an injected clock: no test sleeps for a
window to pass."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph import MOS, RateLimited
from memos_graph.cli.exit_codes import ExitCode, exit_code_for
from memos_graph.config import IngestSettings, LLMSettings
from memos_graph.mcp_server.http import create_http_app
from memos_graph.services.llm_quota import LLMQuota
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import FakeOpenAI
from testkit.fixtures import count_nodes
from testkit.mcp_client import over_http, refused
from testkit.security import Api, Caller, codes, create_caller, purge_user
from testkit.servers import serve_app
from tests.graphql.test_chat_stream import STREAM, Message, connection, errors, events, subscribe, until_done

pytestmark = pytest.mark.neo4j

CHAT = "mutation($q: String!) { chat(query: $q) }"
ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
REPLY = "Alice plays the cello."
# A streamed answer of 20 pieces, 0.5 s apart: about 10 s during which the stream holds its place.
SLOW = " ".join(
    f"word{index}" for index in range(40)
)  # 20 s a stream: the checks run while it lasts, on a busy machine too
SLOW_PIECE_S = 0.5


class FakeClock:
    """The quota's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Served:
    """The app over a runtime with these chat-model bounds, and the users a test made on it."""

    runtime: Runtime
    services: Services
    client: TestClient
    api: Api
    llm: FakeOpenAI
    made: list[str] = field(default_factory=list)

    def user(self, name: str) -> Caller:
        caller = create_caller(self.services, f"quota-{name}-{uuid.uuid4().hex[:8]}")
        self.made.append(caller.user_id)
        return caller

    def chat(self, caller: Caller, query: str) -> dict[str, Any]:
        return self.api.call(caller.key, CHAT, q=query)

    def turns(self, caller: Caller) -> int:
        return count_nodes(self.runtime, "ChatTurn", user_id=caller.user_id)


@contextmanager
def served(
    keyed_runtime: Runtime,
    llm_server: FakeOpenAI,
    clock: Callable[[], float] = time.monotonic,
    ingest: IngestSettings | None = None,
    **bounds: Any,
) -> Iterator[Served]:
    """The real ASGI app with the chat model on the fake server, these llm.* bounds and the quota's clock."""
    llm = LLMSettings(model="openai/quota", api_base=llm_server.url, api_key="sk-test", num_retries=0, **bounds)
    update: dict[str, Any] = {"llm": llm}
    if ingest is not None:
        update["ingest"] = ingest
    runtime = replace(keyed_runtime, config=keyed_runtime.config.model_copy(update=update))
    runtime.llm_quota = LLMQuota(llm, clock=clock)
    services = Services.over(runtime)
    with TestClient(create_app(runtime=runtime)) as client:
        app = Served(runtime, services, client, Api(client), llm_server)
        try:
            yield app
        finally:
            for user_id in app.made:
                purge_user(runtime, user_id)


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a refused operation, which must be TOO_MANY_REQUESTS."""
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_REQUESTS", body
    found: dict[str, Any] = error
    return found


def stream_requests(llm: FakeOpenAI) -> int:
    return sum(1 for request in llm.requests if request.get("stream"))


def pump(ws: Any, seen: dict[str, list[Message]], enough: Callable[[], bool]) -> None:
    """Receive the socket's messages, filed by operation id, until `enough` says so."""
    while not enough():
        message = ws.receive_json()
        seen.setdefault(message["id"], []).append(message)


def streaming(seen: dict[str, list[Message]], op_id: str) -> bool:
    return any(message["type"] == "next" for message in seen.get(op_id, []))


def ended(seen: dict[str, list[Message]], op_id: str) -> bool:
    return any(message["type"] in ("complete", "error") for message in seen.get(op_id, []))


def test_one_users_streams_past_the_cap_are_refused_on_every_socket_and_door_while_another_user_chats(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    """The report's flood (many chatStream subscriptions of one USER) gets at most llm.max_concurrent_per_user
    model streams; the next stream (same socket or another) and the same user's chat mutation are refused
    before any retrieval or model call, while another user's chat is answered."""
    with served(keyed_runtime, llm_server, max_concurrent_per_user=2, max_concurrent=10) as app:
        bob, alice = app.user("bob"), app.user("alice")
        llm_server.reset(SLOW, chunk_delay_s=SLOW_PIECE_S)
        seen: dict[str, list[Message]] = {}
        with connection(app.client, bob.key) as ws:
            subscribe(ws, "1", STREAM, q="Tell me a story")
            subscribe(ws, "2", STREAM, q="Tell me another story")
            pump(ws, seen, lambda: streaming(seen, "1") and streaming(seen, "2"))

            subscribe(ws, "3", STREAM, q="And a third one")
            pump(ws, seen, lambda: ended(seen, "3"))
            (error,) = errors(seen["3"])
            assert error["extensions"]["code"] == "TOO_MANY_REQUESTS", error
            assert "llm.max_concurrent_per_user" in error["message"] and events(seen["3"]) == []

            with connection(app.client, bob.key) as other_socket:  # another connection of the same user
                subscribe(other_socket, "1", STREAM, q="From my other tab")
                (error,) = errors(until_done(other_socket, "1"))
                assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
            assert "llm.max_concurrent_per_user" in refusal(app.chat(bob, "Over HTTP then?"))["message"]

            assert app.chat(alice, "What do I play?") == {"data": {"chat": SLOW}}  # answered unstreamed
            assert app.runtime.llm_quota.running(bob.user_id) == 2  # bob's two streams were still running

            pump(ws, seen, lambda: ended(seen, "1") and ended(seen, "2"))
        assert [events(seen[op])[-1]["answer"] for op in ("1", "2")] == [SLOW, SLOW]
        assert errors(seen["1"]) == errors(seen["2"]) == []
        # The model saw bob's two streams and alice's chat; no refused call reached it.
        assert stream_requests(llm_server) == 2 and len(llm_server.requests) == 3
        assert app.turns(bob) == 4 and app.turns(alice) == 2

        # The places are given back when the streams end.
        llm_server.reset(REPLY)
        with connection(app.client, bob.key) as ws:
            subscribe(ws, "1", STREAM, q="Now?")
            assert events(until_done(ws, "1"))[-1]["answer"] == REPLY
        assert app.runtime.llm_quota.running() == 0


def test_the_server_wide_cap_refuses_every_user_while_it_is_full(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    with served(keyed_runtime, llm_server, max_concurrent_per_user=2, max_concurrent=2) as app:
        bob, alice = app.user("bob"), app.user("alice")
        llm_server.reset(SLOW, chunk_delay_s=SLOW_PIECE_S)
        seen: dict[str, list[Message]] = {}
        with connection(app.client, bob.key) as ws:
            subscribe(ws, "1", STREAM, q="Tell me a story")
            subscribe(ws, "2", STREAM, q="Tell me another story")
            pump(ws, seen, lambda: streaming(seen, "1") and streaming(seen, "2"))
            assert "llm.max_concurrent)" in refusal(app.chat(alice, "Anyone there?"))["message"]
            pump(ws, seen, lambda: ended(seen, "1") and ended(seen, "2"))
        assert stream_requests(llm_server) == 2 and len(llm_server.requests) == 2
        llm_server.reset(REPLY)
        assert app.chat(alice, "Anyone there now?") == {"data": {"chat": REPLY}}
        assert app.turns(alice) == 2


def test_calls_per_minute_are_refused_before_the_model_on_every_door_and_refill(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    """Aliased chat mutations (20 model calls in one request, in the report) stop at the minute's budget; MCP
    and MOS over the same runtime count against it too; another user has a budget of its own."""
    clock = FakeClock()
    with served(keyed_runtime, llm_server, clock, max_calls_per_user_per_minute=3) as app:
        bob, alice = app.user("bob"), app.user("alice")
        llm_server.reset(REPLY)
        body = app.api.call(
            bob.key, 'mutation { a: chat(query: "q1") b: chat(query: "q2") c: chat(query: "q3") d: chat(query: "q4") }'
        )
        error = refusal(body)
        assert error["path"] == ["d"] and "llm.max_calls_per_user_per_minute allows 3" in error["message"]
        assert error["extensions"]["retryAfterSeconds"] == 60
        assert len(llm_server.requests) == 3 and app.turns(bob) == 6

        assert app.chat(alice, "My turn?") == {"data": {"chat": REPLY}}
        assert len(llm_server.requests) == 4

        async def over_mcp(url: str) -> dict[str, str]:
            async with over_http(url, bob.key) as session:
                return await refused(session, "chat", query="Through MCP?")

        with serve_app(create_http_app(app.services)) as origin:
            answer = asyncio.run(over_mcp(f"{origin}/mcp"))
        assert answer["code"] == "TOO_MANY_REQUESTS" and "retry in 60 s" in answer["message"]
        mos = MOS(runtime=app.runtime)
        with pytest.raises(RateLimited) as caught:
            mos.chat("Through MOS?", user_id=bob.user_id)
        assert caught.value.retry_after_s == 60 and exit_code_for(caught.value) == ExitCode.RATE_LIMITED
        assert int(ExitCode.RATE_LIMITED) == 9
        assert len(llm_server.requests) == 4 and app.turns(bob) == 6

        clock.advance(59)
        assert refusal(app.chat(bob, "Not yet?"))["extensions"]["retryAfterSeconds"] == 1
        clock.advance(1.5)
        assert app.chat(bob, "And now?") == {"data": {"chat": REPLY}}
        assert len(llm_server.requests) == 5 and app.turns(bob) == 8


def test_tokens_per_hour_are_counted_as_the_provider_reports_them_and_refill(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    clock = FakeClock()
    with served(keyed_runtime, llm_server, clock, max_tokens_per_user_per_hour=1_000) as app:
        bob, alice = app.user("bob"), app.user("alice")
        llm_server.reset(REPLY, usage_tokens=400)
        assert app.chat(bob, "One?") == app.chat(bob, "Two?") == {"data": {"chat": REPLY}}
        clock.advance(600)
        # 800 tokens used; the next prompt alone is estimated at more than the 200 left.
        error = refusal(app.chat(bob, "Three?"))
        assert "used about 800 chat-model tokens" in error["message"]
        assert "llm.max_tokens_per_user_per_hour allows 1000" in error["message"]
        assert error["extensions"]["retryAfterSeconds"] == 3_000  # when the first call leaves the hour
        assert len(llm_server.requests) == 2 and app.turns(bob) == 4
        assert app.chat(alice, "Mine?") == {"data": {"chat": REPLY}}

        clock.advance(2_999)
        refusal(app.chat(bob, "Three, still?"))
        clock.advance(1.5)
        assert app.chat(bob, "Three, now?") == {"data": {"chat": REPLY}}
        assert len(llm_server.requests) == 4 and app.turns(bob) == 6


def test_fine_mode_adds_count_each_extraction_call_and_are_refused_before_the_first(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    clock = FakeClock()
    fine = IngestSettings(mode="fine", messages_per_call=1)
    with served(keyed_runtime, llm_server, clock, ingest=fine, max_calls_per_user_per_minute=2) as app:
        bob = app.user("bob")
        cube = app.api.ok(bob.key, 'mutation { createCube(input: {name: "talk"}) { cubeId } }')["createCube"]["cubeId"]
        llm_server.reset('{"facts": []}')

        def add(*texts: str) -> dict[str, Any]:
            messages = [{"role": "user", "content": text} for text in texts]
            return app.api.call(bob.key, ADD, i={"cubeId": cube, "messages": messages})

        # Three windows need three calls; the minute allows two: refused before the first, nothing written.
        error = refusal(add("I moved to Lyon.", "I work at a bakery.", "I have a dog."))
        assert "needs 3 chat-model calls" in error["message"]
        assert llm_server.requests == [] and count_nodes(app.runtime, "Message", cube_id=cube) == 0
        assert codes(add("I moved to Lyon.", "I work at a bakery.")) == []
        assert len(llm_server.requests) == 2
        assert codes(add("I have a dog.")) == ["TOO_MANY_REQUESTS"] and len(llm_server.requests) == 2
        clock.advance(61)
        assert codes(add("I have a dog.")) == [] and len(llm_server.requests) == 3


def test_a_rate_limit_is_its_own_error_family() -> None:
    error = RateLimited("slow down", retry_after_s=3.0)
    assert error.code == "TOO_MANY_REQUESTS" and error.retry_after_s == 3.0 and error.details == {"retry_after_s": 3.0}
    assert exit_code_for(error) == ExitCode.RATE_LIMITED
