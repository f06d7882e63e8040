"""User nodes, through the runtime's own store (their properties are declared in graph/models.py)."""

from __future__ import annotations

from typing import Any

from memos_graph.domain import User, UserRole
from memos_graph.domain.users import KeyChange
from memos_graph.errors import Conflict
from memos_graph.graph.convert import iso, iso_from_text
from memos_graph.graph.queries import query
from memos_graph.graph.store import GraphStore, run_named


def to_user_from_map(properties: dict[str, Any]) -> User:
    """Domain User from a User node's property map: the one converter every user read goes through."""
    return User(
        user_id=properties["id"],
        user_name=properties["name"],
        role=UserRole(properties["role"]),
        created_at=iso(properties.get("created_at")) or "",
        is_active=bool(properties.get("is_active", True)),
        uid=str(properties.get("uid") or ""),
    )


class UserRepository:
    """Create, find and list users."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def get(self, user_id: str) -> User | None:
        """The user with this id, or None (a read transaction the driver retries)."""
        return self.list_by_ids([user_id]).get(user_id)

    def create(self, user_id: str, user_name: str, role: UserRole, api_key_hash: str | None = None) -> User:
        """Create a user; Conflict if the id is taken."""
        try:
            records = self._store.run_write(
                lambda tx: run_named(
                    tx, "user_create", user_id=user_id, user_name=user_name, role=role.value, api_key_hash=api_key_hash
                )
            )
        except Conflict as exc:  # the only uniqueness a new user's id and key hash can break
            raise Conflict(f"user '{user_id}' already exists", user_id=user_id) from exc
        return to_user_from_map(records[0]["user"])

    def get_by_api_key_hash(self, digest: str) -> User | None:
        """The user holding the key with this hash, or None."""
        records = self._store.read("user_by_api_key_hash", digest=digest)
        return None if not records else to_user_from_map(records[0]["user"])

    def replace_api_key_hash(self, user_id: str, digest: str | None, actor_id: str, action: str) -> str:
        """Replace the user's key hash (None: no key at all) and record by whom, how and when; the time
        (ISO 8601, UTC) it recorded."""
        records = self._store.run_write(
            lambda tx: run_named(
                tx, "user_replace_api_key", user_id=user_id, digest=digest, actor_id=actor_id, action=action
            )
        )
        return iso_from_text(records[0]["reset_at"]) if records else ""

    def key_change(self, user_id: str) -> KeyChange | None:
        """The stored record of the user's latest key change, or None (no change recorded, no such user)."""
        records = self._store.read("user_key_change", user_id=user_id)
        if not records or records[0]["at"] is None:
            return None
        record = records[0]
        return KeyChange(at=iso(record["at"]) or "", by=record["by"], action=record["action"])

    def claim_api_key_hash(self, user_id: str, digest: str) -> bool:
        """Set the user's key hash only if it has none; whether it was set (one statement, so races are safe)."""
        records = self._store.run_write(
            lambda tx: run_named(tx, "user_claim_api_key_hash", user_id=user_id, digest=digest)
        )
        return bool(records)

    def set_active(self, user_id: str, active: bool) -> None:
        """Deactivate or reactivate a user."""
        self._store.run_write(lambda tx: run_named(tx, "user_set_active", user_id=user_id, active=active))

    def begin_delete(self, user_id: str) -> None:
        """First step of deleting a user: inactive, keyless, its cubes inactive (one transaction)."""
        self._store.run_write(lambda tx: run_named(tx, "user_deactivate_for_delete", user_id=user_id))

    def finish_delete(self, user_id: str, timeout_s: float) -> None:
        """Last steps of deleting a user (its cubes already gone): chat history in batches, then the node."""
        self._store.run_autocommit(query("user_purge_turns"), timeout_s, user_id=user_id)
        self._store.run_write(lambda tx: run_named(tx, "user_delete", user_id=user_id))

    def list_by_ids(self, user_ids: list[str]) -> dict[str, User]:
        """Users by id, for batched loading; unknown ids are absent."""
        records = self._store.read("users_by_ids", user_ids=user_ids)
        users = (to_user_from_map(record["user"]) for record in records)
        return {user.user_id: user for user in users}

    def list_active(self) -> list[User]:
        """Every active user, oldest first."""
        return [to_user_from_map(record["user"]) for record in self._store.read("users_active")]

    def any_with_role(self, role: UserRole) -> bool:
        """Whether any user holds this role."""
        return bool(self._store.read("user_with_role_exists", role=role.value))
