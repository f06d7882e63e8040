"""The Strawberry schema with its guards: the token limit, the document's shape and cost, and coded errors."""

from __future__ import annotations

import dataclasses
import datetime as dt

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaxTokensLimiter
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types import ExecutionContext

from graphql_schema.caching import ParseCache
from graphql_schema.cost import CostLimit
from graphql_schema.errors import DomainErrors
from graphql_schema.mutation import Mutation
from graphql_schema.operation_metrics import OperationMetrics
from graphql_schema.query import Query
from graphql_schema.shape import MAX_ALIASES, MAX_DEPTH
from graphql_schema.subscription import Subscription

MAX_TOKENS = 2_000
__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "schema", "sdl"]


class MemosSchema(strawberry.Schema):
    """Strawberry logs every error with its traceback; expected ones are the client's business, and
    DomainErrors logs the unexpected ones itself."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


# Strawberry's DateTime (ISO 8601, parsed the same way), with the specification code generators read: with
# @specifiedBy, graphql-codegen and Apollo's tooling know what the scalar holds instead of typing it unknown.
DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    description="A date and time with its offset, ISO 8601 / RFC 3339 (2026-12-06T09:30:00+00:00).",
    specified_by_url="https://scalars.graphql.org/andimarek/date-time",
)

schema = MemosSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    scalar_overrides={dt.datetime: DATE_TIME},
    # Factories, not instances: an extension instance holds per-operation state.
    extensions=[
        OperationMetrics,  # first, so that it ends last: it reads the codes DomainErrors gave the errors
        ParseCache,  # first: a recent text's document, parsed once (the token limit is a parse option)
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # Depth (MAX_DEPTH), aliases (MAX_ALIASES), expanded size and fragment cycles, measured once per
        # fragment (graphql_schema.shape), then GraphQL's validation, then the request's cost.
        CostLimit,
        DomainErrors,
    ],
)


def sdl() -> str:
    """The schema's SDL, as committed in graphql_schema/schema.graphql."""
    return schema.as_str() + "\n"
