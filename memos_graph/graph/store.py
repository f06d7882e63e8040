"""The Neo4j driver, owned in one place; every driver error leaves as a typed MemosError."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import neo4j
from neo4j import (
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationMinimumSeverity,
    Query,
    RoutingControl,
    unit_of_work,
)
from neo4j import exceptions as neo4j_errors

from memos_graph import metrics
from memos_graph.config import Neo4jSettings
from memos_graph.deadlines import (
    IN_DOUBT,
    READ_PHASE,
    WRITE_PHASE,
    check_deadline,
    current_deadline,
    phase,
)
from memos_graph.errors import BackendUnavailable, Conflict, IndexUnavailable, MemosError
from memos_graph.graph.queries import Choices, query, statement_name
from memos_graph.tracing import statement_span

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Neo4j refuses a transaction timeout of 0; the shortest one a call near its deadline still gets.
MIN_STATEMENT_TIMEOUT_S = 0.05
# The access mode and database of the transaction run_read or run_write has open, for the spans of the named
# statements run_named runs in it.
_TRANSACTION: ContextVar[tuple[str, str]] = ContextVar("memos_neo4j_transaction", default=("write", ""))


def constraint_conflict(message: str | None) -> Conflict:
    """A uniqueness violation as a Conflict naming the label and properties: never Neo4j's message, which
    carries internal node ids and the stored values."""
    text = message or ""
    if "`content_hash`" in text and "`Memory`" in text:
        return Conflict("the cube already holds a memory with this text")
    label = re.search(r"label `([^`]+)`", text)
    names = re.findall(r"`([^`]+)` =", text)
    what = f"another {label.group(1)} with the same {', '.join(names)}" if label and names else "stored data"
    return Conflict(f"the write conflicts with {what}")


def _failed(reason: str) -> BackendUnavailable:
    """UNAVAILABLE saying what failed and what the call wrote: the failed transaction was rolled back, and an
    earlier one of the same call may have committed (the call deadline knows). `reason` alone stays in the
    details, for a write that must say instead that its commit may have landed (GraphStore.run_write)."""
    deadline = current_deadline()
    outcome = deadline.outcome() if deadline is not None else "nothing was written"
    return BackendUnavailable(f"{reason}; {outcome}", reason=reason)


def _logged(kind: str, exc: Exception) -> None:
    """Neo4j's own text (index names and ids, element ids, settings, addresses) for the operator, once and
    without a traceback: the client's message says only what failed."""
    code = getattr(exc, "code", None) or type(exc).__name__
    logger.warning("Neo4j %s: %s: %s", kind, code, getattr(exc, "message", None) or exc)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Map driver and server errors to the project's error types. A client sees our words only: Neo4j's text
    carries index names and ids, element ids, memory settings and server addresses, so it goes to the log."""
    try:
        yield
    except MemosError:
        raise
    except neo4j_errors.ConstraintError as exc:
        raise constraint_conflict(exc.message) from exc
    except neo4j_errors.AuthError as exc:
        raise BackendUnavailable("Neo4j refused the configured credentials") from exc
    except neo4j_errors.IncompleteCommit as exc:
        _logged("lost the connection during a commit", exc)
        raise BackendUnavailable(f"the connection to Neo4j was lost during a commit, which {IN_DOUBT}") from exc
    except (neo4j_errors.DriverError, OSError) as exc:
        _logged("is unavailable", exc)
        raise BackendUnavailable("Neo4j is unavailable (the connection failed)") from exc
    except neo4j_errors.TransientError as exc:
        _logged("refused the transaction for now", exc)
        raise BackendUnavailable("Neo4j is unavailable for now (busy, short of memory or restarting)") from exc
    except neo4j_errors.ClientError as exc:
        if exc.code and "TransactionTimedOut" in exc.code:
            raise BackendUnavailable("the Neo4j transaction timed out") from exc
        if exc.code and "ProcedureCallFailed" in exc.code and "index" in (exc.message or "").lower():
            _logged("has no usable search index", exc)
            raise IndexUnavailable("a search index is unavailable") from exc
        if exc.code and "Memory" in exc.code:  # a transaction over its memory limit: not the caller's input
            _logged("ran out of transaction memory", exc)
            raise _failed("Neo4j failed (out of transaction memory)") from exc
        raise
    except neo4j_errors.DatabaseError as exc:
        _logged("failed", exc)
        raise _failed("Neo4j failed") from exc


class GraphStore:
    """A driver plus the database name and timeouts; read and write helpers that run named queries."""

    def __init__(self, settings: Neo4jSettings) -> None:
        self.settings = settings
        self.database = settings.database
        with translate_errors():
            self.driver: Driver = GraphDatabase.driver(
                settings.uri,
                auth=(settings.user, settings.password.get_secret_value()),
                connection_timeout=settings.connection_timeout_s,
                connection_acquisition_timeout=settings.acquisition_timeout_s,
                max_transaction_retry_time=settings.max_retry_time_s,
                # Our statements name labels and types that a fresh graph lacks; those notices are noise.
                notifications_min_severity=NotificationMinimumSeverity.OFF,
            )

    def wait_until_ready(self, timeout_s: float = 60.0) -> None:
        """Block until Neo4j answers a query, or raise BackendUnavailable."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with translate_errors():
                    self.driver.verify_connectivity()
                    self.driver.execute_query(query("health_ping"), database_=self.database)
                return
            except BackendUnavailable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    def close(self) -> None:
        """Close the driver and its connection pool."""
        self.driver.close()

    def _session(self) -> neo4j.Session:
        # The driver's bookmark manager (the one execute_query uses) makes every session of this process
        # see the writes this process committed before, also when a cluster routes reads to a follower.
        return self.driver.session(database=self.database, bookmark_manager=self.driver.execute_query_bookmark_manager)

    def _timeout(self, timeout_s: float | None = None) -> float:
        """A transaction's timeout: the configured one, cut to what the current call's deadline leaves."""
        timeout = timeout_s or self.settings.transaction_timeout_s
        deadline = current_deadline()
        if deadline is not None:
            timeout = max(min(timeout, deadline.remaining()), MIN_STATEMENT_TIMEOUT_S)
        return timeout

    def _query(self, text: str, timeout_s: float | None = None) -> Query:
        return Query(text, timeout=self._timeout(timeout_s))

    def read(self, name: str, **params: Any) -> list[neo4j.Record]:
        """Run a named query in a read transaction (routed to readers on a cluster)."""
        return self.read_chosen(name, (), params)

    def read_chosen(self, name: str, choices: Choices, params: dict[str, Any]) -> list[neo4j.Record]:
        """Run a named query with its choices made (see graph/queries.py) in a read transaction."""
        check_deadline("the next Neo4j read")
        with statement_span(name, "read", self.database), translate_errors(), phase(READ_PHASE), metrics.neo4j_in_use():
            records, _, _ = self.driver.execute_query(
                self._query(query(name, choices)), params, database_=self.database, routing_=RoutingControl.READ
            )
        return records

    def run_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run several statements in one read transaction."""
        check_deadline("the next Neo4j read")

        attempts = 0

        @unit_of_work(timeout=self._timeout())
        def bounded(tx: ManagedTransaction) -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:  # the driver retries a transient failure by running the function again
                metrics.count_retry("read")
            return work(tx)

        token = _TRANSACTION.set(("read", self.database))
        try:
            with translate_errors(), phase(READ_PHASE), metrics.neo4j_in_use(), self._session() as session:
                return session.execute_read(bounded)
        finally:
            _TRANSACTION.reset(token)

    def run_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run a unit of work in one write transaction: all of it commits, or none of it.

        Under a call deadline, a call past it is refused before the transaction opens, and the transaction
        is rolled back instead of committed when the deadline passed while it ran (BackendUnavailable).
        """
        check_deadline("opening the write transaction")
        deadline = current_deadline()
        committing = False
        attempts = 0

        @unit_of_work(timeout=self._timeout())
        def bounded(tx: ManagedTransaction) -> T:
            nonlocal committing, attempts
            attempts += 1
            if attempts > 1:  # the driver retries a transient failure by running the function again
                metrics.count_retry("write")
            check_deadline("the write transaction's first statement")
            result = work(tx)
            check_deadline("the commit")  # raising here rolls the transaction back
            committing = True  # the driver sends COMMIT once this returns
            return result

        token = _TRANSACTION.set(("write", self.database))
        try:
            with translate_errors(), phase(WRITE_PHASE), metrics.neo4j_in_use(), self._session() as session:
                result = session.execute_write(bounded)
        except BackendUnavailable as exc:
            if not committing:
                raise
            # An attempt sent its COMMIT and the outcome never came back as a success: a Neo4j shutting down
            # may apply a COMMIT and still answer it DatabaseUnavailable (the driver then retries into a
            # Neo4j that is gone), and a connection lost after COMMIT was sent leaves it unknown. Say so.
            if IN_DOUBT in exc.message:
                raise
            reason = exc.details.get("reason", exc.message)
            raise BackendUnavailable(f"{reason}; the write reached its commit, which {IN_DOUBT}") from exc
        finally:
            _TRANSACTION.reset(token)
        if deadline is not None:
            deadline.committed = True
        return result

    def run_statement(self, text: str, **params: Any) -> list[neo4j.Record]:
        """Run a fixed statement (schema maintenance, never user text) in its own transaction."""
        return self.run_slow_statement(text, self.settings.transaction_timeout_s, params)

    def run_slow_statement(self, text: str, timeout_s: float, params: dict[str, Any]) -> list[neo4j.Record]:
        """Like run_statement, with its own transaction timeout (index population, bulk maintenance)."""
        check_deadline("the next Neo4j statement")
        span = statement_span(statement_name(text), "write", self.database)
        with span, translate_errors(), phase(READ_PHASE), metrics.neo4j_in_use():
            records, _, _ = self.driver.execute_query(self._query(text, timeout_s), params, database_=self.database)
        return records

    def run_autocommit(self, text: str, timeout_s: float | None = None, **params: Any) -> None:
        """Run a fixed maintenance statement in an auto-commit transaction (needed for IN TRANSACTIONS).

        The timeout covers the whole statement, every inner transaction included: bulk deletes need more
        than the default.
        """
        check_deadline("the next Neo4j statement")
        span = statement_span(statement_name(text), "write", self.database)
        with span, translate_errors(), phase(WRITE_PHASE), metrics.neo4j_in_use(), self._session() as session:
            session.run(self._query(text, timeout_s), params).consume()


def run_named(tx: ManagedTransaction, name: str, **params: Any) -> list[neo4j.Record]:
    """Run a named query inside a caller's transaction."""
    operation, database = _TRANSACTION.get()
    with statement_span(name, operation, database):
        return list(tx.run(query(name), params))
