"""Browser packages installed from the npm registry by scripts/setup.sh into the cache, served by the app."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


def installed_node_modules(variable: str, default_name: str, package: str) -> Path | None:
    """The node_modules directory holding `package`, under $<variable> or else <cache>/<default_name>;
    None (with a warning) when set-up did not install it there."""
    cache = Path(os.environ.get("MEMOS_GRAPH_CACHE") or Path.home() / ".cache" / "memos-graph")
    configured = os.environ.get(variable) or str(cache / default_name)
    path = Path(configured) / "node_modules"
    if not (path / package).is_dir():
        logger.warning("%s=%s holds no %s package (scripts/setup.sh installs it)", variable, configured, package)
        return None
    return path
