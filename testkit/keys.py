"""The ROOT key of one test or benchmark session: made at import, written nowhere."""

from __future__ import annotations

from memos_graph.services.identity import new_api_key

# Stored as ROOT's key in the suite's database by keyed_runtime (the operator's explicit action; a start-up
# never replaces a key ROOT has).
ROOT_KEY = new_api_key()
