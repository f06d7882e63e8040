"""The GraphQL documents of docs/clients.md are valid against the schema, and the Apollo type policies name
types and fields that exist: the client snippets stay true as the schema changes."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLObjectType, parse, validate

from graphql_schema.schema import schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_graphql_document_of_the_client_guide_validates() -> None:
    documents = blocks("graphql")
    assert len(documents) >= 3
    for text in documents:
        errors = validate(schema._schema, parse(text))
        assert errors == [], (text, errors)


def test_the_apollo_type_policies_name_real_types_and_fields() -> None:
    (apollo,) = [block for block in blocks("ts") if "typePolicies" in block]
    graphql_types = schema._schema.type_map
    named = re.findall(r"^\s{4}(\w+): \{", apollo, flags=re.M)
    assert {"MemoryMetadata", "Query", "MemCube", "Memory"} <= set(named)
    for type_name in named:
        assert isinstance(graphql_types.get(type_name), GraphQLObjectType), type_name
    paginated = re.findall(r"(\w+): \{ fields: \{ (\w+): relayStylePagination\(([^)]*)\)", apollo)
    assert [(type_name, field) for type_name, field, _ in paginated] == [("MemCube", "memories"), ("Memory", "history")]
    for type_name, field, keys in paginated:
        fields = graphql_types[type_name].fields  # type: ignore[attr-defined]
        arguments = set(fields[field].args)
        assert {"first", "after"} <= arguments
        assert set(re.findall(r'"(\w+)"', keys)) <= arguments
    query_keys = re.search(r"memories: relayStylePagination\((\[[^\]]*\])\)", apollo)
    assert query_keys is not None
    assert set(re.findall(r'"(\w+)"', query_keys.group(1))) <= set(schema._schema.query_type.fields["memories"].args)  # type: ignore[union-attr]
