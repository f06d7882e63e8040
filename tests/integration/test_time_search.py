"""Time-aware memories and search on the real Neo4j: event times stored on add and update, the event-time
filter in search and listings, times named in questions (with reference_time), "when" questions, the speaker
boost, and tenant independence of all of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from memos_graph import MOS, InvalidInput
from memos_graph.maintenance import backfill_event_times
from memos_graph.services.runtime import Runtime

pytestmark = pytest.mark.neo4j

UTC = dt.UTC


def texts(result: dict[str, Any]) -> list[str]:
    return [item.memory for group in result["text_mem"] for item in group["memories"]]


def contents(result: dict[str, Any]) -> list[str]:
    return [item.metadata.sources[0].content for group in result["text_mem"] for item in group["memories"]]


def session(chat_time: str, *lines: tuple[str, str]) -> list[dict[str, str]]:
    """Messages of one session, the speaker inside the content as MemOS users write it."""
    return [
        {"role": "user" if n % 2 == 0 else "assistant", "content": f"{who}: {text}", "chat_time": chat_time}
        for n, (who, text) in enumerate(lines)
    ]


def by_content(mos: MOS, cube: str, user: str) -> dict[str, Any]:
    items = mos.get_all(mem_cube_id=cube, user_id=user)["text_mem"][0]["memories"]
    return {item.metadata.sources[0].content if item.metadata.sources else item.memory: item for item in items}


def test_add_stores_each_memorys_event_time(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("mel"))
    cube = root.create_cube_for_user("mel", owner_id=user)
    root.add(
        messages=session(
            "1:56 pm on 8 May, 2023",
            ("Melanie", "I ran a charity race last Sunday"),
            ("Caroline", "Wow, well done!"),
        ),
        mem_cube_id=cube,
        user_id=user,
    )
    root.add(
        messages=[{"role": "user", "content": "小明：我昨天去了北京", "chat_time": "2023-05-08T09:00:00+08:00"}],
        mem_cube_id=cube,
        user_id=user,
    )
    root.add(memory_content=["Melanie keeps bees"], mem_cube_id=cube, user_id=user)
    stored = by_content(root, cube, user)
    race = stored["Melanie: I ran a charity race last Sunday"].metadata
    assert (race.memory_time, race.event_start, race.event_end, race.time_source) == (
        "2023-05-07",
        "2023-05-07T00:00:00Z",
        "2023-05-08T00:00:00Z",
        "text",
    )
    praise = stored["Caroline: Wow, well done!"].metadata
    assert (praise.memory_time, praise.time_source) == ("2023-05-08", "chat_time")
    beijing = stored["小明：我昨天去了北京"].metadata
    # yesterday in Beijing time: 7 May 00:00 +08:00 is 6 May 16:00 UTC
    assert (beijing.memory_time, beijing.event_start, beijing.time_source) == (
        "2023-05-07",
        "2023-05-06T16:00:00Z",
        "text",
    )
    bees = stored["Melanie keeps bees"].metadata
    assert bees.time_source == "added" and bees.memory_time == dt.datetime.now(UTC).date().isoformat()


def test_update_reads_the_event_time_again(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("upd"))
    cube = root.create_cube_for_user("upd", owner_id=user)
    root.add(messages=session("2023-05-08", ("Ana", "I baked bread")), mem_cube_id=cube, user_id=user)
    (item,) = by_content(root, cube, user).values()
    assert item.metadata.time_source == "chat_time"
    root.update(cube, item.id, {"memory": "Ana baked bread yesterday"}, user_id=user)
    updated = root.get(cube, item.id, user_id=user)
    assert (updated.metadata.memory_time, updated.metadata.time_source) == ("2023-05-07", "text")
    root.update(cube, item.id, {"memory": "Ana baked bread", "metadata": {"memory_time": "2021-03-04"}}, user_id=user)
    moved = root.get(cube, item.id, user_id=user)
    assert (moved.metadata.memory_time, moved.metadata.event_start, moved.metadata.time_source) == (
        "2021-03-04",
        "2021-03-04T00:00:00Z",
        "caller",
    )
    # a caller's memory_time survives a text change; server-kept fields are not taken from the caller
    change = {"memory": "Ana baked rye bread", "metadata": {"event_start": "1999-01-01T00:00:00Z"}}
    root.update(cube, item.id, change, user_id=user)
    again = root.get(cube, item.id, user_id=user)
    assert (again.metadata.memory_time, again.metadata.event_start) == ("2021-03-04", "2021-03-04T00:00:00Z")


def test_the_event_time_filter_applies_to_search_and_listings(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("filt"))
    cube = root.create_cube_for_user("filt", owner_id=user)
    for when in ("2023-03-10", "2023-05-08", "2023-07-20"):
        root.add(
            messages=session(when, ("Joanna", f"I walked my dog by the lake ({when})")), mem_cube_id=cube, user_id=user
        )
    may = {"time_from": dt.datetime(2023, 5, 1, tzinfo=UTC), "time_before": dt.datetime(2023, 6, 1, tzinfo=UTC)}
    found = root.search("Where does Joanna walk her dog?", user_id=user, install_cube_ids=[cube], filter=may)
    assert contents(found) == ["Joanna: I walked my dog by the lake (2023-05-08)"]
    listed = root.get_all(mem_cube_id=cube, user_id=user, filter={"time_from": dt.datetime(2023, 5, 8, 12, tzinfo=UTC)})
    assert sorted(contents(listed)) == [
        "Joanna: I walked my dog by the lake (2023-05-08)",  # its day overlaps from noon on
        "Joanna: I walked my dog by the lake (2023-07-20)",
    ]
    for bad in (
        {"time_from": dt.datetime(2023, 5, 1)},  # no timezone
        {"time_from": dt.datetime(2023, 6, 1, tzinfo=UTC), "time_before": dt.datetime(2023, 5, 1, tzinfo=UTC)},
    ):
        with pytest.raises(InvalidInput, match="filter"):
            root.search("dog", user_id=user, install_cube_ids=[cube], filter=bad)


def test_a_time_named_in_the_question_favours_memories_of_that_time(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("when"))
    cube = root.create_cube_for_user("when", owner_id=user)
    for when in ("2023-03-10", "2023-05-08", "2023-07-20", "2023-09-02"):
        root.add(
            messages=session(when, ("Nate", "I played in a video game tournament")), mem_cube_id=cube, user_id=user
        )
    root.add(messages=session("2023-05-08", ("Nate", "What a day!")), mem_cube_id=cube, user_id=user)

    def first_time(query: str, reference: dt.datetime | str | None = None) -> str | None:
        found = root.search(query, user_id=user, install_cube_ids=[cube], top_k=4, reference_time=reference)
        first: str | None = found["text_mem"][0]["memories"][0].metadata.memory_time
        return first

    assert first_time("Which tournament did Nate play in July 2023?") == "2023-07-20"
    assert first_time("Which tournament did Nate play in March 2023?") == "2023-03-10"
    assert first_time("Nate 2023年9月参加了什么比赛?") == "2023-09-02"
    # relative times in the question read against reference_time (text or datetime)
    assert first_time("What tournament did Nate play last week?", "2023-05-12T10:00:00+00:00") == "2023-05-08"
    assert first_time("What tournament did Nate play last month?", dt.datetime(2023, 8, 15, tzinfo=UTC)) == "2023-07-20"
    for bad in ("next tuesday-ish", 12):
        with pytest.raises(InvalidInput, match="reference_time"):
            root.search("tournament", user_id=user, install_cube_ids=[cube], reference_time=bad)  # type: ignore[arg-type]


def conversation_cube(
    root: MOS, uid: Callable[[str], str], name: str, chat_time: str, *lines: tuple[str, str]
) -> tuple[str, str]:
    """A new user and cube holding one session of the given lines; (user, cube)."""
    user = root.create_user(uid(name))
    cube = root.create_cube_for_user(name, owner_id=user)
    root.add(messages=session(chat_time, *lines), mem_cube_id=cube, user_id=user)
    return user, cube


def stated_time_effect(
    root: MOS, runtime: Runtime, user: str, cube: str, question: str
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Each memory's relativity for the question (top 2, by content) with the stated-time boost and without."""
    search = runtime.config.search.model_copy(update={"stated_time_boost": 0.0})
    plain = MOS(runtime=replace(runtime, config=runtime.config.model_copy(update={"search": search})))

    def scores(mos: MOS) -> dict[str, float | None]:
        found = mos.search(question, user_id=user, install_cube_ids=[cube], top_k=2)["text_mem"][0]["memories"]
        return {item.metadata.sources[0].content: item.metadata.relativity for item in found}

    return scores(root), scores(plain)


def test_when_questions_favour_memories_that_state_a_time(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    user, cube = conversation_cube(
        root,
        uid,
        "stated",
        "2023-06-27",
        ("Melanie", "We love going camping as a family"),
        ("Melanie", "We went camping last weekend"),
    )
    boost = runtime.config.search.stated_time_boost
    assert boost > 0
    stated, unstated = "Melanie: We went camping last weekend", "Melanie: We love going camping as a family"
    with_boost, without = stated_time_effect(root, runtime, user, cube, "When did Melanie go camping?")
    assert with_boost[stated] == pytest.approx(min(1.0, (without[stated] or 0.0) + boost))
    assert with_boost[unstated] == pytest.approx(without[unstated])
    # not a "when" question: nothing changes
    with_boost, without = stated_time_effect(root, runtime, user, cube, "Does Melanie go camping?")
    assert with_boost == without


def test_how_long_questions_favour_memories_that_state_a_duration(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    user, cube = conversation_cube(
        root,
        uid,
        "duration",
        "2:01 pm on 23 January, 2022",
        ("Nate", "My turtles love lettuce and slow walks"),
        ("Nate", "I've had my turtles for 3 years now"),
    )
    stored = by_content(root, cube, user)
    duration = stored["Nate: I've had my turtles for 3 years now"].metadata
    # a duration states a time, but the event stays the day it was said
    assert (duration.time_source, duration.memory_time) == ("text", "2022-01-23")
    assert stored["Nate: My turtles love lettuce and slow walks"].metadata.time_source == "chat_time"
    with_boost, without = stated_time_effect(root, runtime, user, cube, "How long has Nate had his turtles?")
    stated = "Nate: I've had my turtles for 3 years now"
    boost = runtime.config.search.stated_time_boost
    assert with_boost[stated] == pytest.approx(min(1.0, (without[stated] or 0.0) + boost))
    unstated = "Nate: My turtles love lettuce and slow walks"
    assert with_boost[unstated] == pytest.approx(without[unstated])


def test_the_speaker_named_in_the_question_comes_first(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("speaker"))
    cube = root.create_cube_for_user("speaker", owner_id=user)
    root.add(
        messages=session(
            "2023-08-23",
            ("Caroline", "Thanks, Melanie! Art helps me destress after work"),
            ("Melanie", "Running and pottery help me destress"),
        ),
        mem_cube_id=cube,
        user_id=user,
    )
    settings = root.runtime.config.search
    assert settings.speaker_boost > 0
    found = root.search("What does Melanie do to destress?", user_id=user, install_cube_ids=[cube], top_k=2)
    assert contents(found)[0] == "Melanie: Running and pottery help me destress"
    found = root.search("What does Caroline do to destress?", user_id=user, install_cube_ids=[cube], top_k=2)
    assert contents(found)[0] == "Caroline: Thanks, Melanie! Art helps me destress after work"


def test_another_tenants_memories_of_the_same_time_change_nothing(root: MOS, uid: Callable[[str], str]) -> None:
    alice, bob = root.create_user(uid("alice")), root.create_user(uid("bob"))
    mine = root.create_cube_for_user("alice", owner_id=alice)
    theirs = root.create_cube_for_user("bob", owner_id=bob)
    for when in ("2023-03-10", "2023-05-08", "2023-07-20"):
        root.add(messages=session(when, ("Alice", "I visited the museum")), mem_cube_id=mine, user_id=alice)
    question = "Which museum did Alice visit in May 2023?"

    def snapshot() -> list[tuple[str, float | None]]:
        found = root.search(question, user_id=alice, install_cube_ids=[mine], top_k=3)
        return [(item.id, item.metadata.relativity) for item in found["text_mem"][0]["memories"]]

    before = snapshot()
    for n in range(3):
        root.add(
            messages=session(
                "2023-05-08", *[("Alice", f"I visited the museum again, room {n}-{i}") for i in range(20)]
            ),
            mem_cube_id=theirs,
            user_id=bob,
        )
    assert snapshot() == before
    with_time = {"time_from": dt.datetime(2023, 5, 1, tzinfo=UTC), "time_before": dt.datetime(2023, 6, 1, tzinfo=UTC)}
    seen = root.search(question, user_id=alice, top_k=50, filter=with_time)
    assert {group["cube_id"] for group in seen["text_mem"]} == {mine}
    assert len(texts(seen)) == 1


def test_maintenance_gives_old_memories_their_event_time(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    """A graph written before event times existed: the maintenance task reads them as an add would."""
    user = root.create_user(uid("old"))
    cube = root.create_cube_for_user("old", owner_id=user)
    root.add(
        messages=session("1:56 pm on 8 May, 2023", ("Melanie", "I ran a race last Sunday"), ("Caroline", "Nice!")),
        mem_cube_id=cube,
        user_id=user,
    )
    root.add(memory_content=["Melanie keeps bees"], mem_cube_id=cube, user_id=user)
    fields = ("memory_time", "event_start", "event_end", "time_source")

    def times() -> dict[str, tuple[Any, ...]]:
        return {
            text: tuple(getattr(item.metadata, f) for f in fields)
            for text, item in by_content(root, cube, user).items()
        }

    expected = times()
    runtime.store.run_statement(
        "MATCH (m:Memory) WHERE m.cube_id = $cube REMOVE m.memory_time, m.event_start, m.event_end, m.time_source",
        cube=cube,
    )
    assert all(value == (None, None, None, None) for value in times().values())
    assert backfill_event_times(runtime.store, UTC, page_size=2) >= 3
    assert times() == expected
    assert backfill_event_times(runtime.store, UTC) == 0  # nothing left to do
