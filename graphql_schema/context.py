"""The per-request context: the authenticated caller, the services, and DataLoaders for nested fields."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from memos_graph.domain import CubeAccess, User
from memos_graph.services.bundle import Services
from memos_graph.services.validation import is_valid_id

T = TypeVar("T")


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

    async def run(self, work: Callable[[], T]) -> T:
        """Run a blocking service call off the event loop."""
        return await asyncio.to_thread(work)

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
