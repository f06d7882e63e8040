"""Counts each root field of each GraphQL operation in memos_requests_total, with its outcome code."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode
from graphql.language import DocumentNode, FragmentDefinitionNode, SelectionSetNode
from strawberry.extensions import SchemaExtension

from memos_graph import metrics

DOOR = "graphql"
# A document refused before execution (it does not parse or validate, or passes a limit): no field ran.
REFUSED = "refused"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class OperationMetrics(SchemaExtension):
    """After the operation (and after DomainErrors gave its errors their codes, so listed before it): each root field
    counted as "<operation type>.<field name>" with OK, or the code of the first error under it. Field names come
    from the validated document, so they are the schema's: the label's values are bounded."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or context.pre_execution_errors or [])
        document = context.graphql_document
        operation = _operation(document, context.operation_name) if document is not None else None
        refused = (result is None and errors) or (errors and all(not error.path for error in errors))
        if document is None or operation is None or refused:
            metrics.count_request(DOOR, REFUSED, _code(errors[0]) if errors else VALIDATION_FAILED)
            return
        failed: dict[str, str] = {}
        for error in errors:
            if error.path:
                failed.setdefault(str(error.path[0]), _code(error))
        kind = operation.operation.value
        # A response key selected twice (merged by GraphQL) is one field that ran once.
        for key, name in dict(_root_fields(document, operation.selection_set)).items():
            metrics.count_request(DOOR, f"{kind}.{name}", failed.get(key, metrics.OK))


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else VALIDATION_FAILED


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((node for node in operations if node.name is not None and node.name.value == name), None)


def _root_fields(document: DocumentNode, selections: SelectionSetNode) -> Iterator[tuple[str, str]]:
    """(response key, field name) of each root field, through fragments (each fragment entered once)."""
    fragments = {node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)}
    seen: set[str] = set()
    pending = [selections]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                yield (selection.alias.value if selection.alias else name), name
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
