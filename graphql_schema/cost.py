"""A request's cost, refused before any work: the sum over its `search` fields of cubes x topK.

Each cube of a search is read on its own (vector and BM25 rankings), so cubes x topK is what a search field
costs Neo4j; aliases multiply it. The cost is computed from the parsed document and the variables after
validation and before execution, with:

- cubes: the distinct ids in `cubeIds` (a list literal or a variable); without `cubeIds`, the search covers
  the caller's loaded cubes, counted as `limits.max_cubes_per_search` (the most a search may read);
- topK: the literal or variable, else the configured default `top_k`.

A request over `limits.max_request_cost` is refused as a whole, with `extensions.code` BAD_USER_INPUT and
`extensions.reason` COST_LIMIT (plus `cost` and `limit`); nothing runs.

Traversal fields fan out: a page of memories, each with its provenance, each message with its memories,
each of those with its cube's memories... The request's node count bounds that: each list field counts the
items it can return (`first` of a connection, topK of a search, the typical sizes of LIST_BOUNDS for the
others, which nothing enforces: an estimate, not a guarantee) times the nodes of its selection, summed over
the request; over `limits.max_request_nodes` the request is refused the
same way, with `extensions.reason` NODE_LIMIT.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql.error import GraphQLError
from graphql.language import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
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

from graphql_schema.caching import REFUSED, VALIDATED
from graphql_schema.shape import (
    MAX_ALIASES,
    MAX_DEPTH,
    FragmentCycle,
    Shape,
    fragments_of,
    in_dependency_order,
    spreads,
)
from memos_graph.config import LimitSettings, MOSConfig

SEARCH_FIELD = "search"
COST_REASON = "COST_LIMIT"
NODE_REASON = "NODE_LIMIT"
ALONE_REASON = "KEY_FIELD_NOT_ALONE"
# Mutations that answer with a new API key. Beside another root field that fails, GraphQL's null propagation
# (every mutation field is non-null) would drop the whole response's data: the key would be issued, the old
# one revoked, and the caller would never see the new one (locked out by its own rotateApiKey).
KEY_ISSUING_FIELDS = frozenset({"rotateApiKey", "resetApiKey", "createUser"})
# The most items a list field without a size argument is counted as returning (a cube's shares, a memory's
# versions and provenance, a message's memories, a document's chunks, the cubes a user sees). Connections
# count their `first`; a search's memories its topK per cube, its textMem its cubes, its hits both.
LIST_BOUNDS = {
    "cubes": 100,
    "accessibleCubes": 100,
    "users": 100,
    "sharedWith": 20,
    "history": 20,  # a page of versions: counts its `first` when given, else the default page (HISTORY_PAGE)
    "derivedFrom": 5,
    "chunks": 20,
    "memoryHistory": 20,  # as history
}
MESSAGE_MEMORIES = 5  # Message.memories
Under = tuple[str, int, int]  # a fragment, and the (cubes, topK) of the search it is spread under


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _root_spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The fragments spread at the root of a selection set (through inline fragments, not into fields)."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)


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
    """cubes x topK summed over the operation's root `search` fields (see the module docstring); a fragment
    counts at every spread of it, its own sum computed once."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    fragments = fragments_of(document)
    values = variables or {}

    def cost(selection_set: SelectionSetNode, known: Mapping[str, int]) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value == SEARCH_FIELD:
                cubes, top_k = _search_shape(selection, values, config)
                total += cubes * top_k
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, known)
            elif isinstance(selection, FragmentSpreadNode):
                total += known.get(selection.name.value, 0)
        return total

    known = in_dependency_order(
        (name for name in _root_spreads(operation.selection_set) if name in fragments),
        lambda name: (spread for spread in _root_spreads(fragments[name].selection_set) if spread in fragments),
        lambda name, known: cost(fragments[name].selection_set, known),
    )
    return cost(operation.selection_set, known)


CONNECTION_FIELDS = frozenset({"edges", "pageInfo", "totalCount"})
DEFAULT_PAGE = 20


def _size(field: FieldNode, variables: Mapping[str, Any], cubes: int, top_k: int) -> int:
    """How many items the field may return (1 for an object). `cubes` and `top_k`: those of the search the
    field lies in (1 outside a search)."""
    name = field.name.value
    first = _argument(field, "first")
    if first is not None:
        value = _value(first.value, variables)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_PAGE
    if name == "textMem":
        return cubes
    if name == "hits":
        return cubes * top_k  # a search's hits, every cube's together
    if name == "memories":
        children = {
            s.name.value
            for s in (field.selection_set.selections if field.selection_set else ())
            if isinstance(s, FieldNode)
        }
        if children & CONNECTION_FIELDS:
            return DEFAULT_PAGE  # a connection without `first`
        return top_k if top_k > 1 else MESSAGE_MEMORIES  # a search group's memories, or Message.memories
    return LIST_BOUNDS.get(name, 1)


def node_cost(
    document: DocumentNode, variables: Mapping[str, Any] | None, operation_name: str | None, config: MOSConfig
) -> int:
    """The most nodes the operation may return: over every field, the product of the list sizes on its path;
    of fragments on different types (a union's or an interface's members) only the costliest counts, since a
    node is of one type (see the module docstring). Each fragment's cost is computed once per search shape it
    is spread under (the sizes in it depend on that search's cubes and topK), from those of the fragments it
    spreads: a fragment spread many times is multiplied, not walked again."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    fragments = fragments_of(document)
    values = variables or {}

    def shape(field: FieldNode, cubes: int, top_k: int) -> tuple[int, int]:
        return _search_shape(field, values, config) if field.name.value == SEARCH_FIELD else (cubes, top_k)

    def dependencies(selection_set: SelectionSetNode, cubes: int, top_k: int) -> Iterator[Under]:
        for spread, fields in spreads(selection_set):
            if spread.name.value in fragments:
                shape_here = (cubes, top_k)
                for field in fields:
                    shape_here = shape(field, *shape_here)
                yield (spread.name.value, *shape_here)

    def cost(selection_set: SelectionSetNode, cubes: int, top_k: int, known: Mapping[Under, int]) -> int:
        plain = 0
        by_type: dict[str, int] = {}
        spread: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_shape = shape(selection, cubes, top_k)
                inner = 0 if selection.selection_set is None else cost(selection.selection_set, *field_shape, known)
                plain += _size(selection, values, *field_shape) * (1 + inner)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, part = selection.type_condition, cost(selection.selection_set, cubes, top_k, known)
            elif isinstance(selection, FragmentSpreadNode) and (selection.name.value, cubes, top_k) in known:
                if selection.name.value in spread:
                    continue  # merged with its first spread in this selection
                spread.add(selection.name.value)
                condition = fragments[selection.name.value].type_condition
                part = known[(selection.name.value, cubes, top_k)]
            else:
                continue
            if condition is None:
                plain += part
            else:
                by_type[condition.name.value] = by_type.get(condition.name.value, 0) + part
        return plain + max(by_type.values(), default=0)

    known = in_dependency_order(
        dependencies(operation.selection_set, 1, 1),
        lambda under: dependencies(fragments[under[0]].selection_set, under[1], under[2]),
        lambda under, known: cost(fragments[under[0]].selection_set, under[1], under[2], known),
    )
    return cost(operation.selection_set, 1, 1, known)


def _search_shape(field: FieldNode, values: Mapping[str, Any], config: MOSConfig) -> tuple[int, int]:
    """(cubes, topK) of a search field, as search_cost counts them."""
    limits = config.limits
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
    return cubes, top_k


def _over_limit(reason: str, cost: int, limit: int, message: str) -> GraphQLError:
    """The refusal of a request over one of the limits: BAD_USER_INPUT with the reason, cost and limit."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "reason": reason, "cost": cost, "limit": limit})


class CostLimit(SchemaExtension):
    """Check the document's shape (depth, aliases, expanded size, fragment cycles: graphql_schema.shape, in
    time linear in the document), validate it, then refuse it (a validation error) when its cost exceeds the
    budget. A document refused for its shape reaches none of GraphQL's validation rules."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            services = getattr(context.context, "services", None)
            config: MOSConfig | None = None if services is None else services.runtime.config
            limits = LimitSettings() if config is None else config.limits
            digest = VALIDATED.digest(context.query)
            if digest is not None and digest in VALIDATED:
                errors: list[GraphQLError] = []  # this text validated before: the rules are fixed
            else:
                refused = None if digest is None else REFUSED.get(digest, limits.max_request_nodes)
                errors = _shape_errors(document, limits) if refused is None else refused
                if errors and refused is None and digest is not None:
                    REFUSED.add(digest, limits.max_request_nodes, errors)
                if not errors:
                    errors = list(validate(context.schema._schema, document, context.validation_rules))
                if not errors and digest is not None:
                    VALIDATED.add(digest)
            if not errors and config is not None:
                errors = _cost_errors(document, context.variables, context.operation_name, config)
            # Strawberry skips its own validation when an extension has run it.
            context.pre_execution_errors = errors
        yield


def _shape_errors(document: DocumentNode, limits: LimitSettings) -> list[GraphQLError]:
    """The shape's refusals (graphql_schema.shape), and NODE_LIMIT for a document whose fields, once its
    fragments are expanded, are more than the node limit (the node count could only be larger)."""
    try:
        shape = Shape.of(document)
    except FragmentCycle as cycle:
        return [GraphQLError(str(cycle))]
    if shape.fields > limits.max_request_nodes:  # first: the most telling refusal of a document that big
        return [
            _over_limit(
                NODE_REASON,
                shape.fields,
                limits.max_request_nodes,
                f"this request selects {shape.fields} fields once its fragments are expanded, so it may return at "
                f"least as many nodes; the limit is {limits.max_request_nodes}: spread fewer fragments",
            )
        ]
    errors = shape.errors(MAX_DEPTH, MAX_ALIASES)
    return errors


def _key_field_alone_errors(document: DocumentNode, operation_name: str | None) -> list[GraphQLError]:
    """A refusal for an operation that selects a key-issuing mutation beside any other root field."""
    operation = _operation(document, operation_name)
    if operation is None:
        return []
    fragments = fragments_of(document)
    names: list[str] = []
    pending, seen = [operation.selection_set], set()
    while pending:  # the root fields, through inline fragments and spreads (each fragment once)
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                if selection.name.value in fragments:
                    pending.append(fragments[selection.name.value].selection_set)
    issuing = sorted(set(names) & KEY_ISSUING_FIELDS)
    if not issuing or len([name for name in names if name != "__typename"]) == 1:
        return []
    return [
        GraphQLError(
            f"{issuing[0]} must be the only field of its operation: a new API key issued beside a field that "
            "fails would be lost with the response's data",
            extensions={"code": "BAD_USER_INPUT", "reason": ALONE_REASON},
        )
    ]


def _cost_errors(
    document: DocumentNode, variables: Mapping[str, Any] | None, operation_name: str | None, config: MOSConfig
) -> list[GraphQLError]:
    """COST_LIMIT and NODE_LIMIT refusals of a valid document with these variables."""
    errors: list[GraphQLError] = _key_field_alone_errors(document, operation_name)
    limits = config.limits
    cost = search_cost(document, variables, operation_name, config)
    if cost > limits.max_request_cost:
        errors.append(
            _over_limit(
                COST_REASON,
                cost,
                limits.max_request_cost,
                f"this request would cost {cost} (the sum over its search fields of cubes x topK; a search "
                f"without cubeIds counts {limits.max_cubes_per_search} cubes); the limit is "
                f"{limits.max_request_cost}: use fewer aliases, cubes or a smaller topK",
            )
        )
    nodes = node_cost(document, variables, operation_name, config)
    if nodes > limits.max_request_nodes:
        errors.append(
            _over_limit(
                NODE_REASON,
                nodes,
                limits.max_request_nodes,
                f"this request may return {nodes} nodes (each list counts its first, topK or bound, times "
                f"the nodes below it); the limit is {limits.max_request_nodes}: ask for smaller pages or "
                "fewer nested lists",
            )
        )
    return errors
