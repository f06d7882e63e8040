"""Who may do what with which cube: the checks every operation starts with, and cube management."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from memos_graph.config import MAX_NAME_CHARS, MAX_PATH_CHARS, LimitSettings
from memos_graph.deadlines import check_deadline
from memos_graph.domain import CubeAccess, MemCube, Permission, User, UserRole
from memos_graph.embeddings import Embedder
from memos_graph.errors import AccessDenied, CubeNotAccessible, InvalidInput, NotFound, Unauthenticated
from memos_graph.graph.cubes import CubeGuard, CubeRelation, CubeRepository
from memos_graph.graph.users import UserRepository
from memos_graph.services import access
from memos_graph.services.validation import check_cube_id, check_id, check_text, is_valid_cube_id


class CubeService:
    """Cube access checks and cube management for one runtime."""

    def __init__(self, users: UserRepository, cubes: CubeRepository, embedder: Embedder, limits: LimitSettings) -> None:
        self._user_repo = users
        self._cube_repo = cubes
        self._embedder = embedder
        self._limits = limits

    # -- identity -------------------------------------------------------------------------------

    def actor(self, user_id: str) -> User:
        """The active user making a call; Unauthenticated otherwise (unknown and inactive look alike)."""
        check_id(user_id, "user_id", self._limits)
        return self.active(user_id, self._user_repo.get(user_id))

    @staticmethod
    def active(user_id: str, user: User | None) -> User:
        """The user read for user_id if it is active; Unauthenticated otherwise (unknown and inactive look alike)."""
        if user is None or not user.is_active:
            raise Unauthenticated(f"user '{user_id}' does not exist or is inactive")
        return user

    def target_user(self, user_id: str) -> User:
        """A user named as the object of a call (share target, cube owner)."""
        check_id(user_id, "user_id", self._limits)
        user = self._user_repo.get(user_id)
        if user is None or not user.is_active:
            raise NotFound("user", user_id)
        return user

    # -- access -----------------------------------------------------------------------------------

    @staticmethod
    def access_of(actor: User, relation: CubeRelation) -> CubeAccess:
        """What the actor may do with a cube, from its stored relation to it."""
        return access.cube_access(actor, relation.cube, relation.shared_permission, relation.is_loaded)

    def readable(self, actor: User, cube_ids: Sequence[str]) -> list[CubeAccess]:
        """Access records for cubes the actor may read; CubeNotAccessible names the first that is not."""
        for cube_id in cube_ids:
            check_cube_id(cube_id, "cube id", self._limits)
        return self.readable_among(actor, cube_ids, self._cube_repo.relations(actor.user_id, cube_ids))

    def readable_subset(
        self, actor: User, cube_ids: Sequence[str], known: dict[str, CubeAccess | None] | None = None
    ) -> dict[str, CubeAccess]:
        """The actor's access to each of the cubes it may read, by id; the others (malformed ids, cubes that
        do not exist or it may not read) are simply absent. `known`: what one request found already (None:
        not readable), answered from there and filled with what is read now, so that one request reads each
        cube's access once however many fields ask."""
        known = {} if known is None else known
        valid = list(dict.fromkeys(cube_id for cube_id in cube_ids if is_valid_cube_id(cube_id, self._limits)))
        missing = [cube_id for cube_id in valid if cube_id not in known]
        if missing:
            relations = self._cube_repo.relations(actor.user_id, missing)
            for cube_id in missing:
                relation = relations.get(cube_id)
                entry = None if relation is None else self.access_of(actor, relation)
                known[cube_id] = entry if entry is not None and entry.can_read else None
        return {cube_id: entry for cube_id in valid if (entry := known.get(cube_id)) is not None}

    def readable_among(
        self, actor: User, cube_ids: Sequence[str], relations: Mapping[str, CubeRelation]
    ) -> list[CubeAccess]:
        """readable, given the actor's stored relations to the cubes (those that exist)."""
        result = []
        for cube_id in cube_ids:
            relation = relations.get(cube_id)
            granted = None if relation is None else self.access_of(actor, relation)
            if granted is None or not granted.can_read:
                raise CubeNotAccessible(cube_id)
            result.append(granted)
        return result

    def _require_write(self, actor: User, cube_id: str, relation: CubeRelation | None) -> CubeAccess:
        granted = None if relation is None else self.access_of(actor, relation)
        if granted is None or not granted.can_read:
            raise CubeNotAccessible(cube_id)
        if not granted.can_write:
            raise AccessDenied(f"you may read cube '{cube_id}' but not write to it", cube_id=cube_id)
        return granted

    def writable(self, actor: User, cube_id: str) -> CubeAccess:
        """The actor's access to a cube it may write; CubeNotAccessible or AccessDenied otherwise."""
        check_cube_id(cube_id, "cube id", self._limits)
        relation = self._cube_repo.relations(actor.user_id, [cube_id]).get(cube_id)
        return self._require_write(actor, cube_id, relation)

    def write_guard(self, actor: User, cube_ids: Sequence[str]) -> CubeGuard:
        """A check the repository runs first inside the write transaction, so a share revoked meanwhile still
        counts."""

        def check(relations: Mapping[str, CubeRelation]) -> None:
            for cube_id in cube_ids:
                self._require_write(actor, cube_id, relations.get(cube_id))

        return CubeGuard(actor.user_id, tuple(cube_ids), check)

    def visible(self, actor: User) -> list[CubeAccess]:
        """Every cube the actor may read, with what it may do there."""
        relations = self._cube_repo.visible(actor.user_id, access.sees_every_cube(actor))
        granted = [self.access_of(actor, relation) for relation in relations]
        return [entry for entry in granted if entry.can_read]

    def loaded_readable(self, actor: User) -> list[CubeAccess]:
        """Cubes registered for the actor that it may still read, in the order they were loaded."""
        return self.loaded_among(actor, self._cube_repo.visible(actor.user_id, access.sees_every_cube(actor)))

    def loaded_among(self, actor: User, relations: Iterable[CubeRelation]) -> list[CubeAccess]:
        """loaded_readable, given the actor's stored relations to cubes (any superset of those it loaded)."""
        loaded = sorted((r for r in relations if r.is_loaded), key=lambda r: (r.loaded_since or "", r.cube.cube_id))
        granted = [self.access_of(actor, relation) for relation in loaded]
        return [entry for entry in granted if entry.can_read]

    def default_cube(self, actor: User) -> CubeAccess:
        """The actor's default cube: the first loaded cube it owns."""
        for entry in self.loaded_readable(actor):
            if entry.is_owner:
                return entry
        raise InvalidInput(
            f"user '{actor.user_id}' has no loaded cube of its own; pass mem_cube_id or create a cube first"
        )

    # -- management -------------------------------------------------------------------------------

    def create_cube(
        self,
        actor: User,
        cube_name: str,
        owner_id: str,
        cube_path: str | None = None,
        cube_id: str | None = None,
    ) -> MemCube:
        """Create a cube for owner_id (loaded for the owner); role rules decide who may."""
        name = check_text(cube_name, "cube_name", MAX_NAME_CHARS)
        if not access.is_privileged(actor) and owner_id != actor.user_id:
            # Refused before the owner is looked up, so the answer says nothing about whether it exists.
            raise AccessDenied(f"user '{actor.user_id}' may only create cubes for itself")
        owner = self.target_user(owner_id)
        new_id = check_cube_id(cube_id, "cube_id", self._limits) if cube_id is not None else str(uuid.uuid4())
        if cube_path is not None:
            check_text(cube_path, "cube_path", MAX_PATH_CHARS)
        if not access.may_create_cube(actor, owner):
            raise AccessDenied(f"user '{actor.user_id}' may not create a cube for '{owner_id}'")
        self.check_quota(owner)
        check_deadline("creating the cube")
        embedder = self._embedder
        return self._cube_repo.create(owner.user_id, new_id, name, cube_path, embedder.model_name, embedder.dimension)

    def check_quota(self, owner: User) -> None:
        """InvalidInput when the owner holds limits.max_cubes_per_user cubes already (ROOT is not capped).

        A check before the write: concurrent creations by one owner can overshoot by the number in flight.
        """
        if owner.role is UserRole.ROOT:  # the operator
            return
        owned = len(self._cube_repo.owned_by(owner.user_id))
        if owned >= self._limits.max_cubes_per_user:
            raise InvalidInput(
                f"user '{owner.user_id}' owns {owned} cubes, the most a user may own "
                f"(limits.max_cubes_per_user); delete one first"
            )

    def share(self, actor: User, cube_id: str, target_user_id: str, permission: Permission) -> bool:
        """Share a cube with another user (role rules in access.may_share; nobody shares with itself)."""
        (granted,) = self.readable(actor, [cube_id])
        if not access.may_share(actor, granted.cube, permission):
            raise AccessDenied(
                f"only the owner or ROOT may grant {permission.value} on cube '{cube_id}'"
                + ("" if permission is Permission.WRITE else "; an ADMIN may grant read"),
                cube_id=cube_id,
            )
        check_id(target_user_id, "user_id", self._limits)
        if target_user_id == actor.user_id:
            raise InvalidInput("a cube cannot be shared with yourself")
        target = self.target_user(target_user_id)
        if target.user_id == granted.cube.owner_id:
            raise InvalidInput(f"user '{target_user_id}' owns cube '{cube_id}' already")
        if target.role is UserRole.GUEST and permission is Permission.WRITE:
            raise InvalidInput("a GUEST never writes; share with permission 'read'")
        self._cube_repo.share(cube_id, target.user_id, permission)
        return True

    def revoke_share(self, actor: User, cube_id: str, target_user_id: str) -> Permission:
        """Take a share back (unshare); returns the permission it had. The target loses the cube at once:
        a write of it already running is refused by its in-transaction guard."""
        (granted,) = self.readable(actor, [cube_id])
        check_id(target_user_id, "user_id", self._limits)
        if target_user_id != actor.user_id and not access.may_share(actor, granted.cube, Permission.READ):
            # Refused before the share is looked up: a reader learns nothing about others' shares.
            raise AccessDenied(f"only the owner, ROOT or ADMIN may revoke shares of cube '{cube_id}'", cube_id=cube_id)
        current = self._cube_repo.relations(target_user_id, [cube_id]).get(cube_id)
        permission = None if current is None else current.shared_permission
        if permission is None:
            raise NotFound("share of cube with user", f"{cube_id} -> {target_user_id}")
        if not access.may_revoke(actor, granted.cube, target_user_id, permission):
            raise AccessDenied(
                f"only the owner or ROOT may revoke a {permission.value} share of cube '{cube_id}'", cube_id=cube_id
            )
        target = self._user_repo.get(target_user_id)
        keeps_reading = target is not None and access.sees_every_cube(target)
        removed = self._cube_repo.unshare(cube_id, target_user_id, drop_loaded=not keeps_reading)
        if removed is None:  # revoked by someone else in between
            raise NotFound("share of cube with user", f"{cube_id} -> {target_user_id}")
        return removed

    def delete_cube(self, actor: User, cube_id: str) -> None:
        """Delete a cube and everything in it (owner or ROOT). Other users lose it at once; the data goes in
        batches (see CubeRepository.delete); a deletion interrupted part-way is finished by calling again."""
        check_cube_id(cube_id, "cube id", self._limits)
        found = self._cube_repo.owner_of(cube_id)
        if found is None:
            raise CubeNotAccessible(cube_id)
        owner_id, is_active = found
        if is_active:
            (granted,) = self.readable(actor, [cube_id])
            if not access.may_delete_cube(actor, granted.cube):
                raise AccessDenied(f"only the owner or ROOT may delete cube '{cube_id}'", cube_id=cube_id)
        elif owner_id != actor.user_id and actor.role is not UserRole.ROOT:
            raise CubeNotAccessible(cube_id)  # half-deleted: nobody else sees it
        self._cube_repo.delete(cube_id)

    def register(self, actor: User, cube_id: str) -> str:
        """Load an existing cube the actor may read."""
        self.readable(actor, [cube_id])
        self._cube_repo.load(actor.user_id, cube_id)
        return cube_id

    def unregister(self, actor: User, cube_id: str) -> None:
        """Unload a cube from the actor's loaded cubes; its data stays."""
        check_cube_id(cube_id, "cube id", self._limits)
        if not self._cube_repo.unload(actor.user_id, cube_id):
            raise NotFound("loaded cube", cube_id)
