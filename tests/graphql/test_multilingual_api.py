"""Chinese memories added and searched over GraphQL (the issue's example; ranking/analyzer.py's bigrams)."""

from __future__ import annotations

from collections.abc import Callable

from testkit.multilingual import ALLERGY, CHINESE_MEMORIES, ENGINEER
from tests.graphql.conftest import Gql
from tests.graphql.test_api import add, make_cube

SEARCH = """query($q: String!) { search(query: $q, topK: 4) { textMem { memories { memory } } } }"""


def test_chinese_questions_over_graphql(gql: Gql, new_user: Callable[..., tuple[str, str]]) -> None:
    _, key = new_user("zhang")
    cube = make_cube(gql, key, "笔记")
    add(gql, key, cube, *CHINESE_MEMORIES)
    for question, expected in (("我在哪里工作？", ENGINEER), ("我对什么过敏？", ALLERGY)):
        body = gql(SEARCH, key, q=question)
        assert body.get("errors") is None, body
        (group,) = body["data"]["search"]["textMem"]
        assert [m["memory"] for m in group["memories"]][0] == expected, question
