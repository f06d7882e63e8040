"""Users: bootstrap of the root user, creation, listing, and what a user can see."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr

from memos_graph.domain import User, UserRole
from memos_graph.errors import AccessDenied, Conflict, Unauthenticated
from memos_graph.services import access
from memos_graph.services.cubes import CubeService
from memos_graph.services.identity import hash_api_key, new_api_key
from memos_graph.services.runtime import Runtime
from memos_graph.services.validation import check_id, check_text

logger = logging.getLogger(__name__)


class UserService:
    """User management with the role rules of mos-api.md section 2."""

    def __init__(self, runtime: Runtime, cubes: CubeService) -> None:
        self._rt = runtime
        self._cubes = cubes

    def bootstrap(self, root_id: str, root_name: str, root_api_key: SecretStr | None = None) -> User:
        """Make sure exactly one ROOT exists (the configured user, on a fresh graph) and holds the root key."""
        check_id(root_id, "user_id", self._rt.config.limits)
        user = self._rt.users.get(root_id)
        if user is None:
            if self._rt.users.any_with_role(UserRole.ROOT):
                raise Unauthenticated(f"user '{root_id}' does not exist; ask an ADMIN or ROOT to create it")
            try:
                user = self._rt.users.create(root_id, root_name, UserRole.ROOT)
                logger.info("created root user '%s'", root_id)
            except Conflict:  # another process bootstrapped at the same moment
                user = self._rt.users.get(root_id)
                if user is None:
                    raise
        if root_api_key is not None and user.role is UserRole.ROOT:
            self._rt.users.set_api_key_hash(user.user_id, hash_api_key(root_api_key.get_secret_value()))
        return user

    def create_user(
        self, actor: User, user_id: str, role: UserRole, user_name: str | None, api_key_hash: str | None = None
    ) -> User:
        """Create a user; ROOT and ADMIN may, within their limits."""
        check_id(user_id, "user_id", self._rt.config.limits)
        name = check_text(user_name, "user_name", 256) if user_name is not None else user_id
        role = UserRole(role)
        if not access.may_create_user(actor, role):
            raise AccessDenied(f"a {actor.role.value} may not create a {role.value} user")
        return self._rt.users.create(user_id, name, role, api_key_hash)

    def create_user_with_key(
        self, actor: User, user_id: str, role: UserRole, user_name: str | None
    ) -> tuple[User, str]:
        """Create a user with a new API key; returns the key, which is never stored (only its hash)."""
        key = new_api_key()
        return self.create_user(actor, user_id, role, user_name, hash_api_key(key)), key

    def list_user_objects(self, actor: User) -> list[User]:
        """Active users; ROOT and ADMIN only."""
        if not access.may_list_users(actor):
            raise AccessDenied("only ROOT and ADMIN may list users")
        return self._rt.users.list_active()

    def list_users(self, actor: User) -> list[dict[str, Any]]:
        """Active users as MemOS's list_users shapes them; ROOT and ADMIN only."""
        return [
            {
                "user_id": user.user_id,
                "user_name": user.user_name,
                "role": user.role.value,
                "created_at": user.created_at,
                "is_active": user.is_active,
            }
            for user in self.list_user_objects(actor)
        ]

    def user_info(self, actor: User) -> dict[str, Any]:
        """The actor and every cube it may read."""
        return {
            "user_id": actor.user_id,
            "user_name": actor.user_name,
            "role": actor.role.value,
            "created_at": actor.created_at,
            "accessible_cubes": [
                {
                    "cube_id": entry.cube.cube_id,
                    "cube_name": entry.cube.cube_name,
                    "cube_path": entry.cube.cube_path,
                    "owner_id": entry.cube.owner_id,
                    "is_loaded": entry.is_loaded,
                    "can_write": entry.can_write,
                }
                for entry in self._cubes.visible(actor)
            ],
        }
