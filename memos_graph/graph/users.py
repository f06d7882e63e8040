"""User nodes, through neomodel."""

from __future__ import annotations

from neomodel import db
from neomodel.exceptions import UniqueProperty

from memos_graph.domain import User, UserRole
from memos_graph.errors import Conflict
from memos_graph.graph.convert import iso
from memos_graph.graph.models import UserNode
from memos_graph.graph.store import GraphStore, translate_errors


def to_user(node: UserNode) -> User:
    """Domain User from its neomodel node."""
    return User(
        user_id=node.user_id,
        user_name=node.name,
        role=UserRole(node.role),
        created_at=iso(node.created_at) or "",
        is_active=bool(node.is_active),
    )


class UserRepository:
    """Create, find and list users."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        with translate_errors():
            node = UserNode.nodes.get_or_none(user_id=user_id)
        return None if node is None else to_user(node)

    def create(self, user_id: str, user_name: str, role: UserRole, api_key_hash: str | None = None) -> User:
        """Create a user; Conflict if the id is taken."""
        try:
            with translate_errors(), db.write_transaction:
                node = UserNode(user_id=user_id, name=user_name, role=role.value, api_key_hash=api_key_hash)
                node.save()
        except UniqueProperty as exc:
            raise Conflict(f"user '{user_id}' already exists", user_id=user_id) from exc
        return to_user(node)

    def list_active(self) -> list[User]:
        """Every active user, oldest first."""
        with translate_errors():
            nodes = UserNode.nodes.filter(is_active=True).order_by("created_at")
            return [to_user(node) for node in nodes]

    def any_with_role(self, role: UserRole) -> bool:
        """Whether any user holds this role."""
        with translate_errors():
            return UserNode.nodes.filter(role=role.value).first_or_none() is not None
