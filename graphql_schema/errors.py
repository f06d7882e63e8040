"""Expected failures leave as GraphQL errors with `extensions.code`; everything else is masked and logged."""

from __future__ import annotations

import logging
import math

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from memos_graph.errors import MemosError, RateLimited

logger = logging.getLogger(__name__)


class DomainErrors(MaskErrors):
    """Map MemosError to a coded error, keep GraphQL's own validation errors, mask the rest.

    Through MaskErrors' public hooks: every error is handed to `anonymise_error` (should_mask_error says yes
    to all), which decides what the client sees."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, RateLimited) and original.retry_after_s is not None:
            retry_after = max(1, math.ceil(original.retry_after_s))
            return _coded(error, original.message, {"code": original.code, "retryAfterSeconds": retry_after})
        if isinstance(original, MemosError):
            return _coded(error, original.message, {"code": original.code})
        if original is None or isinstance(original, GraphQLError):
            # Parse and validation errors, variable coercion errors (graphql-core wraps those in another
            # GraphQLError) and the limiters' refusals are the client's to see.
            return _coded(error, error.message, {"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})})
        logger.error("unexpected error in %s", error.path, exc_info=original)
        return _coded(error, self.error_message, {"code": "INTERNAL_SERVER_ERROR"})


def _coded(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    """A copy of the error, located where it was, with another message and extensions."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )
