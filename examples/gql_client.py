"""A GraphQL client for memos-graph in plain Python with httpx (no GraphQL library needed): make a cube, add
memories, search reading each hit's score from `hits` (see docs/clients.md), and page through the cube with
the keyset cursors.

The server and the key come from arguments or the environment:

    MEMOS_GRAPHQL_URL   default http://127.0.0.1:8000/graphql (what `bash scripts/run.sh` serves)
    MEMOS_API_KEY       an API key; default: the root key file run.sh creates (~/.cache/memos-graph/root-api-key)

    python examples/gql_client.py "What instrument does Alice play?"

tests/examples/test_examples.py runs it against a served instance.
"""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
ROOT_KEY_FILE = Path(os.environ.get("MEMOS_GRAPH_CACHE", Path.home() / ".cache" / "memos-graph")) / "root-api-key"

CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId name } }"
ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { cubeId ids } }"
SEARCH = """
query Recall($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) {
    hits { cubeId rank relativity node { memoryId memory } }
  }
}
"""
PAGE = """
query Page($cube: ID!, $after: String) {
  memories(cubeId: $cube, first: 2, after: $after, orderBy: {field: CREATED_AT, direction: ASC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { memoryId memory } }
  }
}
"""


class GraphQLError(Exception):
    """The server answered with errors: each has a message and extensions.code (BAD_USER_INPUT, FORBIDDEN, ...)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        self.codes = [error.get("extensions", {}).get("code") for error in errors]
        super().__init__(
            "; ".join(f"{code}: {error['message']}" for code, error in zip(self.codes, errors, strict=True))
        )


class Client:
    """POSTs GraphQL operations with an API key; returns `data`, raises GraphQLError on errors."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.http = httpx.Client(
            headers={
                "Authorization": f"Bearer {key}",
                # The GraphQL-over-HTTP media type first: a request error is then HTTP 400 with its errors.
                "Accept": "application/graphql-response+json, application/json;q=0.9",
            },
            timeout=60,
        )

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post(self.url, json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        response.raise_for_status()
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question", nargs="?", default="What instrument does Alice play?")
    parser.add_argument("--url", default=os.environ.get("MEMOS_GRAPHQL_URL", DEFAULT_URL))
    parser.add_argument("--key", default=os.environ.get("MEMOS_API_KEY"))
    args = parser.parse_args()
    key = args.key or ROOT_KEY_FILE.read_text(encoding="utf-8").strip()

    client = Client(args.url, key)
    try:
        cube = client.execute(CREATE_CUBE, input={"name": "gql-example", "id": f"gql-example-{uuid.uuid4().hex[:8]}"})
        cube_id = cube["createCube"]["cubeId"]
        print(f"created cube {cube_id}")
        facts = ["Alice plays the cello", "Alice lives in Lyon", "The orchestra rehearses on Tuesdays"]
        added = client.execute(ADD, input={"cubeId": cube_id, "content": facts})
        print(f"added {len(added['addMemories']['ids'])} memories")

        found = client.execute(SEARCH, q=args.question, cubes=[cube_id], k=2)
        print(f"search: {args.question}")
        for hit in found["search"]["hits"]:
            print(f"  {hit['rank']}. {hit['relativity']:.3f} {hit['node']['memory']}")

        after: str | None = None
        while True:
            page = client.execute(PAGE, cube=cube_id, after=after)["memories"]
            print(
                f"page of {len(page['edges'])} (of {page['totalCount']}):", [e["node"]["memory"] for e in page["edges"]]
            )
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]

        try:
            client.execute(SEARCH, q="", cubes=[cube_id], k=1000)
        except GraphQLError as refused:
            print(f"refused as expected: {refused.codes}")
    finally:
        client.close()


if __name__ == "__main__":
    main()
