"""The audit trail of account changes: one structured line each on the `memos_graph.audit` logger.

Each line reads `audit action=<action> actor=<user id> target=<user id> at=<UTC ISO time> ...` and carries
the same fields as a dict in the record's `audit` attribute, for a JSON log formatter. Key changes are also
recorded durably on the User node (api_key_reset_at / _by / _action: see cypher/queries/user_replace_api_key).
No line ever holds a key, a key's hash or anything a memory says.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

AUDIT_LOGGER = "memos_graph.audit"

_logger = logging.getLogger(AUDIT_LOGGER)


def audit(action: str, actor: str, target: str, at: str | None = None, **details: str | bool | int) -> None:
    """Log one account change: what, by whom, to whom, when (`at`: the stored time, else now)."""
    fields: dict[str, str | bool | int] = {
        "action": action,
        "actor": actor,
        "target": target,
        "at": at or datetime.now(UTC).isoformat(),
        **details,
    }
    # %r quotes the ids, so an id holding spaces or "=" cannot forge another field of the line.
    _logger.warning("audit " + " ".join(f"{name}=%r" for name in fields), *fields.values(), extra={"audit": fields})
