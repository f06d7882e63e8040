"""The one import of litellm, kept offline."""

from __future__ import annotations

import logging
import os
from typing import Any

QUIET_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def import_litellm() -> Any:
    """litellm, imported with LITELLM_LOCAL_MODEL_COST_MAP set just before (unless the caller set it):
    otherwise its import fetches a model price list over the network."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # litellm logs every call, twice, at INFO ("LiteLLM completion() model= ..."): warnings and errors only,
    # unless the operator set these loggers' level (to debug litellm).
    for name in QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)
    return litellm
