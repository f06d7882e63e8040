"""The Strawberry schema with its guards: depth, token and alias limits, and coded errors."""

from __future__ import annotations

import strawberry
from graphql.error import GraphQLError
from graphql.language import Node, SelectionSetNode
from graphql.validation import ASTValidationRule, ValidationContext
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from graphql_schema.caching import ParseCache
from graphql_schema.cost import CostLimit
from graphql_schema.errors import DomainErrors
from graphql_schema.mutation import Mutation
from graphql_schema.query import Query
from graphql_schema.subscription import Subscription

MAX_DEPTH = 10  # deep enough for cube > memories > edges > node > derivedFrom > node > next > ...
MAX_TOKENS = 2_000
MAX_ALIASES = 20


class MemosSchema(strawberry.Schema):
    """Strawberry logs every error with its traceback; expected ones are the client's business, and
    DomainErrors logs the unexpected ones itself."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


class DepthLimit(QueryDepthLimiter):
    """QueryDepthLimiter that first refuses empty selection sets (`{ }`), on which it would crash."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(max_depth=max_depth)
        (depth_rule,) = self.validation_rules

        class GuardedDepthRule(ASTValidationRule):
            def __init__(self, context: ValidationContext) -> None:
                super().__init__(context)
                if _has_empty_selection(context.document):
                    context.report_error(GraphQLError("a selection set must select at least one field"))
                else:
                    depth_rule(context)  # reports its errors from its constructor

        self.validation_rules = [GuardedDepthRule]


def _has_empty_selection(node: Node) -> bool:
    selection_set = getattr(node, "selection_set", None)
    if isinstance(selection_set, SelectionSetNode) and not selection_set.selections:
        return True
    children: list[Node] = list(getattr(node, "definitions", ()))
    if isinstance(selection_set, SelectionSetNode):
        children += list(selection_set.selections)
    return any(_has_empty_selection(child) for child in children)


schema = MemosSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Factories, not instances: an extension instance holds per-operation state.
    extensions=[
        ParseCache,  # first: a recent text's document, parsed once (the token limit is a parse option)
        lambda: DepthLimit(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        CostLimit,  # runs the validation above itself, then refuses a request over limits.max_request_cost
        DomainErrors,
    ],
)


def sdl() -> str:
    """The schema's SDL, as committed in graphql_schema/schema.graphql."""
    return schema.as_str() + "\n"
