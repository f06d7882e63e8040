"""The exit codes of the memos-graph command: one per error family of memos_graph.errors."""

from __future__ import annotations

from enum import IntEnum

from memos_graph.errors import (
    AccessDenied,
    BackendUnavailable,
    ConfigurationError,
    Conflict,
    CubeNotAccessible,
    FeatureNotAvailable,
    InvalidInput,
    MemosError,
    NotFound,
    RateLimited,
    Unauthenticated,
)


class ExitCode(IntEnum):
    """What a script can rely on; the numbers never change meaning."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    INVALID_INPUT = 3
    NOT_FOUND = 4
    ACCESS_DENIED = 5
    CONFLICT = 6
    UNAVAILABLE = 7
    NOT_CONFIGURED = 8
    RATE_LIMITED = 9
    INTERRUPTED = 130


# Checked in order: CubeNotAccessible is an AccessDenied in the library, but for a script "that cube is not
# there for you" is a not-found, whichever of the two it really is (the library will not say).
_FAMILIES: tuple[tuple[tuple[type[MemosError], ...], ExitCode], ...] = (
    ((InvalidInput,), ExitCode.INVALID_INPUT),
    ((NotFound, CubeNotAccessible), ExitCode.NOT_FOUND),
    ((AccessDenied, Unauthenticated), ExitCode.ACCESS_DENIED),
    ((Conflict,), ExitCode.CONFLICT),
    ((BackendUnavailable,), ExitCode.UNAVAILABLE),
    ((ConfigurationError, FeatureNotAvailable), ExitCode.NOT_CONFIGURED),
    ((RateLimited,), ExitCode.RATE_LIMITED),
)


def exit_code_for(error: MemosError) -> ExitCode:
    """The exit code of an expected error's family (UNEXPECTED for a MemosError outside every family)."""
    for kinds, code in _FAMILIES:
        if isinstance(error, kinds):
            return code
    return ExitCode.UNEXPECTED


EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    unexpected error (a short message; --debug shows the traceback)
  2    usage error (unknown command or option, missing argument)
  3    invalid input (InvalidInput): nothing was written
  4    not found (NotFound, CubeNotAccessible: a cube that does not exist and one you may not read look alike)
  5    access denied (AccessDenied, Unauthenticated: e.g. --user names no active user)
  6    conflict (Conflict: an id already taken, a dump directory that is not empty)
  7    backend unavailable (BackendUnavailable, IndexUnavailable: Neo4j or the chat model cannot be reached;
       also `neo4j status` when the local server is stopped, or a failed `neo4j start|stop`)
  8    not configured or not available (ConfigurationError, FeatureNotAvailable: e.g. chat without a model,
       `neo4j` or `serve` in an installation that lacks scripts/neo4j.sh or the GraphQL package)
  9    rate limited (RateLimited: the user's bound on the chat model, calls at once, per minute or tokens
       per hour; nothing was done and the same command may succeed later)
  130  interrupted (Ctrl-C)"""
