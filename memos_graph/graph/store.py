"""The Neo4j driver, owned in one place; every driver error leaves as a typed MemosError."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
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

from memos_graph.config import Neo4jSettings
from memos_graph.errors import BackendUnavailable, Conflict, IndexUnavailable, MemosError
from memos_graph.graph.queries import Choices, query

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Neo4j refuses a transaction timeout of 0; the shortest one a call near its deadline still gets.
MIN_STATEMENT_TIMEOUT_S = 0.05


class CallDeadline:
    """How long the current call (a GraphQL field or an MOS method) may take, and where its time went.

    Set for a call with `deadline_scope` (contextvars: asyncio.to_thread and `call_within` carry it into the
    worker thread). GraphStore checks it before every statement and, for writes, again right before the
    commit, and bounds each transaction's timeout by what is left; so a call past its deadline stops at its
    next step and has written nothing, unless a commit was already on its way when the time ran out.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.expires = self.started + seconds
        self.committed = False  # a write of this call committed (its message must not say "nothing written")
        self._spent: dict[str, float] = {}
        self._running: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left (negative once past)."""
        return self.expires - time.monotonic()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Account the time of the block to `name` ("embedding", "Neo4j", ...); nested phases count to the outer."""
        with self._lock:
            if self._running is not None:
                outer = True
            else:
                outer = False
                self._running = (name, time.monotonic())
        try:
            yield
        finally:
            if not outer:
                with self._lock:
                    if self._running is not None:
                        running, since = self._running
                        self._spent[running] = self._spent.get(running, 0.0) + time.monotonic() - since
                    self._running = None

    def running_phase(self) -> str | None:
        """The phase the call is in now, if any."""
        with self._lock:
            return None if self._running is None else self._running[0]

    def spent(self) -> str:
        """Where the time went so far: "embedding 31.2 s, Neo4j 0.4 s"."""
        now = time.monotonic()
        with self._lock:
            spent = dict(self._spent)
            if self._running is not None:
                name, since = self._running
                spent[name] = spent.get(name, 0.0) + now - since
        other = now - self.started - sum(spent.values())
        if other >= 0.05:
            spent["other work"] = other
        shown = [f"{name} {seconds:.1f} s" for name, seconds in spent.items() if seconds >= 0.05]
        return ", ".join(shown) or "no step took time"

    def outcome(self) -> str:
        """What a client told UNAVAILABLE now may assume about writes."""
        if self.committed:
            return "an earlier write of this call committed; retrying is safe"
        return "nothing was written"

    def check(self, before: str) -> None:
        """BackendUnavailable when the deadline has passed; `before` names the step that will not run."""
        if self.remaining() <= 0:
            raise BackendUnavailable(
                f"the call ran past its {self.seconds:g} s deadline before {before} ({self.spent()}); "
                f"{self.outcome()}"
            )

    def timeout_message(self) -> str:
        """The answer a caller gets when it stops waiting for the call at the deadline."""
        running = self.running_phase()
        if running == WRITE_PHASE:
            what = f"a commit in flight {IN_DOUBT}"
        elif self.committed:
            what = "an earlier write of this call committed; the call stops before writing more"
        else:
            what = "the call stops before it writes: nothing will be written"
        culprit = "Neo4j" if running in (READ_PHASE, WRITE_PHASE) else (running or "the call")
        return f"no answer within {self.seconds:g} s: {culprit} ran out of time ({self.spent()}); {what}"


# What a refused write says when its commit may have landed all the same (at the deadline, or after an
# attempt sent its COMMIT).
IN_DOUBT = "may still land (retrying is safe)"
READ_PHASE = "Neo4j"
WRITE_PHASE = "Neo4j write"
_DEADLINE: contextvars.ContextVar[CallDeadline | None] = contextvars.ContextVar("memos_call_deadline", default=None)


def current_deadline() -> CallDeadline | None:
    """The deadline of the call running in this context, if any."""
    return _DEADLINE.get()


@contextlib.contextmanager
def deadline_scope(deadline: CallDeadline | None) -> Iterator[CallDeadline | None]:
    """Run the block under `deadline` (None: without one)."""
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def check_deadline(before: str) -> None:
    """BackendUnavailable if the current call is past its deadline (no-op without one)."""
    deadline = _DEADLINE.get()
    if deadline is not None:
        deadline.check(before)


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Account the block's time to `name` in the current call's deadline (no-op without one)."""
    deadline = _DEADLINE.get()
    if deadline is None:
        yield
        return
    with deadline.phase(name):
        yield


def call_within(work: Callable[[], T], seconds: float) -> T:
    """Run blocking work under a deadline of `seconds`; BackendUnavailable when it has not answered by then.

    The work runs on a thread of its own, so a Neo4j that stopped answering (frozen, not down) holds the
    thread, not the caller; the thread stops at its next statement or before its commit (CallDeadline).
    Within a call that has a deadline already, the work runs inline under that one.
    """
    if _DEADLINE.get() is not None:
        return work()
    deadline = CallDeadline(seconds)
    context = contextvars.copy_context()
    context.run(_DEADLINE.set, deadline)
    future: Future[T] = Future()

    def target() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(context.run(work))
        except BaseException as exc:  # handed to the caller, whatever it is
            future.set_exception(exc)

    threading.Thread(target=target, name="memos-call", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise BackendUnavailable(deadline.timeout_message()) from None


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


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Map driver and server errors to the project's error types."""
    try:
        yield
    except MemosError:
        raise
    except neo4j_errors.ConstraintError as exc:
        raise constraint_conflict(exc.message) from exc
    except neo4j_errors.AuthError as exc:
        raise BackendUnavailable("Neo4j refused the configured credentials") from exc
    except (neo4j_errors.DriverError, neo4j_errors.TransientError, OSError) as exc:
        raise BackendUnavailable(f"Neo4j is unavailable: {type(exc).__name__}: {exc}") from exc
    except neo4j_errors.ClientError as exc:
        if exc.code and "TransactionTimedOut" in exc.code:
            raise BackendUnavailable("the Neo4j transaction timed out") from exc
        if exc.code and "ProcedureCallFailed" in exc.code and "index" in (exc.message or "").lower():
            raise IndexUnavailable(f"a search index is unavailable: {exc.message}") from exc
        raise
    except neo4j_errors.DatabaseError as exc:
        raise BackendUnavailable(f"Neo4j failed: {exc.message}") from exc


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
                    self.driver.execute_query("RETURN 1", database_=self.database)
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
        return self.driver.session(
            database=self.database, bookmark_manager=self.driver.execute_query_bookmark_manager
        )

    def _timeout(self, timeout_s: float | None = None) -> float:
        """A transaction's timeout: the configured one, cut to what the current call's deadline leaves."""
        timeout = timeout_s or self.settings.transaction_timeout_s
        deadline = _DEADLINE.get()
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
        with translate_errors(), phase(READ_PHASE):
            records, _, _ = self.driver.execute_query(
                self._query(query(name, choices)), params, database_=self.database, routing_=RoutingControl.READ
            )
        return records

    def run_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run several statements in one read transaction."""
        check_deadline("the next Neo4j read")

        @unit_of_work(timeout=self._timeout())
        def bounded(tx: ManagedTransaction) -> T:
            return work(tx)

        with translate_errors(), phase(READ_PHASE), self._session() as session:
            return session.execute_read(bounded)

    def run_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run a unit of work in one write transaction: all of it commits, or none of it.

        Under a call deadline, a call past it is refused before the transaction opens, and the transaction
        is rolled back instead of committed when the deadline passed while it ran (BackendUnavailable).
        """
        check_deadline("opening the write transaction")
        deadline = _DEADLINE.get()
        committing = False

        @unit_of_work(timeout=self._timeout())
        def bounded(tx: ManagedTransaction) -> T:
            nonlocal committing
            check_deadline("the write transaction's first statement")
            result = work(tx)
            check_deadline("the commit")  # raising here rolls the transaction back
            committing = True  # the driver sends COMMIT once this returns
            return result

        try:
            with translate_errors(), phase(WRITE_PHASE), self._session() as session:
                result = session.execute_write(bounded)
        except BackendUnavailable as exc:
            if not committing:
                raise
            # An attempt sent its COMMIT and the outcome never came back as a success: a Neo4j shutting down
            # may apply a COMMIT and still answer it DatabaseUnavailable (the driver then retries into a
            # Neo4j that is gone), and a connection lost after COMMIT was sent leaves it unknown. Say so.
            raise BackendUnavailable(f"{exc.message}; the write reached its commit, which {IN_DOUBT}") from exc
        if deadline is not None:
            deadline.committed = True
        return result

    def run_statement(self, text: str, **params: Any) -> list[neo4j.Record]:
        """Run a fixed statement (schema maintenance, never user text) in its own transaction."""
        return self.run_slow_statement(text, self.settings.transaction_timeout_s, params)

    def run_slow_statement(self, text: str, timeout_s: float, params: dict[str, Any]) -> list[neo4j.Record]:
        """Like run_statement, with its own transaction timeout (index population, bulk maintenance)."""
        check_deadline("the next Neo4j statement")
        with translate_errors(), phase(READ_PHASE):
            records, _, _ = self.driver.execute_query(self._query(text, timeout_s), params, database_=self.database)
        return records


    def run_autocommit(self, text: str, timeout_s: float | None = None, **params: Any) -> None:
        """Run a fixed maintenance statement in an auto-commit transaction (needed for IN TRANSACTIONS).

        The timeout covers the whole statement, every inner transaction included: bulk deletes need more
        than the default.
        """
        check_deadline("the next Neo4j statement")
        with translate_errors(), phase(WRITE_PHASE), self._session() as session:
            session.run(self._query(text, timeout_s), params).consume()


def run_named(tx: ManagedTransaction, name: str, **params: Any) -> list[neo4j.Record]:
    """Run a named query inside a caller's transaction."""
    return list(tx.run(query(name), params))
