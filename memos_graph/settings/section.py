"""The base of every section of MOSConfig, and the one parsing rule several sections share."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict


def split_path_list(value: Any) -> Any:
    """A path list given as one string (PATH-style, os.pathsep between entries) as a tuple."""
    if isinstance(value, str):
        return tuple(part for part in value.split(os.pathsep) if part)
    return value


class Section(BaseModel):
    """A section of the settings: unknown keys refused, frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)
