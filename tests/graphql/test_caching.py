"""The parse and validation caches change no answer: limits, errors and cost checks hold on repeated texts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from graphql import GraphQLError

from graphql_schema.caching import MAX_CACHED_QUERY_CHARS, REFUSED, VALIDATED, RefusedTexts, ValidatedTexts
from memos_graph.config import LimitSettings
from testkit.diamond import diamond
from tests.graphql.conftest import Gql, codes

pytestmark = pytest.mark.neo4j

NewUser = Callable[..., tuple[str, str]]
SEARCH = 'query($cs: [ID!], $k: Int) { a: search(query: "tea", cubeIds: $cs, topK: $k) { textMem { cubeId } } }'


def test_a_repeated_text_is_still_costed_with_its_own_variables(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("costed")
    cube = gql('mutation { createCube(input: {name: "tea"}) { cubeId } }', key)["data"]["createCube"]["cubeId"]
    assert gql(SEARCH, key, cs=[cube], k=5).get("errors") is None
    assert VALIDATED.digest(SEARCH) in VALIDATED  # validated once, remembered
    field = 'search(query: "tea", cubeIds: $cs, topK: $k) { textMem { cubeId } }'
    fields = " ".join(f"a{n}: {field}" for n in range(20))
    costly = f"query($cs: [ID!], $k: Int) {{ {fields} }}"
    assert gql(costly, key, cs=[cube], k=100).get("errors") is None  # 20 x 1 x 100 = 2,000: the limit
    refused = gql(costly, key, cs=[cube, f"{cube}-other"], k=100)  # the same text: 20 x 2 x 100
    assert codes(refused) == ["BAD_USER_INPUT"], refused
    assert refused["errors"][0]["extensions"]["reason"] == "COST_LIMIT"


def test_invalid_and_unparsable_texts_are_refused_every_time(gql: Gql) -> None:
    for _ in range(2):
        assert codes(gql("{ me { nosuchfield } }")) == ["GRAPHQL_VALIDATION_FAILED"]
        assert codes(gql("{ me { user { userId } ")) == ["GRAPHQL_VALIDATION_FAILED"]
        deep = (  # one level over MAX_DEPTH
            "{ me { accessibleCubes { memories(first: 1) { edges { node { cube { owner { cubes { owner { cubes "
            "{ owner { name } } } } } } } } } } } }"
        )
        assert codes(gql(deep)) == ["GRAPHQL_VALIDATION_FAILED"]
        tokens = "{ " + "me { user { userId } } " * 400 + "}"  # over the 2,000-token limit
        assert len(tokens) <= MAX_CACHED_QUERY_CHARS
        assert codes(gql(tokens)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_the_validation_cache_is_bounded() -> None:
    texts = ValidatedTexts(capacity=3)
    digests = [texts.digest(f"{{ me {{ user {{ id }} }} }} # {n}") for n in range(5)]
    for digest in digests:
        assert digest is not None
        texts.add(digest)
    assert [digest in texts for digest in digests] == [False, False, True, True, True]
    assert texts.digest("x" * (MAX_CACHED_QUERY_CHARS + 1)) is None


def test_a_refused_shape_is_refused_again_from_the_cache(gql: Gql) -> None:
    text = diamond(30)
    first, second = gql(text), gql(text)
    digest = VALIDATED.digest(text)
    assert digest is not None and REFUSED.get(digest, LimitSettings().max_request_nodes) is not None
    assert first == second and codes(first) == ["BAD_USER_INPUT"], first
    assert first["errors"][0]["extensions"]["reason"] == "NODE_LIMIT"
    assert REFUSED.get(digest, 1) is None  # remembered per node limit


def test_the_refusal_cache_is_bounded() -> None:
    refused = RefusedTexts(capacity=2)
    for n in range(3):
        refused.add(f"d{n}", 10, [GraphQLError(f"no {n}")])
    assert [refused.get(f"d{n}", 10) is not None for n in range(3)] == [False, True, True]
