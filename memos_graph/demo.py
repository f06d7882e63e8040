"""A short tour of the MOS API against the configured Neo4j: python -m memos_graph.demo."""

from __future__ import annotations

import argparse
import logging

from memos_graph import MOS, Conflict, MOSConfig, TextualMemoryItem, UserRole

FACTS = [
    "Alice plays football every Saturday with her colleagues.",
    "Alice's favourite team is Barcelona.",
    "Alice is vegetarian and loves cooking Italian food.",
    "Alice works as a software engineer in Lyon.",
    "Alice is learning Japanese for a trip to Kyoto next spring.",
]


def main() -> None:
    """Create a user and a cube (once), empty the cube, add, search, update, and print what happened."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", help="MOSConfig JSON file (environment overrides apply)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    config = MOSConfig.load(args.config)
    with MOS(config, apply_schema=config.apply_schema) as mos:
        print(f"connected to {config.neo4j.uri} as '{config.user_id}'; embedder {mos.runtime.embedder.model_name}")
        try:
            mos.create_user("demo-alice", UserRole.USER, "Alice")
            print("created user demo-alice")
        except Conflict:
            print("user demo-alice exists already")
        try:
            mos.create_cube_for_user("Alice's memories", owner_id="demo-alice", cube_id="demo-alice-cube")
            print("created cube demo-alice-cube")
        except Conflict:
            print("cube demo-alice-cube exists already")

        mos.delete_all(mem_cube_id="demo-alice-cube", user_id="demo-alice")
        ids = mos.add(memory_content=FACTS, mem_cube_id="demo-alice-cube", user_id="demo-alice")
        again = mos.add(memory_content=FACTS, mem_cube_id="demo-alice-cube", user_id="demo-alice")
        stored = mos.get_all(mem_cube_id="demo-alice-cube", user_id="demo-alice")["text_mem"][0]["memories"]
        print(
            f"\nadded {len(ids)} memories; adding them again returned the same ids: {again == ids}; "
            f"the cube holds {len(stored)}"
        )

        for question in ("What sport does Alice play?", "What does Alice eat?", "Where is Alice travelling?"):
            result = mos.search(question, user_id="demo-alice", top_k=2)
            print(f"\nsearch: {question}")
            for group in result["text_mem"]:
                for item in group["memories"]:
                    print(f"  [{group['cube_id']}] {item.metadata.relativity:.3f}  {item.memory}")

        new_text = "Alice plays football every Sunday now."
        mos.update("demo-alice-cube", ids[0], TextualMemoryItem(memory=new_text), user_id="demo-alice")
        current = mos.get("demo-alice-cube", ids[0], user_id="demo-alice")
        history = mos.get_history("demo-alice-cube", ids[0], user_id="demo-alice")
        print(f"\nupdated {ids[0]}: now '{current.memory}' (version {current.metadata.version});")
        print(f"  {len(history)} earlier version(s) kept: {[item.memory for item in history]}")

        info = mos.get_user_info("demo-alice")
        print(
            f"\nuser info: {info['user_id']} ({info['role']}) sees cubes "
            f"{[cube['cube_id'] for cube in info['accessible_cubes']]}"
        )


if __name__ == "__main__":
    main()
