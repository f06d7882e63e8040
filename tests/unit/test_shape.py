"""A document's shape and cost measured once per fragment (graphql_schema.shape, cost): the figures Strawberry's
limiters gave, in time linear in the document (security probe 2026-12, H2)."""

from __future__ import annotations

import time

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse
from graphql.validation import ValidationContext
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import determine_depth, get_fragments

from graphql_schema.cost import node_cost, search_cost
from graphql_schema.schema import schema
from graphql_schema.shape import MAX_NESTING, MAX_REPEATS, FragmentCycle, Shape
from memos_graph.config import MOSConfig
from testkit.diamond import diamond

# Documents whose depth and aliases Strawberry's limiters count without trouble (no diamond, no cycle).
DOCUMENTS = [
    "{ me { user { userId } } }",
    "{ a: me { user { userId } } b: me { u: user { userId } } }",
    "query Q { ...F x: me { ...G } } fragment F on Query { me { user { id } } } "
    "fragment G on Viewer { user { n: id } }",
    "{ me { ... on Viewer { accessibleCubes { memories(first: 2) { edges { node { memory } } } } } } }",
    "query A { me { user { id } } } query B { me { accessibleCubes { cubeId } } }",
    "{ __schema { types { fields { type { ofType { ofType { name } } } } } } me { user { id } } }",
    "{ ...F ...F } fragment F on Query { a: me { user { id } } }",
    "{ cubes { ...C } } fragment C on MemCube { owner { cubes { ...D } } } fragment D on MemCube { o: owner { id } }",
]
CONFIG = MOSConfig()


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [o for o in document.definitions if isinstance(o, OperationDefinitionNode)]


def strawberry_depths(text: str) -> dict[str, int]:
    document = parse(text)
    context = ValidationContext(schema._schema, document, type_info=None, on_error=lambda error: None)  # type: ignore[arg-type]
    fragments = get_fragments(document.definitions)
    return {
        (o.name.value if o.name else "anonymous"): determine_depth(o, fragments, 0, 10**6, context, "x", None)
        for o in operations(document)
    }


@pytest.mark.parametrize("text", DOCUMENTS)
def test_depth_and_aliases_are_strawberrys(text: str) -> None:
    document = parse(text)
    shape = Shape.of(document)
    assert {name: figures.depth for name, figures in shape.operations.items()} == strawberry_depths(text)
    fragments = get_fragments(document.definitions)
    expected = sum(count_fields_with_alias(o, fragments) for o in operations(document))
    assert sum(figures.aliases for figures in shape.operations.values()) == expected


def test_fields_count_each_distinct_spread_of_a_selection_once() -> None:
    shape = Shape.of(parse("{ ...F ...F me { ...F } } fragment F on Query { me { user { id } } }"))
    # F is 3 fields; spread twice in one selection it merges; me (1) + F inside it (3)
    assert shape.operations["anonymous"].fields == 3 + 1 + 3


@pytest.mark.parametrize("levels", [19, 95])
def test_a_diamond_is_multiplied_not_walked(levels: int) -> None:
    document = parse(diamond(levels, "x: __typename"), max_tokens=10_000)
    began = time.monotonic()
    shape = Shape.of(document)
    costs = node_cost(document, {}, None, CONFIG), search_cost(document, {}, None, CONFIG)
    seconds = time.monotonic() - began
    figures = shape.operations["anonymous"]
    assert (figures.fields, figures.aliases, figures.depth) == (2**levels, 2**levels, 0)
    assert costs == (2**levels, 0)
    assert seconds < 5.0  # 2^95 walks would never end; a few ms here


def test_a_long_chain_of_fragments_needs_no_deep_recursion() -> None:
    chain = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(2_000))
    document = parse(f"{{ ...F0 }} {chain} fragment F2000 on Query {{ me {{ user {{ id }} }} }}", max_tokens=None)
    assert Shape.of(document).operations["anonymous"].depth == 2
    assert node_cost(document, {}, None, CONFIG) == 3


@pytest.mark.parametrize(
    "text",
    [
        "{ ...A } fragment A on Query { ...A }",
        "{ ...A } fragment A on Query { me { ...B } } fragment B on Query { ... on Query { ...A } }",
        "{ me { user { id } } } fragment A on Query { ...B } fragment B on Query { ...A }",  # unused, still refused
    ],
)
def test_fragment_cycles_are_refused(text: str) -> None:
    with pytest.raises(FragmentCycle):
        Shape.of(parse(text))


def test_nesting_past_the_limit_is_refused_without_walking_it() -> None:
    deep = "{ __schema { " + "types { " * (MAX_NESTING + 5) + "name" + " }" * (MAX_NESTING + 6) + " }"
    errors = Shape.of(parse(deep, max_tokens=None)).errors()
    assert [error.message for error in errors] == ["'anonymous' exceeds maximum operation depth of 10"]


def test_an_empty_selection_is_refused() -> None:
    for text in ("{ }", "{ me { } }", "{ ...F } fragment F on Query { me { ... on Viewer { } } }"):
        assert [e.message for e in Shape.of(parse(text)).errors()] == ["a selection set must select at least one field"]


def test_a_fragment_costs_what_its_search_makes_it() -> None:
    """The sizes in a fragment depend on the search it is spread under: one computation per search shape."""
    text = (
        'query { a: search(query: "x", cubeIds: ["c1", "c2"], topK: 3) { ...G } '
        'b: search(query: "x", cubeIds: ["c1"], topK: 5) { ...G } } '
        "fragment G on SearchResult { textMem { memories { memory } } }"
    )
    document = parse(text)
    # a: 1 x (1 + 2 cubes x (1 + 3 x (1 + 1))) = 15; b: 1 x (1 + 1 x (1 + 5 x 2)) = 12
    assert node_cost(document, {}, None, CONFIG) == 15 + 12
    assert search_cost(document, {}, None, CONFIG) == 2 * 3 + 1 * 5


@pytest.mark.parametrize(
    ("text", "repeats"),
    [
        ("{ " + "me { user { userId } } " * 31 + "}", 31),
        ("{ me { " + "user { userId } " * 31 + "} }", 31),
        (
            "{ "
            + " ".join(f"...F{n}" for n in range(31))
            + " } "
            + " ".join(f"fragment F{n} on Query {{ me {{ user {{ userId }} }} }}" for n in range(31)),
            31,
        ),
        ("{ ...F ...F } fragment F on Query { " + "me { user { userId } } " * 31 + "}", 31),  # merged: once
        # Fields of one key merge their selections: 2 x 16 users under `me` are 32 in one merged selection.
        ("{ " + ("me { " + "user { userId } " * 16 + "} ") * 2 + "}", 32),
        (
            "{ me { ...U } me { ...U } me { ...U } a: me { ...U } } fragment U on Viewer { "
            + "user { userId } " * 11
            + "}",
            33,
        ),
    ],
)
def test_a_key_selected_too_often_in_one_selection_is_refused(text: str, repeats: int) -> None:
    """GraphQL's overlapping-fields rule compares every two selections of one key: quadratic (300 copies of
    one field kept it busy for 3 s), so more than MAX_REPEATS in one selection set are refused first."""
    shape = Shape.of(parse(text))
    assert shape.operations["anonymous"].most_repeated == repeats
    assert [e.message for e in shape.errors()] == [
        f"a field is selected {repeats} times in one selection set (fragments included); the limit is {MAX_REPEATS}: "
        "select it once"
    ]


def test_thirty_repeats_pass() -> None:
    assert Shape.of(parse("{ " + "me { user { userId } } " * MAX_REPEATS + "}")).errors() == []


def test_search_hits_count_every_cube_s_top_k() -> None:
    """hits is one list over the search's cubes: cubes x topK items, each with its node."""
    document = parse('{ search(query: "x", cubeIds: ["c1", "c2"], topK: 3) { hits { relativity node { memory } } } }')
    # search 1 x (1 + hits 2 x 3 x (1 + relativity 1 + node 1 x (1 + memory 1))) = 1 + 6 x 4 = 25
    assert node_cost(document, {}, None, CONFIG) == 25
