"""The per-request context: the authenticated caller, the services, and DataLoaders for nested fields."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from memos_graph.deadlines import CallDeadline, deadline_scope
from memos_graph.domain import CubeAccess, TextualMemoryItem, User
from memos_graph.domain.traversal import Derivation, ProvenanceNode, Share
from memos_graph.errors import BackendUnavailable
from memos_graph.services.bundle import Services
from memos_graph.services.traversal import TraversalService

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _under(deadline: CallDeadline, work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        with deadline_scope(deadline):
            return work()

    return run


async def within_deadline(work: Callable[[], T], seconds: float) -> T:
    """Run blocking work on a thread under a call deadline; BackendUnavailable if it has not answered after
    `seconds`.

    The thread itself cannot be cancelled; it stops at its next Neo4j statement or before its commit
    (memos_graph.graph.store.CallDeadline). The client gets its answer now.
    """
    deadline = CallDeadline(seconds)
    try:
        return await asyncio.wait_for(asyncio.to_thread(_under(deadline, work)), seconds)
    except TimeoutError as exc:
        raise BackendUnavailable(deadline.timeout_message()) from exc


class _Slots:
    """One caller's share of the pool: a semaphore, and how many of its calls wait or run."""

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0


class WorkerPool:
    """The threads GraphQL resolvers run blocking service calls on, shared fairly between callers.

    `workers` threads in all; each caller holds at most `per_caller` of them at once, its other calls wait
    (without a thread) within their deadline, so one caller, however many fields or requests it sends,
    leaves the other threads to everyone else. A call keeps its slot until its thread has finished, also
    when the client was already answered UNAVAILABLE at the deadline.
    """

    def __init__(self, workers: int, per_caller: int) -> None:
        self.workers = workers
        self.per_caller = per_caller
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memos-worker")
        self._callers: dict[str, _Slots] = {}

    def shutdown(self) -> None:
        """Stop taking work; running calls finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _leave(self, caller_id: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0 and self._callers.get(caller_id) is slots:
            del self._callers[caller_id]

    async def run(self, caller_id: str, work: Callable[[], T], seconds: float) -> T:
        """Run `work` on a worker within `seconds` (waiting for one of the caller's slots counts)."""
        deadline = CallDeadline(seconds)
        slots = self._callers.get(caller_id)
        if slots is None:
            slots = self._callers[caller_id] = _Slots(self.per_caller)
        slots.users += 1
        submitted = False
        try:
            try:
                await asyncio.wait_for(slots.semaphore.acquire(), max(deadline.remaining(), 0.0))
            except TimeoutError:
                raise BackendUnavailable(
                    f"no worker for this call within {seconds:g} s: the caller's other calls held all "
                    f"{self.per_caller} workers one caller may use; nothing was done"
                ) from None
            try:
                context = contextvars.copy_context()
                future = asyncio.get_running_loop().run_in_executor(self._executor, context.run, _under(deadline, work))
            except BaseException:
                slots.semaphore.release()
                raise
            submitted = True

            def finished(done: asyncio.Future[T]) -> None:
                if not done.cancelled():
                    done.exception()  # retrieved: an answer nobody waits for any more is not an error
                slots.semaphore.release()
                self._leave(caller_id, slots)

            future.add_done_callback(finished)
            try:
                return await asyncio.wait_for(asyncio.shield(future), max(deadline.remaining(), 0.0))
            except TimeoutError:
                raise BackendUnavailable(deadline.timeout_message()) from None
        finally:
            if not submitted:
                self._leave(caller_id, slots)


def by_pair(pairs: Sequence[tuple[str, str]], found: Mapping[str, V]) -> dict[tuple[str, str], V]:
    """Results keyed by memory id, keyed again by the (cube_id, memory_id) pairs a loader was asked for."""
    return {pair: found[pair[1]] for pair in pairs if pair[1] in found}


@dataclass
class Context:
    """Built once per request by the ASGI app after the API key was checked."""

    services: Services
    caller: User
    # The app's worker pool; without one (tests building a Context by hand) calls use asyncio's threads.
    pool: WorkerPool | None = None
    # The caller's access to each cube this request has looked at (None: may not read it), read once per
    # request by whichever field asks first and reused by the others.
    access: dict[str, CubeAccess | None] = field(default_factory=dict)

    # Made on first use: most operations (search, add, me) resolve no nested field. Each loader gathers the
    # keys one level of a query asks for and answers them with one service call (one or two statements), under
    # the caller's access; it caches per request.
    @functools.cached_property
    def user_loader(self) -> DataLoader[str, User | None]:
        return self._loader(self._walk.users, None)

    @functools.cached_property
    def cube_loader(self) -> DataLoader[str, CubeAccess | None]:
        """The caller's access to each cube; None where the caller may not read it."""
        return self._loader(lambda ids: self._walk.cubes(self.caller, ids, self.access), None)

    @functools.cached_property
    def owned_cubes_loader(self) -> DataLoader[str, list[CubeAccess]]:
        return self._loader(lambda ids: self._walk.owned_cubes(self.caller, ids, self.access), [])

    @functools.cached_property
    def shares_loader(self) -> DataLoader[str, list[Share]]:
        return self._loader(lambda ids: self._walk.shares(self.caller, ids, self.access), [])

    @functools.cached_property
    def history_loader(self) -> DataLoader[tuple[str, str], list[TextualMemoryItem]]:
        return self._loader(lambda pairs: by_pair(pairs, self._walk.histories(self.caller, pairs, self.access)), [])

    @functools.cached_property
    def derivation_loader(self) -> DataLoader[tuple[str, str], list[Derivation]]:
        return self._loader(lambda pairs: by_pair(pairs, self._walk.derivations(self.caller, pairs, self.access)), [])

    @functools.cached_property
    def message_loader(self) -> DataLoader[tuple[str, str], ProvenanceNode | None]:
        return self._loader(lambda pairs: self._walk.provenance(self.caller, "Message", pairs, self.access), None)

    @functools.cached_property
    def document_loader(self) -> DataLoader[tuple[str, str], ProvenanceNode | None]:
        return self._loader(lambda pairs: self._walk.provenance(self.caller, "Document", pairs, self.access), None)

    @functools.cached_property
    def message_memories_loader(self) -> DataLoader[tuple[str, str], list[TextualMemoryItem]]:
        return self._loader(lambda pairs: self._walk.derived_memories(self.caller, "Message", pairs, self.access), [])

    @functools.cached_property
    def document_chunks_loader(self) -> DataLoader[tuple[str, str], list[TextualMemoryItem]]:
        return self._loader(lambda pairs: self._walk.derived_memories(self.caller, "Document", pairs, self.access), [])

    @functools.cached_property
    def memory_node_loader(self) -> DataLoader[str, tuple[str, TextualMemoryItem] | None]:
        return self._loader(lambda ids: self._walk.memories_by_id(self.caller, ids, self.access), None)

    @property
    def _walk(self) -> TraversalService:
        return self.services.traversal

    def _loader(self, fetch: Callable[[list[K]], Mapping[K, V]], missing: V) -> DataLoader[K, V]:
        """A DataLoader answering each batch with `fetch` on the worker pool; `missing` for absent keys."""

        async def load(keys: Sequence[K]) -> list[V]:
            batch = list(keys)
            found = await self.run(lambda: fetch(batch))
            return [found.get(key, missing) for key in batch]

        return DataLoader(load_fn=load)

    async def run(self, work: Callable[[], T], uses_llm: bool = False, seconds: float | None = None) -> T:
        """Run a blocking service call on the worker pool, within the configured deadline (or `seconds`, for
        calls that may take long on purpose, such as dumps and imports: transfer.timeout_s)."""
        if seconds is None:
            seconds = self.services.runtime.config.call_deadline_s(uses_llm)
        if self.pool is None:
            return await within_deadline(work, seconds)
        return await self.pool.run(self.caller.user_id, work, seconds)


Info = strawberry.Info[Context, None]
