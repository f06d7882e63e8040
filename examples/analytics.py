"""An analyst's script: a few of the queries in cypher/analytics/ with the official Neo4j driver, in read
transactions, as docs/analysts.md describes (each file is one read-only, parameterised statement).

The connection comes from the environment, as for the service: NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD and
NEO4J_DATABASE (default neo4j); `eval "$(scripts/neo4j.sh env)"` sets them for the local Neo4j. Run:

    python examples/analytics.py                 # every user's cubes
    python examples/analytics.py --user alice    # one user's

It prints the largest cubes, who can read them, and memories added per day over the last --days days.
tests/examples/test_examples.py runs it against a seeded graph.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from neo4j import Driver, GraphDatabase, RoutingControl

ANALYTICS = Path(__file__).resolve().parents[1] / "cypher" / "analytics"


def analytics(driver: Driver, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run cypher/analytics/<name>.cypher in a read transaction; rows as dicts."""
    text = (ANALYTICS / f"{name}.cypher").read_text(encoding="utf-8")
    records, _, _ = driver.execute_query(
        text,
        params,
        database_=os.environ.get("NEO4J_DATABASE", "neo4j"),
        routing_=RoutingControl.READ,
    )
    return [record.data() for record in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", help="one user's cubes (owner and reader); default: everyone's")
    parser.add_argument("--days", type=int, default=30, help="the window of the growth table")
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    with GraphDatabase.driver(os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"), auth=auth) as driver:
        print("Largest cubes")
        for row in analytics(driver, "cube_sizes", owner_id=args.user, limit=args.limit):
            sources = ", ".join(f"{s['source']} {s['memories']}" for s in row["by_source"])
            print(
                f"  {row['cube_id']} ({row['owner_id']}): {row['memories']} memories [{sources}], "
                f"{row['versions']} versions, shared with {row['shared_with']}"
            )

        print("Who can read what")
        for row in analytics(driver, "sharing_graph", user_id=args.user, include_admins=False)[: args.limit * 5]:
            print(f"  {row['reader_id']} -> {row['cube_id']} ({row['access']}, owner {row['owner_id']})")

        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        since = until - dt.timedelta(days=args.days + 1)
        print(f"Memories added per day, last {args.days} days")
        rows = analytics(driver, "memories_per_cube_over_time", since=since, until=until, bucket="day")
        mine = [row for row in rows if args.user is None or row["owner_id"] == args.user]
        for row in mine[-args.limit * 5 :]:
            print(f"  {row['bucket']} {row['cube_id']} ({row['owner_id']}): {row['memories']}")


if __name__ == "__main__":
    main()
