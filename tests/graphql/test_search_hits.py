"""Search hits over HTTP: each search's scores beside the node (SearchResult.hits), so a client cache that
normalises Memory by id (Apollo, urql) does not overwrite one search's relativity with the next's."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.graphql.conftest import Gql
from tests.graphql.test_api import add, make_cube

pytestmark = pytest.mark.neo4j

NewUser = Callable[..., tuple[str, str]]

SEARCH = """query($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) {
    textMem { cubeId memories { id memoryId metadata { relativity } } }
    hits { cubeId rank relativity node { id memoryId memory cube { cubeId } } }
  }
}"""


def test_each_search_keeps_its_own_scores_beside_the_node(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("hits")
    music, home = make_cube(gql, key, "music"), make_cube(gql, key, "home")
    add(gql, key, music, "Alice plays the cello in an orchestra", "The orchestra rehearses on Tuesdays")
    add(gql, key, home, "Alice lives in Lyon near the river", "The cello case sits by the door in Lyon")

    answers = {}
    for question in ("Which instrument does Alice play?", "Where does Alice live?"):
        body = gql(SEARCH, key, q=question, cubes=[music, home], k=2)
        assert body.get("errors") is None, body
        answers[question] = body["data"]["search"]

    for found in answers.values():
        hits = found["hits"]
        # every memory of textMem is a hit, with the same score as MemOS's metadata.relativity
        in_groups = {
            (group["cubeId"], m["id"]): m["metadata"]["relativity"]
            for group in found["textMem"]
            for m in group["memories"]
        }
        assert {(h["cubeId"], h["node"]["id"]): h["relativity"] for h in hits} == in_groups
        assert len(hits) == 4
        scores = [h["relativity"] for h in hits]
        assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
        for hit in hits:
            assert hit["node"]["cube"]["cubeId"] == hit["cubeId"]
        assert sorted((h["cubeId"], h["rank"]) for h in hits) == sorted([(music, 1), (music, 2), (home, 1), (home, 2)])

    # the same memory (same normalised id) scored differently by the two searches, each kept in its own hit
    first, second = ({h["node"]["id"]: h["relativity"] for h in a["hits"]} for a in answers.values())
    shared = set(first) & set(second)
    assert shared and any(first[node] != second[node] for node in shared)
    best = answers["Which instrument does Alice play?"]["hits"][0]["node"]["memory"]
    assert "cello" in best
    assert "Lyon" in answers["Where does Alice live?"]["hits"][0]["node"]["memory"]
