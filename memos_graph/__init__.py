"""memos-graph: the MemOS MOS API on Neo4j."""

import os

# litellm fetches a model price list over the network at import unless told not to; no import of
# litellm anywhere in this package may run before this line.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from memos_graph.config import MOSConfig  # noqa: E402
from memos_graph.domain import (  # noqa: E402
    MemoryStatus,
    MemoryType,
    Permission,
    SourceReference,
    TextualMemoryItem,
    TextualMemoryMetadata,
    UserRole,
)
from memos_graph.errors import (  # noqa: E402
    AccessDenied,
    BackendUnavailable,
    ConfigurationError,
    Conflict,
    CubeNotAccessible,
    FeatureNotAvailable,
    InvalidInput,
    MemosError,
    NotFound,
    Unauthenticated,
)
from memos_graph.mos import MOS  # noqa: E402

__all__ = [
    "MOS",
    "AccessDenied",
    "BackendUnavailable",
    "ConfigurationError",
    "Conflict",
    "CubeNotAccessible",
    "FeatureNotAvailable",
    "InvalidInput",
    "MOSConfig",
    "MemoryStatus",
    "MemoryType",
    "MemosError",
    "NotFound",
    "Permission",
    "SourceReference",
    "TextualMemoryItem",
    "TextualMemoryMetadata",
    "Unauthenticated",
    "UserRole",
]
