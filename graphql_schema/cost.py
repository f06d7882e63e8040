"""A request's cost, refused before any work: the sum over its `search` fields of cubes x topK.

Each cube of a search is read on its own (vector and BM25 rankings), so cubes x topK is what a search field
costs Neo4j; aliases multiply it. The cost is computed from the parsed document and the variables after
validation and before execution, with:

- cubes: the distinct ids in `cubeIds` (a list literal or a variable); without `cubeIds`, the search covers
  the caller's loaded cubes, counted as `limits.max_cubes_per_search` (the most a search may read);
- topK: the literal or variable, else the configured default `top_k`.

A request over `limits.max_request_cost` is refused as a whole, with `extensions.code` BAD_USER_INPUT and
`extensions.reason` COST_LIMIT (plus `cost` and `limit`); nothing runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql.error import GraphQLError
from graphql.language import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from graphql.validation import validate
from strawberry.extensions import SchemaExtension

from graphql_schema.caching import VALIDATED
from memos_graph.config import MOSConfig

SEARCH_FIELD = "search"
COST_REASON = "COST_LIMIT"


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _root_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: frozenset[str] = frozenset()
) -> Iterator[FieldNode]:
    """The fields selected at the root, through fragment spreads and inline fragments."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from _root_fields(fragment.selection_set, fragments, seen | {name})


def _value(node: ValueNode | None, variables: Mapping[str, Any]) -> Any:
    """A literal or variable argument as a Python value (lists element-wise); None when absent or null."""
    if node is None or isinstance(node, NullValueNode):
        return None
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_value(item, variables) for item in node.values]
    return getattr(node, "value", None)


def _argument(field: FieldNode, name: str) -> ArgumentNode | None:
    return next((a for a in field.arguments or () if a.name.value == name), None)


def search_cost(
    document: DocumentNode, variables: Mapping[str, Any] | None, operation_name: str | None, config: MOSConfig
) -> int:
    """cubes x topK summed over the operation's root `search` fields (see the module docstring)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    values = variables or {}
    limits = config.limits
    total = 0
    for field in _root_fields(operation.selection_set, fragments):
        if field.name.value != SEARCH_FIELD:
            continue
        cube_arg, top_arg = _argument(field, "cubeIds"), _argument(field, "topK")
        cube_ids = _value(None if cube_arg is None else cube_arg.value, values)
        if isinstance(cube_ids, list):
            cubes = len({str(item) for item in cube_ids})
        elif isinstance(cube_ids, str):  # a single ID is coerced to a list of one
            cubes = 1
        else:
            cubes = limits.max_cubes_per_search
        top_k = _value(None if top_arg is None else top_arg.value, values)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            top_k = min(config.top_k, limits.max_top_k)
        total += cubes * top_k
    return total


class CostLimit(SchemaExtension):
    """Validate the document, then refuse it (a validation error) when its cost exceeds the budget."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        services = getattr(context.context, "services", None)
        if document is not None and context.pre_execution_errors is None and services is not None:
            digest = VALIDATED.digest(context.query)
            if digest is not None and digest in VALIDATED:
                errors: list[GraphQLError] = []  # this text validated before: the rules are fixed
            else:
                errors = list(validate(context.schema._schema, document, context.validation_rules))
                if not errors and digest is not None:
                    VALIDATED.add(digest)
            if not errors:
                config: MOSConfig = services.runtime.config
                cost = search_cost(document, context.variables, context.operation_name, config)
                limit = config.limits.max_request_cost
                if cost > limit:
                    errors.append(
                        GraphQLError(
                            f"this request would cost {cost} (the sum over its search fields of cubes x topK; "
                            f"a search without cubeIds counts {config.limits.max_cubes_per_search} cubes); "
                            f"the limit is {limit}: use fewer aliases, cubes or a smaller topK",
                            extensions={"code": "BAD_USER_INPUT", "reason": COST_REASON, "cost": cost,
                                        "limit": limit},
                        )
                    )
            # Strawberry skips its own validation when an extension has run it.
            context.pre_execution_errors = errors
        yield
