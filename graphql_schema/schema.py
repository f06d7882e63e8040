"""The Strawberry schema with its guards: depth, token and alias limits, and coded errors."""

from __future__ import annotations

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from graphql_schema.errors import DomainErrors
from graphql_schema.mutation import Mutation
from graphql_schema.query import Query

MAX_DEPTH = 8
MAX_TOKENS = 2_000
MAX_ALIASES = 20

class MemosSchema(strawberry.Schema):
    """Strawberry logs every error with its traceback; expected ones are the client's business, and
    DomainErrors logs the unexpected ones itself."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


schema = MemosSchema(
    query=Query,
    mutation=Mutation,
    # Factories, not instances: an extension instance holds per-operation state.
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        DomainErrors,
    ],
)


def sdl() -> str:
    """The schema's SDL, as committed in graphql_schema/schema.graphql."""
    return schema.as_str() + "\n"
