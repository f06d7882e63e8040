"""One root for every error memos-graph raises on purpose, with typed leaves that carry their data.

Each leaf has a stable machine-readable ``code`` (the GraphQL layer puts it in ``extensions.code``).
Messages never reveal whether something exists when the caller may not read it.
"""

from __future__ import annotations

from typing import Any


class MemosError(Exception):
    """Root of all expected memos-graph errors."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(MemosError):
    """The caller's input is malformed, empty, too large or contradictory; nothing was written."""

    code = "BAD_USER_INPUT"


class NotFound(MemosError):
    """The thing does not exist in a place the caller may read."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"{kind} '{identifier}' not found", kind=kind, id=identifier)
        self.kind = kind
        self.identifier = identifier


class AccessDenied(MemosError):
    """The caller may not do this; the message says no more than the caller may know."""

    code = "FORBIDDEN"


class CubeNotAccessible(AccessDenied):
    """A cube that does not exist and a cube the caller may not read look exactly the same."""

    def __init__(self, cube_id: str) -> None:
        super().__init__(f"cube '{cube_id}' does not exist or is not accessible to you", cube_id=cube_id)
        self.cube_id = cube_id


class Unauthenticated(MemosError):
    """No caller could be identified (unknown or inactive user, missing or wrong key)."""

    code = "UNAUTHENTICATED"


class TooManyAttempts(Unauthenticated):
    """No caller was identified, and this client address has spent its budget of failed API-key attempts:
    refused before the key is looked up (HTTP 429; retry after `retry_after_s` seconds)."""

    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class Conflict(MemosError):
    """The write clashes with what is stored (an id taken, a duplicate where one is not allowed)."""

    code = "CONFLICT"


class BackendUnavailable(MemosError):
    """Neo4j (or another backend) cannot be reached or timed out.

    Nothing was written, with one exception no client can rule out: when Neo4j went away while committing,
    the commit may have landed without its answer arriving. Retrying is safe: adds merge on their text,
    chat turns on their ids, and an update re-applies the same state.
    """

    code = "UNAVAILABLE"


class IndexUnavailable(BackendUnavailable):
    """A search index is missing or still populating (after a rebuild); callers may fall back."""


class RateLimited(MemosError):
    """The caller has reached a bound on its use of a shared backend (the chat model: calls at once, calls per
    minute, tokens per hour) or the server on all callers' use of it. Refused before the backend was called:
    nothing was done, and the same call may succeed later (`retry_after_s`, when known, says when)."""

    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class ConfigurationError(MemosError):
    """The configuration is inconsistent (for example the index dimension differs from the model's)."""

    code = "CONFIGURATION"


class FeatureNotAvailable(MemosError):
    """The operation exists in the API but its backend is not built or not configured yet."""

    code = "NOT_AVAILABLE"
