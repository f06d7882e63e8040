"""Apply cypher/schema/*.cypher at start-up (idempotent) and check the vector index fits the embedder."""

from __future__ import annotations

import logging
from functools import partial

from neo4j import ManagedTransaction
from neo4j.exceptions import ClientError

from memos_graph.embeddings.factory import same_model
from memos_graph.errors import ConfigurationError
from memos_graph.graph.memories import index_postings, posting_fields
from memos_graph.graph.memory_nodes import cube_key
from memos_graph.graph.queries import CYPHER_DIR, command, query, split_statements
from memos_graph.graph.store import GraphStore, run_named
from memos_graph.ranking.analyzer import ANALYZER_VERSION, EAST_ASIAN_TEXT_JAVA

logger = logging.getLogger(__name__)

VECTOR_INDEX = "memory_embedding"
FULLTEXT_INDEX = "memory_text"
FULLTEXT_PROPERTIES = ("memory", "cube_key")
CONCURRENT_SCHEMA_CODES = ("EquivalentSchemaRuleAlreadyExists", "IndexAlreadyExists", "ConstraintAlreadyExists")


def apply_schema(
    store: GraphStore,
    dimension: int,
    *,
    quantization: bool = False,
    fulltext_analyzer: str = "english",
    model: str | None = None,
) -> None:
    """Create missing constraints and indexes, wait for them to come online, check the vector dimension
    and, given the embedder's `model`, that the graph's memories were embedded with it.

    A fulltext index built with another analyzer is dropped and rebuilt with the configured one.
    """
    check_no_reembed_pending(store)
    analyzers = {row["analyzer"] for row in store.run_statement(query("schema_fulltext_analyzers"))}
    if fulltext_analyzer not in analyzers:
        raise ConfigurationError(f"unknown fulltext analyzer {fulltext_analyzer!r}; Neo4j offers {sorted(analyzers)}")
    existing = store.run_statement(query("schema_fulltext_index"), name=FULLTEXT_INDEX)
    if existing and (
        existing[0]["options"]["indexConfig"].get("fulltext.analyzer") != fulltext_analyzer
        or list(existing[0]["properties"]) != list(FULLTEXT_PROPERTIES)
    ):
        logger.warning("rebuilding fulltext index %s (analyzer %s)", FULLTEXT_INDEX, fulltext_analyzer)
        store.run_statement(command("drop_index", index=FULLTEXT_INDEX))
    stored = stored_vector_dimension(store)
    if stored is not None and stored != dimension and not store.run_statement(query("schema_any_memory")):
        # No memory holds a vector yet: the index is remade for this embedder, nothing to re-embed.
        logger.warning("vector index %s: dimension %d, was %d (no memories yet)", VECTOR_INDEX, dimension, stored)
        store.run_statement(command("drop_index", index=VECTOR_INDEX))
    version = data_version(store)
    if version < 2:
        backfill_cube_keys(store)
    params = {"dimension": dimension, "quantization": quantization, "fulltext_analyzer": fulltext_analyzer}
    for path in sorted((CYPHER_DIR / "schema").glob("*.cypher")):
        for statement in split_statements(path.read_text(encoding="utf-8")):
            try:
                store.run_statement(statement, **params)
            except ClientError as exc:
                # IF NOT EXISTS races when several workers start together: the other one created it first.
                if not (exc.code or "").endswith(CONCURRENT_SCHEMA_CODES):
                    raise
                logger.info("schema rule created concurrently by another process: %s", exc.code)
    check_vector_dimension(store, dimension)
    if model is not None:
        check_embedding_model(store, model)
    if version < 3:
        backfill_terms(store)
    if version < 4:
        reindex_terms(store)
    backfill_user_uids(store)  # every start: a replica of an older version may have created users since
    if version < DATA_VERSION:
        store.run_statement(query("schema_data_version_set"), version=DATA_VERSION)
    # Populating indexes over a large graph takes minutes; the wait must outlive the usual statement timeout.
    store.run_slow_statement(query("schema_await_indexes"), AWAIT_INDEXES_S + 30, {"seconds": AWAIT_INDEXES_S})
    logger.info("schema applied (vector dimension %d)", dimension)


def check_vector_dimension(store: GraphStore, dimension: int) -> None:
    """Raise ConfigurationError when the stored index was built for another vector length."""
    stored = stored_vector_dimension(store)
    if stored is None:
        raise ConfigurationError(f"vector index {VECTOR_INDEX} is missing after schema apply")
    if stored != dimension:
        raise ConfigurationError(
            f"vector index {VECTOR_INDEX} has dimension {stored} but the embedder produces {dimension}; "
            f"configure the model the graph was built with, or re-embed the graph with this one: {REEMBED_COMMAND}"
        )


REEMBED_COMMAND = "memos-graph maintenance re-embed"


def stored_vector_dimension(store: GraphStore) -> int | None:
    """The dimension the shared vector index was built for, None when there is none yet."""
    records = store.run_statement(query("schema_vector_index"), name=VECTOR_INDEX)
    return int(records[0]["options"]["indexConfig"]["vector.dimensions"]) if records else None


def embedding_models(store: GraphStore) -> list[tuple[str, int]]:
    """(model, cubes) recorded by the cubes holding memories, the most used first."""
    records = store.run_statement(query("schema_embedding_models"))
    return [(str(row["model"]), int(row["cubes"])) for row in records]


def check_embedding_model(store: GraphStore, model: str) -> None:
    """Raise ConfigurationError when cubes holding memories record another embedding model than `model`
    (names compared as embeddings.factory.same_model does): their vectors are of another space, even where
    the dimension is the same."""
    others = [(name, cubes) for name, cubes in embedding_models(store) if not same_model(name, model)]
    if others:
        named = ", ".join(f"{name} ({cubes} cube{'s' if cubes > 1 else ''})" for name, cubes in others[:5])
        raise ConfigurationError(
            f"the graph's memories were embedded with {named}, but the configured embedder is {model}; "
            f"configure that model again, or re-embed the graph with this one: {REEMBED_COMMAND}"
        )


def check_no_reembed_pending(store: GraphStore) -> None:
    """Raise ConfigurationError while a re-embed has begun and not finished: the graph's vectors are mixed."""
    records = store.run_statement(query("schema_reembed_pending"))
    if records:
        raise ConfigurationError(
            f"a re-embed of the graph with {records[0]['model']} began and did not finish, so its memories hold "
            f"vectors of two models; run `{REEMBED_COMMAND}` again with that embedder configured"
        )


AWAIT_INDEXES_S = 1800
# 2: every Memory has cube_key; 3: every Memory has its BM25 postings (HAS_TERM, term_count); 4: those of
# texts holding CJK characters are of the analyzer's version 2 (bigrams).
DATA_VERSION = 4
BACKFILL_BATCH = 1_000


def data_version(store: GraphStore) -> int:
    """The graph's data version, from the marker node (created at version 1 on a graph that has none)."""
    marker = store.run_statement(query("schema_data_version"))
    return int(marker[0]["version"])


def backfill_cube_keys(store: GraphStore) -> None:
    """Give memories written before cube_key existed their key: a one-off migration."""
    rows = store.run_statement(query("memory_cube_key_pending"))
    for row in rows:
        store.run_autocommit(
            query("memory_cube_key_backfill"),
            timeout_s=AWAIT_INDEXES_S,
            cube_id=row["cube_id"],
            key=cube_key(row["cube_id"]),
        )


def backfill_user_uids(store: GraphStore) -> None:
    """Give users created before uids existed their immutable uid (what a dump's manifest names)."""
    store.run_statement(query("user_uid_backfill"))


def backfill_terms(store: GraphStore) -> None:
    """Index memories written before the per-cube BM25 index existed: a one-off migration, a cube at a time,
    in batches of BACKFILL_BATCH memories per transaction."""
    cubes = store.run_statement(query("memory_terms_backfill_pending"))
    for row in cubes:
        cube_id = str(row["cube_id"])
        indexed = 0
        while True:
            batch = store.run_statement(
                query("memory_terms_backfill_page"),
                cube_id=cube_id,
                limit=BACKFILL_BATCH,
            )
            if not batch:
                break
            rows = [{"id": str(r["id"]), **posting_fields(str(r["memory"]))} for r in batch]
            store.run_write(partial(index_postings, cube_id=cube_id, rows=rows))
            indexed += len(rows)
        logger.info("indexed %d memories of cube %s for BM25", indexed, cube_id)


def reindex_terms(store: GraphStore, batch_size: int = BACKFILL_BATCH) -> None:
    """Rebuild the BM25 postings an older analyzer wrote (ranking/analyzer.py ANALYZER_VERSION): a one-off
    migration, a cube at a time, in transactions of `batch_size` memories.

    Only texts holding East Asian characters analyse differently, so only their memories are read: one
    scan of the graph finds the cubes holding any, one scan of each such cube their ids. Resumable: each batch
    records on its cube the last memory it finished and each finished cube the analyzer version, so a start
    interrupted here continues where it stopped (the graph's data version moves only once all is done).
    """
    # The scans read the whole graph, then a whole cube: at 1M memories about 12 s (bench/results/reindex.md),
    # so they get the migration's own timeout, not a request's.
    pattern = {"pattern": EAST_ASIAN_TEXT_JAVA}
    cubes = store.run_slow_statement(
        query("cube_terms_reindex_pending"), AWAIT_INDEXES_S, {**pattern, "analyzer_version": ANALYZER_VERSION}
    )
    if cubes:
        total = sum(int(row["memories"]) for row in cubes)
        logger.info(
            "re-indexing the BM25 postings of %d memories in %d cubes (analyzer %d)",
            total,
            len(cubes),
            ANALYZER_VERSION,
        )
    for row in cubes:
        cube_id = str(row["cube_id"])
        after = "" if row["after"] is None else str(row["after"])
        candidates = query("memory_terms_reindex_candidates")
        found = store.run_slow_statement(candidates, AWAIT_INDEXES_S, {**pattern, "cube_id": cube_id, "after": after})
        ids = sorted(str(r["id"]) for r in found)
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            store.run_write(partial(_reindex_batch, cube_id=cube_id, ids=batch))
            logger.info("re-indexed %d of %d memories of cube %s", start + len(batch), len(ids), cube_id)
        store.run_statement(query("cube_terms_reindexed"), cube_id=cube_id, analyzer_version=ANALYZER_VERSION)
        logger.info("cube %s re-indexed with analyzer %d", cube_id, ANALYZER_VERSION)


def _reindex_batch(tx: ManagedTransaction, cube_id: str, ids: list[str]) -> None:
    """Read, analyse and re-index a batch of a cube's memories in the caller's transaction."""
    texts = run_named(tx, "memory_terms_reindex_read", cube_id=cube_id, ids=ids)
    rows = [{"id": str(r["id"]), "memory": r["memory"], **posting_fields(str(r["memory"]))} for r in texts]
    run_named(tx, "memory_terms_reindex", cube_id=cube_id, rows=rows, after=ids[-1])


def rebuild_search_indexes(store: GraphStore, dimension: int, fulltext_analyzer: str = "english") -> None:
    """Drop and repopulate the vector and fulltext indexes.

    Neo4j 5.26's Lucene-backed indexes keep deleted vectors in their HNSW graphs and one graph per segment;
    after mass deletes or many small writes a query walks far more than the live data (measured: 230 ms
    before, 1.8 ms after a rebuild, 16k live memories after 200k deletes). Searches fall back to slower
    paths while the indexes repopulate.
    """
    for name in (VECTOR_INDEX, FULLTEXT_INDEX):
        store.run_statement(command("drop_index", index=name))
    apply_schema(store, dimension, fulltext_analyzer=fulltext_analyzer)
