"""What one invocation works with: the configuration, at most one MOS, the acting user, and its result."""

from __future__ import annotations

import argparse
import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from memos_graph.config import MOSConfig
from memos_graph.domain import User
from memos_graph.mos import MOS


@dataclass(frozen=True)
class Outcome:
    """A command's result: `data` for --json, `text` for people."""

    data: Any
    text: str


class Session:
    """Loads the configuration and starts the MOS only when a command needs them, once; close() releases it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._config: MOSConfig | None = None
        self._mos: MOS | None = None

    @property
    def config_path(self) -> str | None:
        """The --config file, if one was given."""
        path: str | None = getattr(self.args, "config", None)
        return path

    @property
    def config(self) -> MOSConfig:
        """The --config file (if any) with the environment's overrides, as MOSConfig.load builds it."""
        if self._config is None:
            self._config = MOSConfig.load(self.config_path)
        return self._config

    @property
    def mos(self) -> MOS:
        """The invocation's MOS: connected, schema applied if configured, the configured user bootstrapped."""
        if self._mos is None:
            self._mos = MOS(self.config, apply_schema=self.config.apply_schema)
        return self._mos

    @property
    def user_id(self) -> str:
        """The acting user: --user, else the configuration's user_id (MEMOS_USER_ID, default root)."""
        chosen: str | None = getattr(self.args, "user", None)
        return chosen or self.config.user_id

    def actor(self) -> User:
        """The acting user as an active user record (Unauthenticated when there is none)."""
        return self.mos.cubes.actor(self.user_id)

    def close(self) -> None:
        """Release the Neo4j driver if a MOS was started."""
        if self._mos is not None:
            self._mos.close()
            self._mos = None


Handler = Callable[[argparse.Namespace, Session], Outcome]


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from what the services return (pydantic models, dataclasses, enums, tuples)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
