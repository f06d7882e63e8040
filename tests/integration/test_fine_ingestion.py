"""Fine mode: the chat model (behind litellm, against the local fake server) extracts facts; dedup updates
stored facts instead of copying them; junk or failures leave nothing behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from memos_graph import MOS, BackendUnavailable, InvalidInput, UserRole
from memos_graph.config import IngestSettings, LLMSettings
from memos_graph.services.extraction import parse_facts
from memos_graph.services.runtime import Runtime
from testkit.conversations import SUPPORT_GROUP_CHAT
from testkit.fake_llm import FakeOpenAI
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j

CHAT = SUPPORT_GROUP_CHAT


def facts(*items: tuple[str, list[str]]) -> str:
    return json.dumps(
        {"facts": [{"text": text, "type": "event", "message_ids": ids, "confidence": 90} for text, ids in items]}
    )


@pytest.fixture
def fine(runtime: Runtime, root: MOS, llm_server: FakeOpenAI, uid: Callable[[str], str]) -> tuple[MOS, str, str]:
    """A MOS in fine mode with the chat model on the fake server (no litellm retries), a user and its cube."""
    config = runtime.config.model_copy(
        update={
            "llm": LLMSettings(model="openai/extractor", api_base=llm_server.url, api_key="sk-test", num_retries=0),
            "ingest": IngestSettings(mode="fine", messages_per_call=2, max_llm_calls=3, max_attempts=2),
        }
    )
    mos = MOS(config, runtime=replace(runtime, config=config))
    user = root.create_user(uid("caroline"), UserRole.USER)
    return mos, user, root.create_cube_for_user("facts", owner_id=user)


def test_facts_become_memories_derived_from_their_messages(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime
) -> None:
    mos, user, cube = fine
    llm_server.reset(
        facts(
            ("Caroline attended an LGBTQ support group on 7 May 2023.", ["D1:3"]),
            ("Caroline has a painting hobby that Melanie knows about.", ["D1:3", "D1:4"]),
        ),
        facts(("Caroline mostly paints sunsets.", ["D1:5"])),
    )
    ids = mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)
    assert len(llm_server.requests) == 2  # 3 messages, 2 per call
    assert (
        "[D1:3] 8 May 2023 Caroline: I went to the LGBTQ support group yesterday."
        in (llm_server.requests[0]["messages"][1]["content"])
    )
    items = {mos.get(cube, memory_id, user_id=user).memory: memory_id for memory_id in ids}
    assert set(items) == {
        "Caroline attended an LGBTQ support group on 7 May 2023.",
        "Caroline has a painting hobby that Melanie knows about.",
        "Caroline mostly paints sunsets.",
    }
    hobby = items["Caroline has a painting hobby that Melanie knows about."]
    painting = mos.get(cube, hobby, user_id=user)
    assert [s.message_id for s in painting.metadata.sources] == ["D1:3", "D1:4"]
    assert painting.metadata.type == "event" and painting.metadata.confidence == 90
    edges = runtime.store.run_statement(
        "MATCH (m:Memory {id: $m})-[:DERIVED_FROM {kind: 'message'}]->(msg:Message) RETURN msg.key AS key ORDER BY key",
        m=hobby,
    )
    assert [r["key"] for r in edges] == ["D1:3", "D1:4"]
    assert count_nodes(runtime, "Message", cube_id=cube) == 3


def test_a_repeated_fact_updates_the_stored_memory(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime
) -> None:
    mos, user, cube = fine
    llm_server.reset(facts(("Caroline attended an LGBTQ support group on 7 May 2023.", ["D1:3"])))
    (first,) = mos.add(messages=CHAT[:1], mem_cube_id=cube, user_id=user)
    later = [{**CHAT[0], "message_id": "D2:1", "content": "Remember, I went to that support group on May 7."}]
    llm_server.reset(facts(("Caroline attended an LGBTQ support group on May 7, 2023.", ["D2:1"])))
    assert mos.add(messages=later, mem_cube_id=cube, user_id=user) == [first]
    assert count_nodes(runtime, "Memory", cube_id=cube) == 1
    item = mos.get(cube, first, user_id=user)
    assert item.memory == "Caroline attended an LGBTQ support group on May 7, 2023."
    assert item.metadata.version == 2
    assert [s.message_id for s in item.metadata.sources] == ["D1:3", "D2:1"]
    history = mos.get_history(cube, first, user_id=user)
    assert [h.memory for h in history] == ["Caroline attended an LGBTQ support group on 7 May 2023."]


def test_junk_answers_are_retried_then_refused_leaving_nothing(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime
) -> None:
    mos, user, cube = fine
    llm_server.reset("Sure! Here are the facts: Caroline likes groups.")
    with pytest.raises(BackendUnavailable, match="unusable"):
        mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)
    assert len(llm_server.requests) == 2  # max_attempts for the first window, then it gives up
    llm_server.reset(facts(("A fact about a message that was never sent.", ["D9:9"])))
    with pytest.raises(BackendUnavailable):
        mos.add(messages=CHAT[:1], mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0
    assert count_nodes(runtime, "Message", cube_id=cube) == 0


def test_llm_failure_midway_leaves_nothing(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime
) -> None:
    mos, user, cube = fine
    llm_server.reset(facts(("Caroline went to a support group.", ["D1:3"])), "not json at all")
    with pytest.raises(BackendUnavailable):
        mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)  # the second window's call fails
    llm_server.reset(status=500)
    with pytest.raises(BackendUnavailable):
        mos.add(messages=CHAT, mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0
    assert count_nodes(runtime, "Message", cube_id=cube) == 0


def test_llm_calls_are_bounded(fine: tuple[MOS, str, str], llm_server: FakeOpenAI) -> None:
    mos, user, cube = fine
    llm_server.reset(facts())
    many = [{"role": "user", "content": f"message {i}"} for i in range(7)]  # 4 calls at 2 per call; limit 3
    with pytest.raises(InvalidInput, match="limit is 3"):
        mos.add(messages=many, mem_cube_id=cube, user_id=user)
    assert llm_server.requests == []


def test_parse_facts_accepts_fenced_json_and_rejects_junk() -> None:
    fenced = "```json\n" + facts(("X likes tea.", ["a"])) + "\n```"
    assert [f.text for f in parse_facts(fenced, {"a"})] == ["X likes tea."]
    for junk in ("", "[]", '{"facts": [{"text": "no ids"}]}', '{"facts": "many"}'):
        with pytest.raises(ValueError):
            parse_facts(junk, {"a"})


def test_a_chinese_conversation_is_extracted_in_chinese(
    fine: tuple[MOS, str, str], llm_server: FakeOpenAI, runtime: Runtime
) -> None:
    # The prompt is in English; without the instruction models tend to answer in English, and a Chinese
    # question then has to find an English memory.
    mos, user, cube = fine
    chat = [
        {
            "role": "user",
            "name": "小王",
            "content": "我下个月要去成都出差。",
            "message_id": "c1",
            "chat_time": "2024-03-01",
        },
        {"role": "assistant", "content": "一路顺风！", "message_id": "c2", "chat_time": "2024-03-01"},
    ]
    llm_server.reset(facts(("小王2024年4月要去成都出差。", ["c1"])))
    (memory_id,) = mos.add(messages=chat, mem_cube_id=cube, user_id=user)
    (request,) = llm_server.requests
    system, conversation = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "in the language of the conversation" in system and "Never translate" in system
    assert "[c1] 2024-03-01 小王: 我下个月要去成都出差。" in conversation
    assert mos.get(cube, memory_id, user_id=user).memory == "小王2024年4月要去成都出差。"
