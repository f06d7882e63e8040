"""Re-ranking after the boosts on the real Neo4j. Maximal marginal relevance: a near-copy of a better result
moves below a memory that says something else, only with search.mmr_penalty > 0, and the cosines are read
inside the cube only. Pseudo-relevance feedback: a memory sharing the best results' words (not the question's)
rises, only with search.feedback_weight > 0, and another cube's memories change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from memos_graph import MOS
from memos_graph.services.runtime import Runtime

pytestmark = pytest.mark.neo4j

FACTS = [
    "Melanie signed up for a pottery class",
    "Melanie signed up for a pottery class last week",
    "Melanie goes camping with her kids in the mountains",
]


def with_settings(runtime: Runtime, **overrides: float) -> MOS:
    search = runtime.config.search.model_copy(update=overrides)
    return MOS(runtime=replace(runtime, config=runtime.config.model_copy(update={"search": search})))


def with_penalty(runtime: Runtime, penalty: float) -> MOS:
    return with_settings(runtime, mmr_penalty=penalty)


def test_a_near_copy_moves_below_a_different_memory(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("mmr"))
    cube = root.create_cube_for_user("mmr", owner_id=user)
    root.add(memory_content=FACTS, mem_cube_id=cube, user_id=user)
    question = "What does Melanie do in her free time, a pottery class?"

    def ranked(mos: MOS) -> list[tuple[str, str, float]]:
        found = mos.search(question, user_id=user, install_cube_ids=[cube], top_k=3)["text_mem"][0]["memories"]
        return [(item.id, item.memory, item.metadata.relativity or 0.0) for item in found]

    plain = ranked(with_penalty(runtime, 0.0))
    (best, _, top), (copy, copy_text, second), (other, other_text, third) = plain
    assert other_text == FACTS[2]  # both pottery memories outrank camping without MMR
    cosine = runtime.search.similarities(cube, [best, copy, other])
    # the penalty that takes the near-copy just below camping (the copy is much closer to the best result)
    assert cosine[(0, 1)] > cosine[(0, 2)] + 0.3
    penalty = (second - third) / (cosine[(0, 1)] - cosine[(0, 2)]) + 0.02
    assert penalty < third / max(cosine[(0, 2)], 1e-9)  # camping's value stays above 0
    diverse = ranked(with_penalty(runtime, penalty))
    assert [memory_id for memory_id, _, _ in diverse] == [best, other, copy]
    assert [value for _, _, value in diverse] == pytest.approx(
        [top, third - penalty * max(0.0, cosine[(0, 2)]), second - penalty * max(cosine[(0, 1)], cosine[(1, 2)])]
    )
    assert copy_text != other_text


def test_similarities_are_read_within_the_cube_only(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    alice, bob = root.create_user(uid("alice")), root.create_user(uid("bob"))
    mine = root.create_cube_for_user("alice", owner_id=alice)
    theirs = root.create_cube_for_user("bob", owner_id=bob)
    my_ids = root.add(memory_content=FACTS[:2], mem_cube_id=mine, user_id=alice)
    their_ids = root.add(memory_content=FACTS[:2], mem_cube_id=theirs, user_id=bob)
    pairs = runtime.search.similarities(mine, [*my_ids, *their_ids])
    assert set(pairs) == {(0, 1)} and pairs[(0, 1)] > 0.9
    assert runtime.search.similarities(theirs, my_ids) == {}


WRITING = [
    "Joanna: Writing my screenplay",
    "Joanna: Writing the screenplay again",
    "Joanna: Writing a screenplay is my life",
    "Joanna: I started a new screenplay about loss last month",
    "Joanna: Her cat knocked the plant over last month",
]


def test_feedback_lifts_a_memory_that_shares_the_best_results_words(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    alice, bob = root.create_user(uid("alice")), root.create_user(uid("bob"))
    mine = root.create_cube_for_user("writing", owner_id=alice)
    theirs = root.create_cube_for_user("noise", owner_id=bob)
    root.add(memory_content=WRITING, mem_cube_id=mine, user_id=alice)
    question = "What kind of writing does Joanna do?"

    def scores(mos: MOS) -> dict[str, float]:
        found = mos.search(question, user_id=alice, install_cube_ids=[mine], top_k=5)["text_mem"][0]["memories"]
        return {item.memory: item.metadata.relativity or 0.0 for item in found}

    plain = scores(with_settings(runtime, feedback_weight=0.0))
    fed = scores(with_settings(runtime, feedback_weight=0.3))
    new_screenplay, cat = WRITING[3], WRITING[4]
    assert fed[new_screenplay] > plain[new_screenplay]  # "screenplay" is the best results' word, not the question's
    assert fed[new_screenplay] - plain[new_screenplay] > fed[cat] - plain[cat]
    assert all(fed[text] >= plain[text] and fed[text] <= 1.0 for text in WRITING)
    assert list(fed.values()) == sorted(fed.values(), reverse=True)
    # another tenant's memories full of the same words change neither the second query's scores nor the result
    ids = [item.id for item in root.get_all(mem_cube_id=mine, user_id=alice)["text_mem"][0]["memories"]]
    second = runtime.search.feedback_scores(mine, ids, {"screenplay": 1.0, "cat": 0.5}, 10, 0.9, 0.4)
    assert len(second) == 5 and min(second.values()) > 0  # the four screenplay memories and the cat
    root.add(memory_content=[f"screenplay cat screenplay {n}" for n in range(30)], mem_cube_id=theirs, user_id=bob)
    assert runtime.search.feedback_scores(mine, ids, {"screenplay": 1.0, "cat": 0.5}, 10, 0.9, 0.4) == second
    assert scores(with_settings(runtime, feedback_weight=0.3)) == fed
