"""The one import of litellm, kept offline."""

from __future__ import annotations

import os
from typing import Any


def import_litellm() -> Any:
    """litellm, imported with LITELLM_LOCAL_MODEL_COST_MAP set just before (unless the caller set it):
    otherwise its import fetches a model price list over the network."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm
