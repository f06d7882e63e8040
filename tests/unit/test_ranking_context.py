"""The boosts a question gives memories after fusion: time named, time asked for, speaker named."""

from __future__ import annotations

import datetime as dt

import pytest

from memos_graph.domain import SourceReference, TextualMemoryItem, TextualMemoryMetadata
from memos_graph.ranking.context import Weights, boost, names, read_question, rerank, speaker, without_speaker

ASKED = dt.datetime(2024, 1, 10, tzinfo=dt.UTC)
WEIGHTS = Weights(time_match=0.05, stated_time=0.06, speaker=0.1)


def memory(
    content: str, name: str | None = None, start: str | None = None, end: str | None = None, source: str | None = None
) -> TextualMemoryItem:
    extra = {"name": name} if name else {}
    chat = SourceReference(type="chat", role="user", chat_time="2023-05-08", content=content, **extra)
    metadata = TextualMemoryMetadata(sources=[chat], event_start=start, event_end=end, time_source=source)
    return TextualMemoryItem(memory=f"[2023-05-08] {name or 'user'}: {content}", metadata=metadata)


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ("I love hiking", "Melanie", "Melanie"),
        ("Melanie: I love hiking", None, "Melanie"),
        ("小明：我喜欢爬山", None, "小明"),
        ("Joanna Smith: hi there", None, "Joanna Smith"),
        ("user: hi", None, None),
        ("I love hiking: it is great", None, None),
        ("I love hiking", None, None),
    ],
)
def test_speaker_is_the_name_or_a_name_opening_the_content(
    content: str, name: str | None, expected: str | None
) -> None:
    assert speaker(memory(content, name)) == expected


def test_a_memory_without_a_message_has_no_speaker() -> None:
    assert speaker(TextualMemoryItem(memory="Melanie: likes hiking")) is None


@pytest.mark.parametrize(
    ("question", "who", "expected"),
    [
        ("What does Melanie do to destress?", "Melanie", True),
        ("What are Melanie's hobbies?", "Melanie", True),
        ("What does Mel do?", "Melanie", False),
        ("What does Melanie do?", "Mel", False),
        ("小明喜欢什么?", "小明", True),
        ("小红喜欢什么?", "小明", False),
    ],
)
def test_names(question: str, who: str, expected: bool) -> None:
    assert names(question, who) is expected


def test_boosts_add_up_for_the_memory_that_fits() -> None:
    question = read_question("When did Melanie run a race in May 2023?", ASKED)
    fits = memory("I ran a race yesterday", "Melanie", "2023-05-07T00:00:00Z", "2023-05-08T00:00:00Z", "text")
    assert boost(fits, question, WEIGHTS) == pytest.approx(0.05 + 0.06 + 0.1)
    other_time = memory("I ran a race yesterday", "Melanie", "2022-05-07T00:00:00Z", "2022-05-08T00:00:00Z", "text")
    assert boost(other_time, question, WEIGHTS) == pytest.approx(0.06 + 0.1)
    said_to = memory("Wow Melanie, well done!", "Caroline", "2023-05-08T00:00:00Z", "2023-05-09T00:00:00Z", "chat_time")
    assert boost(said_to, question, WEIGHTS) == pytest.approx(0.05)
    assert boost(fits, question, Weights()) == 0.0


def test_a_memory_without_event_times_earns_no_time_boost() -> None:
    question = read_question("What happened in May 2023?", ASKED)
    assert boost(memory("something"), question, WEIGHTS) == 0.0


def test_rerank_moves_the_boosted_memory_up_and_stays_in_the_unit_interval() -> None:
    question = read_question("What does Melanie do to destress?", ASKED)
    to_her = memory("Thanks, Melanie! Art helps me destress", "Caroline")
    hers = memory("Running helps me clear my head", "Melanie")
    ranked = rerank([(to_her, 0.40), (hers, 0.35)], question, WEIGHTS)
    assert [item.id for item, _ in ranked] == [hers.id, to_her.id]
    assert ranked[0][1] == pytest.approx(0.45)
    assert rerank([(hers, 0.97)], question, WEIGHTS)[0][1] == 1.0
    # no weights: the ranking is returned as it came
    unchanged = [(to_her, 0.40), (hers, 0.35)]
    assert rerank(unchanged, question, Weights()) == unchanged


def test_without_speaker_removes_a_name_but_not_a_role() -> None:
    assert without_speaker("Melanie: I ran a race") == "I ran a race"
    assert without_speaker("小明：我昨天去了北京") == "我昨天去了北京"
    assert without_speaker("user: hello") == "user: hello"
    assert without_speaker("I love it: really") == "I love it: really"
