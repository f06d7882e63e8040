"""The chat model misbehaves during fine-mode ingestion and chat: too slow, HTTP 500, garbage bodies, garbage
answers. Every call ends with UNAVAILABLE within a bound derived from llm.timeout_s and llm.num_retries,
writes nothing (no memory, no message, no half chat turn), and the next call with a healthy model succeeds.

litellm runs for real against testkit/fake_llm.py; the graph is the shared test Neo4j, isolated per test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph import MOS, BackendUnavailable, UserRole
from memos_graph.config import IngestSettings, LLMSettings
from memos_graph.llm.litellm_chat import LiteLLMChat
from memos_graph.services.identity import new_api_key
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.conversations import SUPPORT_GROUP_CHAT
from testkit.fake_llm import FakeOpenAI
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j

TIMEOUT_S = 1.0
RETRIES = 1
CHAT = SUPPORT_GROUP_CHAT[:2]
GOOD_FACTS = json.dumps(
    {
        "facts": [
            {
                "text": "Caroline attended an LGBTQ support group on 7 May 2023.",
                "type": "event",
                "message_ids": ["D1:3"],
            },
        ]
    }
)


def completion(content: Any) -> bytes:
    """A well-formed chat-completion body around `content`."""
    message = {"role": "assistant", "content": content}
    return json.dumps(
        {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "created": 0,
            "model": "faulty",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
    ).encode()


# Faults of the HTTP exchange itself: each makes the model call fail (after litellm's retries).
BODY_FAULTS: dict[str, dict[str, Any]] = {
    "slower-than-timeout": {"delay_s": TIMEOUT_S + 1.5},
    "http-500": {"status": 500},
    "not-json": {"body": b"<html><body>502 Bad Gateway</body></html>"},
    "json-of-the-wrong-shape": {"body": b'{"status": "ok", "output": "Caroline likes groups"}'},
    "truncated-json": {"body": completion(GOOD_FACTS)[:70]},
    "empty-body": {"body": b""},
    "no-choices": {
        "body": json.dumps(
            {"id": "x", "object": "chat.completion", "created": 0, "model": "faulty", "choices": []}
        ).encode()
    },
    "null-content": {"body": completion(None)},
}
# Well-formed completions whose text is not the facts JSON fine mode asks for.
ANSWER_FAULTS: dict[str, str] = {
    "prose": "Sure! Here are the facts: Caroline likes groups.",
    "json-of-the-wrong-shape": '{"memories": ["Caroline likes groups"]}',
    "truncated-json": GOOD_FACTS[:45],
    "unknown-message-id": GOOD_FACTS.replace("D1:3", "D9:9"),
}


def llm_settings(server: FakeOpenAI, num_retries: int = RETRIES) -> LLMSettings:
    return LLMSettings(
        model="openai/faulty", api_base=server.url, api_key="sk-test", timeout_s=TIMEOUT_S, num_retries=num_retries
    )


def requests_per_call(num_retries: int) -> int:
    """HTTP requests litellm makes for one failing completion: the OpenAI client retries num_retries times,
    then litellm's own wrapper calls num_retries more times (measured; see test_retry_count_matches_config)."""
    return 2 * num_retries + 1


def call_bound_s(llm: LLMSettings, attempts: int = 1) -> float:
    """How long `attempts` failing model calls may take: each request up to timeout_s, the OpenAI client's
    back-off (under 1 s per retry at these counts) between retries, and 5 s for the rest of the operation
    (the first litellm call of a process sets itself up; this machine may be busy). A hang would take the
    default 60 s per request."""
    per_call = requests_per_call(llm.num_retries) * llm.timeout_s + llm.num_retries * 1.0
    return attempts * per_call + 5.0


def timed(work: Callable[[], object]) -> tuple[float, BaseException | None]:
    """Run `work`; its duration and the exception it raised, if any."""
    began = time.monotonic()
    try:
        work()
    except Exception as exc:  # noqa: BLE001 (the test inspects it)
        return time.monotonic() - began, exc
    return time.monotonic() - began, None


@pytest.fixture
def fine(runtime: Runtime, root: MOS, llm_server: FakeOpenAI, uid: Callable[[str], str]) -> tuple[MOS, str, str]:
    """A fine-mode MOS on the fake model (1 s timeout, 1 retry, 2 attempts per window), a user and its cube."""
    config = runtime.config.model_copy(
        update={
            "llm": llm_settings(llm_server),
            "ingest": IngestSettings(mode="fine", messages_per_call=2, max_llm_calls=2, max_attempts=2),
        }
    )
    mos = MOS(config, runtime=replace(runtime, config=config))
    user = root.create_user(uid("caroline"), UserRole.USER)
    return mos, user, root.create_cube_for_user("facts", owner_id=user)


@pytest.fixture
def chatter(runtime: Runtime, root: MOS, llm_server: FakeOpenAI, uid: Callable[[str], str]) -> tuple[MOS, str]:
    """A MOS with the chat model on the fake server, acting as a new user who has one memory."""
    user = root.create_user(uid("chatter"), UserRole.USER)
    cube = root.create_cube_for_user("notes", owner_id=user)
    root.add(memory_content=["The user plays football every Saturday"], mem_cube_id=cube, user_id=user)
    config = runtime.config.model_copy(update={"llm": llm_settings(llm_server), "user_id": user})
    return MOS(config, runtime=replace(runtime, config=config)), user


@pytest.fixture(scope="module", autouse=True)
def warm_litellm(llm_server: FakeOpenAI) -> None:
    """One good completion before the timed calls: the first litellm call of a process imports and sets up
    litellm and its HTTP client (seconds, more on a busy machine), which is not what the bounds below time.
    A clean-clone CI run once spent 13.6 s in the first failing call against a 9 s bound."""
    llm_server.reset(GOOD_FACTS)
    assert LiteLLMChat(llm_settings(llm_server)).complete([{"role": "user", "content": "ready?"}]) == GOOD_FACTS


def graph_counts(runtime: Runtime, cube: str) -> tuple[int, int]:
    return count_nodes(runtime, "Memory", cube_id=cube), count_nodes(runtime, "Message", cube_id=cube)


@pytest.mark.parametrize("fault", sorted(BODY_FAULTS))
def test_fine_ingestion_survives_a_failing_model(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime, fault: str
) -> None:
    mos, user, cube = fine
    llm_server.reset("unused", **BODY_FAULTS[fault])
    seconds, error = timed(lambda: mos.add(messages=CHAT, mem_cube_id=cube, user_id=user))
    assert isinstance(error, BackendUnavailable), repr(error)
    assert "chat model" in error.message
    assert seconds <= call_bound_s(llm_settings(llm_server)), f"{fault}: {seconds:.1f}s"
    assert 1 <= len(llm_server.requests) <= requests_per_call(RETRIES)
    assert graph_counts(runtime, cube) == (0, 0)

    llm_server.reset(GOOD_FACTS)
    (memory_id,) = mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)
    assert mos.get(cube, memory_id, user_id=user).memory.startswith("Caroline attended")
    assert graph_counts(runtime, cube) == (1, 2)


@pytest.mark.parametrize("fault", sorted(ANSWER_FAULTS))
def test_fine_ingestion_refuses_garbage_answers(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime, fault: str
) -> None:
    mos, user, cube = fine
    llm_server.reset(ANSWER_FAULTS[fault])
    seconds, error = timed(lambda: mos.add(messages=CHAT, mem_cube_id=cube, user_id=user))
    assert isinstance(error, BackendUnavailable), repr(error)
    assert "unusable" in error.message
    assert len(llm_server.requests) == mos.config.ingest.max_attempts  # one request per attempt: no HTTP retry
    assert seconds <= call_bound_s(llm_settings(llm_server), mos.config.ingest.max_attempts)
    assert graph_counts(runtime, cube) == (0, 0)

    llm_server.reset(ANSWER_FAULTS[fault], GOOD_FACTS)  # junk once, then a usable answer: the retry succeeds
    assert len(mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)) == 1
    assert graph_counts(runtime, cube) == (1, 2)


@pytest.mark.parametrize("fault", sorted(BODY_FAULTS))
def test_chat_survives_a_failing_model(
    chatter: tuple[MOS, str], llm_server: FakeOpenAI, runtime: Runtime, fault: str
) -> None:
    mos, user = chatter
    llm_server.reset("unused", **BODY_FAULTS[fault])
    seconds, error = timed(lambda: mos.chat("What do I do on Saturdays?"))
    assert isinstance(error, BackendUnavailable), repr(error)
    assert seconds <= call_bound_s(llm_settings(llm_server)), f"{fault}: {seconds:.1f}s"
    assert count_nodes(runtime, "ChatTurn", user_id=user) == 0  # no question without its answer

    llm_server.reset("You play football on Saturdays.")
    assert mos.chat("What do I do on Saturdays?") == "You play football on Saturdays."
    assert count_nodes(runtime, "ChatTurn", user_id=user) == 2
    prompt = llm_server.requests[-1]["messages"]
    assert [m["role"] for m in prompt] == ["system", "user"]  # the failed exchange left no history behind


def test_retry_count_matches_config(chatter: tuple[MOS, str], llm_server: FakeOpenAI, runtime: Runtime) -> None:
    """llm.num_retries=N should mean N + 1 requests for a failing model."""
    mos, _ = chatter
    configured = 2
    config = mos.config.model_copy(update={"llm": llm_settings(llm_server, num_retries=configured)})
    retrying = MOS(config, runtime=replace(runtime, config=config))
    llm_server.reset("unused", status=500)
    with pytest.raises(BackendUnavailable):
        retrying.chat("Anyone there?")
    made = len(llm_server.requests)
    assert made in (configured + 1, requests_per_call(configured)), made
    if made != configured + 1:
        # Known: LiteLLMChat passes num_retries to litellm.completion, which hands it to the OpenAI client as
        # max_retries and then, on failure, retries num_retries more times itself.
        pytest.xfail(f"num_retries={configured} made {made} requests, not {configured + 1}")


# -- the same over GraphQL ---------------------------------------------------------------------------

ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }"
ASK = "mutation($q: String!) { chat(query: $q) }"


@pytest.fixture
def api(
    runtime: Runtime, root: MOS, llm_server: FakeOpenAI, uid: Callable[[str], str]
) -> Iterator[tuple[Callable[..., Any], str, str]]:
    """The ASGI app in fine mode on the fake model; a user with a key and a cube. Yields (post, user, cube)."""
    config = runtime.config.model_copy(
        update={
            "llm": llm_settings(llm_server),
            "ingest": IngestSettings(mode="fine", messages_per_call=2, max_llm_calls=2, max_attempts=2),
        }
    )
    fine_runtime = replace(runtime, config=config)
    user = root.create_user(uid("api"), UserRole.USER)
    cube = root.create_cube_for_user("api", owner_id=user)
    key = new_api_key()
    Services.over(fine_runtime).identity.set_key(user, key)
    with TestClient(create_app(runtime=fine_runtime)) as client:

        def post(query: str, **variables: Any) -> tuple[int, dict[str, Any]]:
            response = client.post(
                "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
            )
            body: dict[str, Any] = response.json()
            return response.status_code, body

        yield post, user, cube


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


@pytest.mark.parametrize("fault", ["slower-than-timeout", "http-500", "truncated-json"])
def test_graphql_reports_unavailable_and_writes_nothing(
    api: tuple[Callable[..., Any], str, str], llm_server: FakeOpenAI, runtime: Runtime, fault: str
) -> None:
    post, user, cube = api
    messages = [
        {
            "role": m["role"],
            "content": m["content"],
            "chatTime": m["chat_time"],
            "messageId": m["message_id"],
            "name": m["name"],
        }
        for m in CHAT
    ]
    bound = call_bound_s(llm_settings(llm_server))
    for query, variables in ((ADD, {"input": {"cubeId": cube, "messages": messages}}), (ASK, {"q": "Saturdays?"})):
        llm_server.reset("unused", **BODY_FAULTS[fault])
        began = time.monotonic()
        status, body = post(query, **variables)
        assert time.monotonic() - began <= bound
        assert status == 200 and codes(body) == ["UNAVAILABLE"], body
        assert body["data"] is None
    assert graph_counts(runtime, cube) == (0, 0)
    assert count_nodes(runtime, "ChatTurn", user_id=user) == 0

    llm_server.reset(GOOD_FACTS)
    status, body = post(ADD, input={"cubeId": cube, "messages": messages})
    assert status == 200 and body.get("errors") is None and len(body["data"]["addMemories"]["ids"]) == 1
    llm_server.reset("You went to a support group.")
    status, body = post(ASK, q="Where did I go?")
    assert body == {"data": {"chat": "You went to a support group."}}
    assert graph_counts(runtime, cube) == (1, 2)
    assert count_nodes(runtime, "ChatTurn", user_id=user) == 2
