"""Call deadlines: how long one call (a GraphQL field, an MOS method, an MCP tool) may take, and where its
time went. Set by the doors for each call; checked by the graph layer before every statement and commit."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from memos_graph.errors import BackendUnavailable

T = TypeVar("T")


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
                f"the call ran past its {self.seconds:g} s deadline before {before} ({self.spent()}); {self.outcome()}"
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
