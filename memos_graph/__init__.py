"""memos-graph: the MemOS MOS API on Neo4j.

Importing the package sets no environment variable and imports no model library: litellm is imported
only when a chat model or a litellm embedder is built (memos_graph/llm/loader.py, which keeps its import
offline).
"""

from memos_graph.config import MOSConfig
from memos_graph.domain import (
    MemoryStatus,
    MemoryType,
    Permission,
    SourceReference,
    TextualMemoryItem,
    TextualMemoryMetadata,
    UserRole,
)
from memos_graph.errors import (
    AccessDenied,
    BackendUnavailable,
    ConfigurationError,
    Conflict,
    CubeNotAccessible,
    FeatureNotAvailable,
    InvalidInput,
    MemosError,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from memos_graph.mos import MOS

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
    "RateLimited",
    "SourceReference",
    "TextualMemoryItem",
    "TextualMemoryMetadata",
    "Unauthenticated",
    "UserRole",
]
