"""Users: bootstrap of the root user, creation, listing, and what a user can see."""

from __future__ import annotations

import dataclasses
import logging

from pydantic import SecretStr

from memos_graph.config import MAX_KEY_CHARS, MAX_NAME_CHARS, MOSConfig
from memos_graph.domain import User, UserRole
from memos_graph.domain.results import UserInfo
from memos_graph.errors import AccessDenied, Conflict, InvalidInput, NotFound, Unauthenticated
from memos_graph.graph.cubes import PURGE_TIMEOUT_S, CubeRepository
from memos_graph.graph.users import UserRepository
from memos_graph.services import access
from memos_graph.services.audit import audit
from memos_graph.services.cubes import CubeService
from memos_graph.services.identity import ApiKeys, hash_api_key, new_api_key
from memos_graph.services.paths import real_roots
from memos_graph.services.transfer_paths import TransferPaths
from memos_graph.services.validation import check_id, check_text

logger = logging.getLogger(__name__)


class UserService:
    """User management with the role rules of mos-api.md section 2."""

    def __init__(
        self, config: MOSConfig, users: UserRepository, cubes: CubeRepository, keys: ApiKeys, cube_service: CubeService
    ) -> None:
        self._config = config
        self._user_repo = users
        self._cube_repo = cubes
        self._keys = keys
        self._cubes = cube_service

    def bootstrap(self, root_id: str, root_name: str, root_api_key: SecretStr | None = None) -> User:
        """Make sure exactly one ROOT exists (the configured user, on a fresh graph).

        The configured root key is stored only while ROOT has no key at all (a fresh graph): a start never
        replaces a key, so a `rotateApiKey` or `reset_api_key` stays in force across restarts and no
        configuration file can take ROOT over. `apply_root_key` replaces it on an operator's explicit request.
        """
        check_id(root_id, "user_id", self._config.limits)
        user = self._user_repo.get(root_id)
        if user is None:
            if self._user_repo.any_with_role(UserRole.ROOT):
                raise Unauthenticated(f"user '{root_id}' does not exist; ask an ADMIN or ROOT to create it")
            try:
                user = self._user_repo.create(root_id, root_name, UserRole.ROOT)
                logger.info("created root user '%s'", root_id)
            except Conflict:  # another process bootstrapped at the same moment
                user = self._user_repo.get(root_id)
                if user is None:
                    raise
        if root_api_key is not None and user.role is UserRole.ROOT:
            digest = hash_api_key(root_api_key.get_secret_value())
            if self._user_repo.claim_api_key_hash(user.user_id, digest):
                logger.info("stored the configured API key for root user '%s'", user.user_id)
            elif self._user_repo.get_by_api_key_hash(digest) is None:
                logger.warning(
                    "root user '%s' already has an API key; the configured one was not applied "
                    "(run `memos-graph root-key apply` to replace it)",
                    user.user_id,
                )
        return user

    def apply_root_key(self, root_id: str, root_api_key: SecretStr) -> User:
        """Replace ROOT's key with the configured one: the operator's explicit action, never a start-up's."""
        user = self._user_repo.get(check_id(root_id, "user_id", self._config.limits))
        if user is None or user.role is not UserRole.ROOT:
            raise InvalidInput(f"'{root_id}' is not the root user")
        key = root_api_key.get_secret_value()
        if not key.strip() or len(key) > MAX_KEY_CHARS:
            raise InvalidInput(f"the root API key must be 1 to {MAX_KEY_CHARS} characters")
        self._keys.store_key(user.user_id, key, user.user_id, "root_key_apply")
        logger.warning("root user '%s' API key replaced by operator request", user.user_id)
        return user

    def create_user(
        self, actor: User, user_id: str, role: UserRole, user_name: str | None, api_key_hash: str | None = None
    ) -> User:
        """Create a user; ROOT and ADMIN may, within their limits."""
        check_id(user_id, "user_id", self._config.limits)
        name = check_text(user_name, "user_name", MAX_NAME_CHARS) if user_name is not None else user_id
        role = UserRole(role)
        if not access.may_create_user(actor, role):
            raise AccessDenied(f"role {actor.role.name} may not create users of role {role.name}")
        return self._user_repo.create(user_id, name, role, api_key_hash)

    def create_user_with_key(
        self, actor: User, user_id: str, role: UserRole, user_name: str | None
    ) -> tuple[User, str]:
        """Create a user with a new API key; returns the key, which is never stored (only its hash)."""
        key = new_api_key()
        return self.create_user(actor, user_id, role, user_name, hash_api_key(key)), key

    # -- taking access back ------------------------------------------------------------------------

    def _managed(self, actor: User, user_id: str, what: str) -> User:
        """The user another may manage (ROOT: anyone but ROOT; ADMIN: USER and GUEST), active or not."""
        if not access.is_privileged(actor):
            # Refused before any lookup: the answer says nothing about whether the user exists.
            raise AccessDenied(f"only ROOT and ADMIN may {what} users")
        check_id(user_id, "user_id", self._config.limits)
        target = self._user_repo.get(user_id)
        if target is None:
            raise NotFound("user", user_id)
        if not access.may_manage_user(actor, target):
            raise AccessDenied(f"a {actor.role.value} may not {what} the {target.role.value} user '{user_id}'")
        return target

    def deactivate_user(self, actor: User, user_id: str) -> User:
        """Stop a user: its key and every call as it are refused at once; its data and shares stay."""
        target = self._managed(actor, user_id, "deactivate")
        self._user_repo.set_active(target.user_id, False)
        self._keys.forget_user(target.user_id)
        audit("user_deactivate", actor.user_id, target.user_id)
        return dataclasses.replace(target, is_active=False)

    def reactivate_user(self, actor: User, user_id: str) -> User:
        """Undo deactivate_user (the user's old key works again; reset it if it leaked)."""
        target = self._managed(actor, user_id, "reactivate")
        self._user_repo.set_active(target.user_id, True)
        self._keys.forget_user(target.user_id)
        audit("user_reactivate", actor.user_id, target.user_id)
        return dataclasses.replace(target, is_active=True)

    def reset_api_key(self, actor: User, user_id: str) -> str | None:
        """Stop a user's key now (one's own, or another's as ROOT/ADMIN may manage it) and return the new key to
        whoever may receive it (access.receives_reset_key: the user itself and ROOT). An ADMIN's reset of
        another user only revokes and returns None: the user is left without a key until ROOT (or the
        operator's `memos-graph user reset-key`) issues one. Every reset is audited."""
        target = actor if actor.user_id == user_id else self._managed(actor, user_id, "reset the API key of")
        if not access.may_reset_key(actor, target):
            raise AccessDenied(f"a {actor.role.value} may not reset the key of '{user_id}'")
        if target.user_id == actor.user_id:
            return self._keys.issue_key(target.user_id, actor.user_id, "rotate")
        if access.receives_reset_key(actor, target):
            return self._keys.issue_key(target.user_id, actor.user_id, "reset")
        self._keys.store_key(target.user_id, None, actor.user_id, "revoke")
        return None

    def delete_user(self, actor: User, user_id: str) -> list[str]:
        """ROOT forgets a user: its own cubes with everything in them, its chat history, its key, its shares, itself.

        One operation in steps (each re-runnable): the user is made inactive and keyless and its cubes
        inactive in one transaction, so nothing more is read or written as it or into its cubes; then each
        cube is purged in batches, then its area <root>/<user id>/ of every transfer root (its dumps) is
        removed, then its chat turns, then the node. Interrupted, it leaves an inactive user that calling
        again finishes deleting. Memories it wrote into other users' cubes belong to those cubes and stay
        (their user_id / updated_by still name it). Its document areas are the operator's files, never
        written by the service: they stay, with a warning to remove them. Returns the ids of the cubes deleted.
        """
        if actor.role is not UserRole.ROOT:
            # It destroys cubes the actor does not own, so it is ROOT's alone (refused before any lookup).
            raise AccessDenied("only ROOT may delete users")
        target = self._managed(actor, user_id, "delete")
        self._user_repo.begin_delete(target.user_id)
        self._keys.forget_user(target.user_id)
        cube_ids = self._cube_repo.owned_by(target.user_id)
        for cube_id in cube_ids:
            self._cube_repo.delete(cube_id)
            logger.info("deleted cube '%s' of user '%s'", cube_id, target.user_id)
        for area in TransferPaths(self._config.transfer, require_roots=False).remove_areas(target.user_id):
            logger.info("removed the transfer area %s of user '%s'", area, target.user_id)
        for root in real_roots(self._config.documents.roots):
            if (root / target.user_id).exists():
                logger.warning(
                    "document area %s of deleted user '%s' left in place (the operator's files): remove it "
                    "before creating a user with that id again",
                    root / target.user_id,
                    target.user_id,
                )
        self._user_repo.finish_delete(target.user_id, PURGE_TIMEOUT_S)
        logger.warning("user '%s' and %d cubes deleted by '%s'", target.user_id, len(cube_ids), actor.user_id)
        return cube_ids

    def list_users(self, actor: User) -> list[User]:
        """Active users (MOS.list_users gives them MemOS's dict shape); ROOT and ADMIN only."""
        if not access.may_list_users(actor):
            raise AccessDenied("only ROOT and ADMIN may list users")
        return self._user_repo.list_active()

    def user_info(self, actor: User) -> UserInfo:
        """The actor and every cube it may read."""
        return UserInfo(actor, tuple(self._cubes.visible(actor)))
