"""Per-process caches of what depends only on a query's text: its parsed document and whether it validates.

Clients send the same few operations again and again; parsing and validating them cost more than 1 ms of
the 2-3 ms Strawberry takes per request. Both caches are bounded in entries and in the size of the texts
they keep (texts over MAX_PARSED_QUERY_CHARS are parsed each time, over MAX_CACHED_QUERY_CHARS validated
each time), so unique query texts cannot grow memory without limit: at most 64 x 4 KB of text for the parse
cache, 1,024 digests for the validation cache, 1,024 digests with their few errors for the cache of shape
refusals. The parse cache is small because what it keeps lengthens every full garbage collection.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension

MAX_CACHED_QUERY_CHARS = 16_384
# Parsed documents are kept only for texts this short (clients' usual operations, GraphiQL's introspection): a
# parsed text holds about 2.5 objects per character, and 256 kept documents of 8 KB (fresh texts of 2,000
# tokens, say a flood of them) made Python's full garbage collections stall the event loop for 0.5 s; 256 of
# 1.7 KB, for 0.13 s.
MAX_PARSED_QUERY_CHARS = 4_096
PARSED_TEXTS = 64
VALIDATED_TEXTS = 1_024


@lru_cache(maxsize=PARSED_TEXTS)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


class ParseCache(SchemaExtension):
    """Reuse the parsed document of a query text seen recently (the document is never changed after parsing).

    A text that does not parse is left to Strawberry, which reports the error as it always does.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query and len(query) <= MAX_PARSED_QUERY_CHARS:
            try:
                context.graphql_document = _parse(query, tuple(sorted(context.parse_options.items())))
            except (GraphQLError, TypeError):  # a syntax error or too many tokens; unhashable options
                context.graphql_document = None
        yield


class ValidatedTexts:
    """SHA-256 digests of query texts that passed validation (least recently used out first), thread-safe.

    Validation is a function of the document and the schema's fixed rules, so a text that validated once
    validates again; only texts without errors are remembered.
    """

    def __init__(self, capacity: int = VALIDATED_TEXTS) -> None:
        self._capacity = capacity
        self._digests: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(query: str | None) -> str | None:
        """The text's key, or None for a text too long (or absent) to remember."""
        if not query or len(query) > MAX_CACHED_QUERY_CHARS:
            return None
        return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()

    def __contains__(self, digest: object) -> bool:
        with self._lock:
            if digest in self._digests:
                self._digests.move_to_end(str(digest))
                return True
            return False

    def add(self, digest: str) -> None:
        """Remember a text that validated without errors."""
        with self._lock:
            self._digests[digest] = None
            self._digests.move_to_end(digest)
            while len(self._digests) > self._capacity:
                self._digests.popitem(last=False)


VALIDATED = ValidatedTexts()


class RefusedTexts:
    """The shape refusals (graphql_schema.shape: depth, aliases, expanded size, cycles) of recent query texts,
    by digest and node limit (least recently used out first), thread-safe: a flood of one oversized document
    costs a lookup per request after the first. Bounded like ValidatedTexts."""

    def __init__(self, capacity: int = VALIDATED_TEXTS) -> None:
        self._capacity = capacity
        self._errors: OrderedDict[tuple[str, int], list[GraphQLError]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, limit: int) -> list[GraphQLError] | None:
        """The refusal remembered for this text under this node limit, or None."""
        with self._lock:
            errors = self._errors.get((digest, limit))
            if errors is not None:
                self._errors.move_to_end((digest, limit))
                return list(errors)
            return None

    def add(self, digest: str, limit: int, errors: list[GraphQLError]) -> None:
        """Remember a text's shape refusal."""
        with self._lock:
            self._errors[(digest, limit)] = list(errors)
            self._errors.move_to_end((digest, limit))
            while len(self._errors) > self._capacity:
                self._errors.popitem(last=False)


REFUSED = RefusedTexts()
