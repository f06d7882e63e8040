"""Operator tasks: python -m memos_graph.maintenance rebuild-indexes."""

from __future__ import annotations

import argparse
import logging
import time

from memos_graph.config import MOSConfig
from memos_graph.embeddings import build_embedder
from memos_graph.graph.schema import rebuild_search_indexes
from memos_graph.graph.store import GraphStore


def main() -> None:
    """Run the named maintenance task against the configured Neo4j."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=["rebuild-indexes"])
    parser.add_argument("--config", help="MOSConfig JSON file (environment overrides apply)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = MOSConfig.load(args.config)
    store = GraphStore(config.neo4j)
    try:
        store.wait_until_ready()
        dimension = build_embedder(config.embedder).dimension
        started = time.perf_counter()
        rebuild_search_indexes(store, dimension, config.search.fulltext_analyzer)
        print(f"rebuilt the vector and fulltext indexes in {time.perf_counter() - started:.1f} s")
    finally:
        store.close()


if __name__ == "__main__":
    main()
