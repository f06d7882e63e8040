"""add(messages=...) in fast mode: one memory per message, provenance kept, conversations linked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memos_graph import MOS, InvalidInput, UserRole
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j

CONVERSATION = [
    {
        "role": "user",
        "name": "Caroline",
        "content": "I went to the LGBTQ support group yesterday.",
        "chat_time": "1:56 pm on 8 May, 2023",
        "message_id": "D1:3",
    },
    {
        "role": "assistant",
        "name": "Melanie",
        "content": "That's great! How did it feel?",
        "chat_time": "1:56 pm on 8 May, 2023",
        "message_id": "D1:4",
    },
    {
        "role": "user",
        "name": "Caroline",
        "content": "Really empowering, I'm going back next week.",
        "chat_time": "1:56 pm on 8 May, 2023",
        "message_id": "D1:5",
    },
]


@pytest.fixture
def cube_of(root: MOS, uid: Callable[[str], str]) -> tuple[str, str]:
    user = root.create_user(uid("caroline"), UserRole.USER)
    return user, root.create_cube_for_user("chat", owner_id=user)


def test_messages_become_memories_with_sources(root: MOS, cube_of: tuple[str, str], runtime: Runtime) -> None:
    user, cube = cube_of
    ids = root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user, session_id="s1")
    assert len(ids) == 3
    first = root.get(cube, ids[0], user_id=user)
    assert first.memory == "[1:56 pm on 8 May, 2023] Caroline: I went to the LGBTQ support group yesterday."
    assert first.metadata.source == "conversation" and first.metadata.session_id == "s1"
    (source,) = first.metadata.sources
    assert (source.type, source.role, source.message_id, source.chat_time) == (
        "chat",
        "user",
        "D1:3",
        "1:56 pm on 8 May, 2023",
    )
    assert source.content == CONVERSATION[0]["content"]
    edges = runtime.store.run_statement(
        "MATCH (m:Memory)-[:DERIVED_FROM {kind: 'message'}]->(msg:Message) WHERE m.cube_id = $c "
        "RETURN msg.message_id AS id, msg.role AS role ORDER BY id",
        c=cube,
    )
    assert [(r["id"], r["role"]) for r in edges] == [("D1:3", "user"), ("D1:4", "assistant"), ("D1:5", "user")]
    chain = runtime.store.run_statement(
        "MATCH p = (a:Message {cube_id: $c})-[:NEXT*]->(b:Message) "
        "WHERE NOT ()-[:NEXT]->(a) AND NOT (b)-[:NEXT]->() RETURN [n IN nodes(p) | n.message_id] AS ids",
        c=cube,
    )
    assert [r["ids"] for r in chain] == [["D1:3", "D1:4", "D1:5"]]


def test_search_returns_message_provenance(root: MOS, cube_of: tuple[str, str]) -> None:
    user, cube = cube_of
    root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user)
    hits = root.search("When did Caroline go to the support group?", user_id=user, top_k=1)
    (item,) = hits["text_mem"][0]["memories"]
    assert [s.message_id for s in item.metadata.sources] == ["D1:3"]


def test_re_adding_a_conversation_adds_nothing(root: MOS, cube_of: tuple[str, str], runtime: Runtime) -> None:
    user, cube = cube_of
    first = root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user)
    again = root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user)
    assert again == first
    assert count_nodes(runtime, "Memory", cube_id=cube) == 3
    assert count_nodes(runtime, "Message", cube_id=cube) == 3


def test_delete_removes_the_message_too(root: MOS, cube_of: tuple[str, str], runtime: Runtime) -> None:
    user, cube = cube_of
    ids = root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user)
    root.delete(cube, ids[1], user_id=user)
    assert count_nodes(runtime, "Message", cube_id=cube) == 2
    root.delete_all(cube, user_id=user)
    assert count_nodes(runtime, "Message", cube_id=cube) == 0
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


@pytest.mark.parametrize(
    "messages",
    [
        [],
        "hello",
        [{"role": "user"}],
        [{"role": "robot", "content": "beep"}],
        [{"role": "user", "content": "ok"}, {"role": "user", "content": "   "}],
        [{"role": "user", "content": "ok"}, "not a dict"],
        [{"role": "user", "content": "ok", "chat_time": 5}],
    ],
)
def test_bad_messages_write_nothing(root: MOS, cube_of: tuple[str, str], runtime: Runtime, messages: object) -> None:
    user, cube = cube_of
    with pytest.raises(InvalidInput):
        root.add(messages=messages, mem_cube_id=cube, user_id=user)  # type: ignore[arg-type]
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0
    assert count_nodes(runtime, "Message", cube_id=cube) == 0


def test_context_window_shapes_the_vector_not_the_text(runtime: Runtime, cube_of: tuple[str, str]) -> None:
    import dataclasses

    user, cube = cube_of
    ingest = runtime.config.ingest.model_copy(update={"context_messages": 1})
    windowed = dataclasses.replace(runtime, config=runtime.config.model_copy(update={"ingest": ingest}))
    mos = MOS(windowed.config, runtime=windowed)
    ids = mos.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user, session_id="s1")
    second = mos.memories.get(mos.cubes.actor(user), cube, ids[1], include_embedding=True)
    assert second.memory == "[1:56 pm on 8 May, 2023] Melanie: That's great! How did it feel?"
    (expected,) = runtime.embedder.embed(
        [
            "[1:56 pm on 8 May, 2023] Melanie: That's great! How did it feel? "
            "(after: Caroline: I went to the LGBTQ support group yesterday.)"
        ]
    )
    (plain,) = runtime.embedder.embed([second.memory])
    vector = second.metadata.embedding or []

    def cosine(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return float(dot / (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5)

    assert cosine(vector, expected) > 0.9999
    assert cosine(vector, plain) < 0.999
