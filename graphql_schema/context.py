"""The per-request context: the authenticated caller, the services, and DataLoaders for nested fields."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from memos_graph.domain import CubeAccess, User
from memos_graph.errors import BackendUnavailable
from memos_graph.services.bundle import Services
from memos_graph.services.validation import is_valid_id

T = TypeVar("T")


async def within_deadline(work: Callable[[], T], seconds: float) -> T:
    """Run blocking work on a thread; BackendUnavailable if it has not answered after `seconds`.

    The thread itself cannot be cancelled: it ends when the driver gives up. The client gets its answer now.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), seconds)
    except TimeoutError as exc:
        raise BackendUnavailable(f"no answer from Neo4j or the chat model within {seconds:g} s") from exc


@dataclass
class Context:
    """Built once per request by the ASGI app after the API key was checked."""

    services: Services
    caller: User
    user_loader: DataLoader[str, User | None] = field(init=False)
    cube_loader: DataLoader[str, CubeAccess | None] = field(init=False)

    def __post_init__(self) -> None:
        self.user_loader = DataLoader(load_fn=self._load_users)
        self.cube_loader = DataLoader(load_fn=self._load_cubes)

    async def run(self, work: Callable[[], T], uses_llm: bool = False) -> T:
        """Run a blocking service call off the event loop, within the configured deadline."""
        config = self.services.runtime.config
        seconds = config.neo4j.call_deadline_s
        if uses_llm and config.llm is not None:
            seconds += config.llm.timeout_s * (config.llm.num_retries + 1)
        return await within_deadline(work, seconds)

    async def _load_users(self, user_ids: Sequence[str]) -> list[User | None]:
        found = await self.run(lambda: self.services.runtime.users.list_by_ids(list(user_ids)))
        return [found.get(user_id) for user_id in user_ids]

    async def _load_cubes(self, cube_ids: Sequence[str]) -> list[CubeAccess | None]:
        """The caller's access to each cube; None where the caller may not read it."""

        def load() -> dict[str, CubeAccess]:
            limits = self.services.runtime.config.limits
            valid = [cube_id for cube_id in cube_ids if is_valid_id(cube_id, limits)]
            relations = self.services.runtime.cubes.relations(self.caller.user_id, valid)
            granted = {}
            for cube_id, relation in relations.items():
                entry = self.services.cubes.access_of(self.caller, relation)
                if entry.can_read:
                    granted[cube_id] = entry
            return granted

        found = await self.run(load)
        return [found.get(cube_id) for cube_id in cube_ids]


Info = strawberry.Info[Context, None]
