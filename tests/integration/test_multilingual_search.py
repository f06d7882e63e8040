"""Chinese and mixed-language search on the per-cube BM25 (ranking/analyzer.py), and the data-version 4
migration that rebuilds the postings an older analyzer wrote for CJK texts (graph/schema.py reindex_terms)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from neo4j import ManagedTransaction

from memos_graph import MOS
from memos_graph.embeddings import Embedder
from memos_graph.embeddings.base import embed_query
from memos_graph.graph import schema
from memos_graph.graph.memories import posting_fields
from memos_graph.graph.store import GraphStore, run_named
from memos_graph.ranking.analyzer import ANALYZER_VERSION, EAST_ASIAN_TEXT_JAVA, has_east_asian, query_terms
from memos_graph.services.runtime import Runtime
from testkit.multilingual import ALLERGY, CHINESE_MEMORIES, ENGINEER, FOOTBALL, version_one_terms

pytestmark = pytest.mark.neo4j


def _texts(result: dict[str, Any]) -> list[str]:
    (group,) = result["text_mem"]
    return [m.memory for m in group["memories"]]


def test_chinese_questions_find_their_memory_first(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("wang"))
    cube = root.create_cube_for_user("wang", owner_id=user)
    root.add(memory_content=CHINESE_MEMORIES, mem_cube_id=cube, user_id=user)
    assert _texts(root.search("我在哪里工作？", user_id=user, top_k=4))[0] == ENGINEER
    assert _texts(root.search("我对什么过敏？", user_id=user, top_k=4))[0] == ALLERGY
    assert _texts(root.search("我喜欢哪个球队？", user_id=user, top_k=4))[0] == FOOTBALL


def test_a_mixed_cube_answers_each_language_from_its_own_memory(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("mixed"))
    cube = root.create_cube_for_user("mixed", owner_id=user)
    english = [
        "I work as a nurse at the city hospital",
        "My sister lives in Toronto with her two dogs",
        "We watched a jazz concert last Friday",
    ]
    chinese = ["我女儿在北京大学读书。", "我每天早上喝一杯咖啡。", "我们去年夏天去了云南旅行。"]
    root.add(memory_content=english + chinese, mem_cube_id=cube, user_id=user)
    assert _texts(root.search("Where do I work?", user_id=user, top_k=6))[0] == english[0]
    assert _texts(root.search("Who lives in Toronto?", user_id=user, top_k=6))[0] == english[1]
    assert _texts(root.search("我女儿在哪里读书？", user_id=user, top_k=6))[0] == chinese[0]
    assert _texts(root.search("我早上喝什么？", user_id=user, top_k=6))[0] == chinese[1]


def test_chinese_questions_in_other_words_are_found_by_the_multilingual_vectors(
    root: MOS, uid: Callable[[str], str]
) -> None:
    """Questions sharing no character bigram with their memory: BM25 cannot find them, the vector half can."""
    user = root.create_user(uid("paraphrase"))
    cube = root.create_cube_for_user("paraphrase", owner_id=user)
    english = ["I work as a nurse at the city hospital", "I am allergic to shellfish"]
    root.add(memory_content=[*CHINESE_MEMORIES, *english], mem_cube_id=cube, user_id=user)
    for question, expected in {"我的职业是什么？": ENGINEER, "哪些食物会让我身体不舒服？": ALLERGY}.items():
        assert not set(query_terms(question)) & set(query_terms(expected)), question
        found = _texts(root.search(question, user_id=user, top_k=6))
        assert found[0] == expected, (question, found)
    # The English memories are on the other half: a Chinese question's cosine to them is 0, so the
    # vector side ranks them last (relativity 0 from it).
    results = root.search("哪些食物会让我身体不舒服？", user_id=user, top_k=6)["text_mem"][0]["memories"]
    scores = {m.memory: m.metadata.relativity for m in results}
    assert all(scores.get(text, 0.0) == 0.0 for text in english), scores


def test_neo4j_selects_the_texts_the_analyzer_tells_apart(runtime: Runtime) -> None:
    texts = ["plain English", "中", "line one\n第二行", "\U00020000 ext B", "Ｇｏｏｇｌｅ", "ｶ", "한국어", "ひらがな",
             "カタカナ", "emoji 😀", "Zürich ½", "・", "。"]  # fmt: skip
    rows = runtime.store.run_statement(
        "UNWIND $texts AS text RETURN text, text =~ $pattern AS matched", texts=texts, pattern=EAST_ASIAN_TEXT_JAVA
    )
    assert {r["text"]: r["matched"] for r in rows} == {text: has_east_asian(text) for text in texts}
    assert sum(has_east_asian(text) for text in texts) == 8


def _version_one_postings(text: str) -> dict[str, Any]:
    """The postings analyzer version 1 wrote, as posting_fields gives them."""
    terms = version_one_terms(text)
    return {"length": len(terms), "postings": [{"term": t, "tf": n} for t, n in sorted(Counter(terms).items())]}


def _write_version_one(tx: ManagedTransaction, cube_id: str, ids: dict[str, str]) -> None:
    for text, memory_id in ids.items():
        run_named(tx, "memory_terms_replace", cube_id=cube_id, memory_id=memory_id, **_version_one_postings(text))


def _stored_postings(store: GraphStore, memory_id: str) -> dict[str, Any]:
    rows = store.run_statement(
        "MATCH (m:Memory {id: $id}) OPTIONAL MATCH (m)-[p:HAS_TERM]->(t:Term) "
        "WITH m, t.term AS term, p.tf AS tf, p.dl AS dl ORDER BY term "
        "RETURN m.term_count AS length, collect({term: term, tf: tf}) AS postings, collect(DISTINCT dl) AS dls",
        id=memory_id,
    )
    assert rows[0]["dls"] == [rows[0]["length"]]
    return {"length": rows[0]["length"], "postings": rows[0]["postings"]}


def _cube_state(store: GraphStore, cube_id: str) -> dict[str, Any]:
    rows = store.run_statement(
        "MATCH (c:MemCube {id: $id}) "
        "RETURN c.terms_analyzer AS analyzer, c.terms_reindexed_to AS after, c.term_total AS total, "
        "COUNT { (:Term {cube_id: $id}) WHERE NOT EXISTS { (:Memory)-[:HAS_TERM]->() } } AS orphans, "
        "COLLECT { MATCH (c)-[:HAS_MEMORY]->(m:Memory) RETURN m.term_count } AS lengths",
        id=cube_id,
    )
    return dict(rows[0])


def test_an_old_graph_is_reindexed_at_start_and_resumes_after_an_interruption(
    runtime: Runtime, root: MOS, embedder: Embedder, uid: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = runtime.store
    user = root.create_user(uid("legacy"))
    cube = root.create_cube_for_user("legacy", owner_id=user)
    texts = [*CHINESE_MEMORIES, "I play the violin on Sundays"]
    root.add(memory_content=texts, mem_cube_id=cube, user_id=user)
    ids = {
        str(r["memory"]): str(r["id"])
        for r in store.run_statement(
            "MATCH (m:Memory {cube_id: $cube}) RETURN m.id AS id, m.memory AS memory", cube=cube
        )
    }
    # The state a version-3 graph is in: postings of analyzer 1, the cube unmarked, the data version 3.
    store.run_write(partial(_write_version_one, cube_id=cube, ids=ids))
    # Other tests' cubes hold postings of the current analyzer: marked done, so that this cube alone is migrated.
    store.run_statement("MATCH (c:MemCube) WHERE c.id <> $id SET c.terms_analyzer = $version", id=cube, version=2)
    store.run_statement("MATCH (c:MemCube {id: $id}) REMOVE c.terms_analyzer, c.terms_reindexed_to", id=cube)
    store.run_statement("MATCH (s:MemosGraphSchema {id: 'memos-graph'}) SET s.data_version = 3")
    assert _stored_postings(store, ids[ENGINEER]) == _version_one_postings(ENGINEER)
    # The failure, on the BM25 side (the multilingual vectors would find it meanwhile).
    assert _bm25_first(runtime, root, user, cube, "我在哪里工作？") != ENGINEER
    before = _cube_state(store, cube)
    assert before["total"] == sum(before["lengths"])

    # A start interrupted after the first batch of two: the batch is done, the rest still old, nothing marked.
    real_write = store.run_write
    batches: list[int] = []

    def failing_after_one(work: Callable[[ManagedTransaction], Any]) -> Any:
        if batches:
            raise RuntimeError("interrupted")
        batches.append(1)
        return real_write(work)

    monkeypatch.setattr(store, "run_write", failing_after_one)
    with pytest.raises(RuntimeError, match="interrupted"):
        schema.reindex_terms(store, batch_size=2)
    monkeypatch.undo()
    assert schema.data_version(store) == 3
    interrupted = _cube_state(store, cube)
    assert interrupted["analyzer"] is None and interrupted["after"] is not None
    chinese_ids = sorted(ids[text] for text in CHINESE_MEMORIES)
    assert interrupted["after"] == chinese_ids[1]
    done = {memory_id for memory_id in chinese_ids[:2]}
    for text, memory_id in ids.items():
        expected = posting_fields(text) if memory_id in done else _version_one_postings(text)
        assert _stored_postings(store, memory_id) == expected, text
    left = store.read(
        "memory_terms_reindex_candidates", cube_id=cube, after=interrupted["after"], pattern=EAST_ASIAN_TEXT_JAVA
    )
    assert sorted(str(r["id"]) for r in left) == chinese_ids[2:]

    # The next start finishes the migration: every memory's postings are the analyzer's, nothing is left over.
    restarted = Runtime.start(runtime.config, embedder, apply_schema=True)
    restarted.close()
    assert schema.data_version(store) == schema.DATA_VERSION == 4
    after = _cube_state(store, cube)
    assert after["analyzer"] == ANALYZER_VERSION and after["after"] is None
    assert after["orphans"] == 0
    assert after["total"] == sum(after["lengths"])
    for text, memory_id in ids.items():
        assert _stored_postings(store, memory_id) == posting_fields(text), text
    assert _bm25_first(runtime, root, user, cube, "我在哪里工作？") == ENGINEER
    assert _bm25_first(runtime, root, user, cube, "我对什么过敏？") == ALLERGY
    assert _texts(root.search("我在哪里工作？", user_id=user, top_k=5))[0] == ENGINEER
    assert _texts(root.search("Who plays the violin?", user_id=user, top_k=5))[0] == texts[4]


def _bm25_first(runtime: Runtime, root: MOS, user: str, cube: str, question: str) -> str | None:
    """The first memory of the cube's BM25 ranking of the question (None: no memory shares a term with it)."""
    vector = embed_query(runtime.embedder, question).vector
    _, by_text = runtime.search.search_terms(user, cube, query_terms(question), vector, 5, 0.9, 0.4)
    return by_text[0][0].memory if by_text else None
