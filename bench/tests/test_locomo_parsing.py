"""The LoCoMo benchmark's pure parts: evidence parsing and the retrieval metrics."""

from __future__ import annotations

from types import SimpleNamespace

from bench.bench_locomo import normalise_turn_id, parse_evidence, ranked_turns, score, session_messages


def test_malformed_evidence_is_parsed_and_unknown_turns_dropped() -> None:
    known = {"D8:6", "D9:17", "D11:26", "D30:5", "D1:3"}
    assert parse_evidence(["D8:6; D9:17", "D:11:26", "D30:05", "D99:1", "D1:3", "D1:3"], known) == [
        "D8:6",
        "D9:17",
        "D11:26",
        "D30:5",
        "D1:3",
    ]
    assert normalise_turn_id("no turn here") is None


def test_ranked_turns_follow_sources_without_repeats() -> None:
    def item(*ids: str | None) -> SimpleNamespace:
        return SimpleNamespace(metadata=SimpleNamespace(sources=[SimpleNamespace(message_id=i) for i in ids]))

    result = {"text_mem": [{"memories": [item("D1:3"), item(None, "D1:03"), item("D2:1")]}]}
    assert ranked_turns(result) == ["D1:3", "D2:1"]


def test_recall_and_hit() -> None:
    metrics = score(["D1:1", "D1:2", "D1:3"], ["D1:3", "D5:5"], ks=(1, 5))
    assert metrics["R@1"] == 0.0 and metrics["R@5"] == 0.5
    assert metrics["Hit@1"] == 0.0 and metrics["Hit@5"] == 1.0


def test_the_content_protocol_puts_the_speaker_inside_the_content_and_sends_no_name() -> None:
    conversation = {
        "speaker_a": "Caroline",
        "speaker_b": "Melanie",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Caroline", "dia_id": "D1:1", "text": "I went to a support group."},
            {"speaker": "Melanie", "dia_id": "D1:2", "text": "Look!", "blip_caption": "a sunrise"},
        ],
    }
    by_name = session_messages(conversation, 1)
    by_content = session_messages(conversation, 1, "content")
    assert [m["name"] for m in by_name] == ["Caroline", "Melanie"]
    assert [m["content"] for m in by_name] == ["I went to a support group.", "Look! [shares a photo: a sunrise]"]
    assert all("name" not in m for m in by_content)
    assert [m["content"] for m in by_content] == [
        "Caroline: I went to a support group.",
        "Melanie: Look! [shares a photo: a sunrise]",
    ]
    assert [(m["role"], m["message_id"], m["chat_time"]) for m in by_content] == [
        (m["role"], m["message_id"], m["chat_time"]) for m in by_name
    ]
