"""The graph walks of the GraphQL traversal fields, each for a batch of parents and under the caller's access.

Every walk first asks which of the parents' cubes the caller may read (one statement, unless `known`, the
request's record of what it found so far, answers it), then reads only within those (one more): a traversal
reaches nothing a direct query as the same caller would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence

from memos_graph.domain import CubeAccess, TextualMemoryItem, User
from memos_graph.domain.filters import HistoryRequest
from memos_graph.domain.results import VersionPage
from memos_graph.domain.traversal import Derivation, ProvenanceLabel, ProvenanceNode, Share
from memos_graph.graph.traversal import TraversalRepository
from memos_graph.graph.users import UserRepository
from memos_graph.services import access
from memos_graph.services.cubes import CubeService
from memos_graph.services.validation import MAX_PAGE, check_page_size, check_version_key, is_valid_memory_id

# One request's record of the cubes whose access it read (None: not readable), shared by its fields.
Known = dict[str, CubeAccess | None] | None


class TraversalService:
    """Batched reads from memories to their versions and provenance, from cubes to shares, users to cubes, and of
    users and cubes by id."""

    def __init__(self, users: UserRepository, traversal: TraversalRepository, cubes: CubeService) -> None:
        self._user_repo = users
        self._traversal_repo = traversal
        self._cubes = cubes

    def _readable_pairs(
        self, actor: User, pairs: Sequence[tuple[str, str]], known: Known = None
    ) -> list[tuple[str, str]]:
        readable = self._cubes.readable_subset(actor, [cube_id for cube_id, _ in pairs], known)
        return list(dict.fromkeys(pair for pair in pairs if pair[0] in readable))

    def users(self, user_ids: Sequence[str]) -> dict[str, User]:
        """user id -> the user, for those that exist. No access check: GraphQL reaches users through what the
        caller may read (a cube's owner, a share's user) or asks sees_user first (node(id:))."""
        return self._user_repo.list_by_ids(list(user_ids))

    @staticmethod
    def sees_user(actor: User, user_id: str) -> bool:
        """Whether looking a user up by id finds it, and whether its profile (name, role, creation time,
        status) is shown where a cube names it: the actor itself, or any user for those who list users."""
        return access.sees_profile(actor, user_id)

    def cubes(self, actor: User, cube_ids: Sequence[str], known: Known = None) -> dict[str, CubeAccess]:
        """cube id -> the actor's access, for the cubes it may read."""
        return self._cubes.readable_subset(actor, cube_ids, known)

    def histories(
        self, actor: User, requests: Sequence[HistoryRequest], first: int, known: Known = None
    ) -> dict[HistoryRequest, VersionPage]:
        """(cube_id, memory_id, position) -> a page of up to `first` (1..MAX_PAGE) earlier versions after the
        position, newest first, for memories in readable cubes; the page holds one more when another follows."""
        check_page_size(first, MAX_PAGE)
        for _, _, after in requests:
            if after is not None:
                check_version_key(after)
        readable = self._cubes.readable_subset(actor, [cube_id for cube_id, _, _ in requests], known)
        allowed = list(dict.fromkeys(request for request in requests if request[0] in readable))
        return self._traversal_repo.histories(allowed, first + 1) if allowed else {}

    def derivations(
        self, actor: User, pairs: Sequence[tuple[str, str]], known: Known = None
    ) -> dict[str, list[Derivation]]:
        """memory id -> its DERIVED_FROM targets within its cube, for (cube_id, memory_id) pairs."""
        allowed = self._readable_pairs(actor, pairs, known)
        return self._traversal_repo.derivations(allowed) if allowed else {}

    def provenance(
        self, actor: User, label: ProvenanceLabel, pairs: Sequence[tuple[str, str]], known: Known = None
    ) -> dict[tuple[str, str], ProvenanceNode]:
        """(cube_id, key) -> the message or document, for pairs in readable cubes."""
        allowed = self._readable_pairs(actor, pairs, known)
        return self._traversal_repo.provenance(label, allowed) if allowed else {}

    def derived_memories(
        self, actor: User, label: ProvenanceLabel, pairs: Sequence[tuple[str, str]], known: Known = None
    ) -> dict[tuple[str, str], list[TextualMemoryItem]]:
        """(cube_id, key) -> memories derived from the message or document, oldest first."""
        allowed = self._readable_pairs(actor, pairs, known)
        return self._traversal_repo.derived_memories(label, allowed) if allowed else {}

    def shares(self, actor: User, cube_ids: Sequence[str], known: Known = None) -> dict[str, list[Share]]:
        """cube id -> its shares as the actor may see them: all of them for the cube's owner, ROOT and ADMIN
        (who manage shares), else only the actor's own share (who else a cube is shared with is the owner's
        business)."""
        readable = self._cubes.readable_subset(actor, cube_ids, known)
        if not readable:
            return {}
        found = self._traversal_repo.shares(list(readable))
        return {
            cube_id: [
                share
                for share in found.get(cube_id, [])
                if self._sees_all_shares(actor, entry) or share.user_id == actor.user_id
            ]
            for cube_id, entry in readable.items()
        }

    @staticmethod
    def _sees_all_shares(actor: User, entry: CubeAccess) -> bool:
        return entry.is_owner or access.sees_every_cube(actor)

    def owned_cubes(self, actor: User, user_ids: Sequence[str], known: Known = None) -> dict[str, list[CubeAccess]]:
        """user id -> the active cubes it owns that the actor may read, oldest first."""
        owned = self._traversal_repo.owned_cube_ids(list(dict.fromkeys(user_ids)))
        readable = self._cubes.readable_subset(actor, [cube_id for ids in owned.values() for cube_id in ids], known)
        return {user_id: [readable[c] for c in ids if c in readable] for user_id, ids in owned.items()}

    def memories_by_id(
        self, actor: User, memory_ids: Sequence[str], known: Known = None
    ) -> dict[str, tuple[str, TextualMemoryItem]]:
        """memory id -> (cube id, memory) for the memories (well-formed ids only) in cubes the actor may read."""
        wanted = [memory_id for memory_id in dict.fromkeys(memory_ids) if is_valid_memory_id(memory_id)]
        found = self._traversal_repo.memories_by_id(wanted) if wanted else {}
        readable = self._cubes.readable_subset(actor, [cube_id for cube_id, _ in found.values()], known)
        return {memory_id: pair for memory_id, pair in found.items() if pair[0] in readable}
