"""The per-request context: the authenticated caller, the services, and DataLoaders for nested fields."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from memos_graph.domain import CubeAccess, TextualMemoryItem, User
from memos_graph.domain.filters import HistoryRequest
from memos_graph.domain.results import VersionPage
from memos_graph.domain.traversal import Derivation, ProvenanceNode, Share
from memos_graph.services.traversal import TraversalService
from memos_graph.services.wiring import Services
from memos_graph.workers import WorkerPool, within_deadline

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def by_pair(pairs: Sequence[tuple[str, str]], found: Mapping[str, V]) -> dict[tuple[str, str], V]:
    """Results keyed by memory id, keyed again by the (cube_id, memory_id) pairs a loader was asked for."""
    return {pair: found[pair[1]] for pair in pairs if pair[1] in found}


# A history page where the caller may not read the memory's cube (or it holds no such memory any more).
EMPTY_HISTORY = VersionPage([], False)


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
    _history_loaders: dict[int, DataLoader[HistoryRequest, VersionPage]] = field(default_factory=dict)

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

    def history_loader(self, first: int) -> DataLoader[HistoryRequest, VersionPage]:
        """Pages of `first` versions (one loader per page size a request asks for: one statement per level and
        size), keyed by (cube_id, memory_id, position)."""
        loader = self._history_loaders.get(first)
        if loader is None:
            loader = self._history_loaders[first] = self._loader(
                lambda requests: self._walk.histories(self.caller, requests, first, self.access), EMPTY_HISTORY
            )
        return loader

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

    async def run(
        self, work: Callable[[], T], uses_llm: bool = False, seconds: float | None = None, light: bool = False
    ) -> T:
        """Run a blocking service call on the worker pool, within the configured deadline (or `seconds`, for
        calls that may take long on purpose, such as dumps and imports: transfer.timeout_s); `light` for one
        indexed point read (the pool's light lane, memos_graph.workers.WorkerPool)."""
        if seconds is None:
            seconds = self.services.runtime.config.call_deadline_s(uses_llm)
        if self.pool is None:
            return await within_deadline(work, seconds)
        return await self.pool.run(self.caller.user_id, work, seconds, light=light)


Info = strawberry.Info[Context, None]
