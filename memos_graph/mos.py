"""MOS: the MemOS API (method names and parameters as in the seed), a thin facade over the services.

`user_id=None` means the configured `user_id`. Methods whose seed signature names no caller
(create_user, list_users, create_cube_for_user, share_cube_with_user) act as the configured user.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from memos_graph.config import MOSConfig
from memos_graph.deadlines import call_within
from memos_graph.domain import MemoryFilter, Permission, TextualMemoryItem, User, UserRole
from memos_graph.domain.results import MemoryResults, UserInfo
from memos_graph.embeddings import Embedder
from memos_graph.errors import InvalidInput
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import start_services

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=type)
# Calls that may use the chat model get its timeouts on top of the deadline; bulk work on whole cubes
# (dumps, imports, deleting cubes and users) gets transfer.timeout_s instead (a large cube takes minutes).
_LLM_CALLS = frozenset({"add", "chat"})
_TRANSFER_CALLS = frozenset({"dump", "register_mem_cube", "delete_cube", "delete_user"})
_NO_DEADLINE = frozenset({"close"})


# How register_mem_cube's argument says it is a path, whatever exists.
PATH_PREFIXES = ("./", "../", "/", "~")


def _deadline_s(mos: Any, name: str) -> float:
    config: MOSConfig = mos.config
    if name in _TRANSFER_CALLS:
        return config.transfer.timeout_s
    return config.call_deadline_s(uses_llm=name in _LLM_CALLS)


# MemOS's result of search and get_all: {"text_mem": [{"cube_id": ..., "memories": [...]}], "act_mem": [],
# "para_mem": []}.
SearchShape = dict[str, list[Any]]


def search_shape(results: MemoryResults) -> SearchShape:
    """MemOS's search result: textual memories grouped by cube, empty activation and parametric memories
    (this server has neither backend)."""
    return {
        "text_mem": [{"cube_id": group.cube_id, "memories": list(group.memories)} for group in results.cubes],
        "act_mem": [],
        "para_mem": [],
    }


def user_list_shape(users: Sequence[User]) -> list[dict[str, Any]]:
    """MemOS's list_users entries."""
    return [
        {
            "user_id": user.user_id,
            "user_name": user.user_name,
            "role": user.role.value,
            "created_at": user.created_at,
            "is_active": user.is_active,
        }
        for user in users
    ]


def user_info_shape(info: UserInfo) -> dict[str, Any]:
    """MemOS's get_user_info: the user's fields and its accessible cubes."""
    user = info.user
    return {
        "user_id": user.user_id,
        "user_name": user.user_name,
        "role": user.role.value,
        "created_at": user.created_at,
        "accessible_cubes": [
            {
                "cube_id": entry.cube.cube_id,
                "cube_name": entry.cube.cube_name,
                "cube_path": entry.cube.cube_path,
                "owner_id": entry.cube.owner_id,
                "is_loaded": entry.is_loaded,
                "can_write": entry.can_write,
            }
            for entry in info.accessible_cubes
        ],
    }


def with_deadlines(cls: M) -> M:
    """Every public method of the class runs under the call deadline GraphQL calls have (neo4j.call_deadline_s):
    BackendUnavailable when it has not answered by then, as memos_graph.deadlines.call_within says."""

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def bounded(self: Any, *args: Any, **kwargs: Any) -> Any:
            return call_within(lambda: method(self, *args, **kwargs), _deadline_s(self, name))

        return bounded

    for name, member in list(vars(cls).items()):
        plain = callable(member) and not isinstance(member, staticmethod | classmethod)
        if plain and not name.startswith("_") and name not in _NO_DEADLINE:
            setattr(cls, name, wrap(name, member))
    return cls


@with_deadlines
class MOS:
    """Memory operating system: users, memory cubes and memories on Neo4j.

    `MOS(config)` connects (or uses the given `runtime`) and makes sure the configured user exists; it
    changes no constraint or index. It applies the schema (cypher/schema/, idempotent; the vector index
    checked against the embedder) only when asked: `MOS(config, apply_schema=True)`. A fresh graph needs
    that once, or `memos-graph schema apply`; the GraphQL server's start-up applies it as
    `config.apply_schema` says.
    """

    def __init__(
        self,
        config: MOSConfig | None = None,
        *,
        embedder: Embedder | None = None,
        runtime: Runtime | None = None,
        apply_schema: bool = False,
    ) -> None:
        self.config = config or (runtime.config if runtime else MOSConfig.load())
        self._started = start_services(self.config, runtime, embedder, apply_schema=apply_schema)
        self.runtime = self._started.runtime
        self.services = self._started.services
        self.cubes = self.services.cubes
        self.users = self.services.users
        self.memories = self.services.memories
        self.searcher = self.services.search
        self.user_id = self.config.user_id

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the Neo4j driver (when this MOS created it)."""
        self._started.close()

    def __enter__(self) -> MOS:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _actor(self, user_id: str | None) -> User:
        return self.cubes.actor(user_id or self.user_id)

    # -- users ------------------------------------------------------------------------------------

    def create_user(self, user_id: str, role: UserRole = UserRole.USER, user_name: str | None = None) -> str:
        """Create a user (the configured user must be ROOT or ADMIN); returns its id."""
        return self.users.create_user(self._actor(None), user_id, role, user_name).user_id

    def list_users(self) -> list[dict[str, Any]]:
        """Active users with id, name, role, creation time and status."""
        return user_list_shape(self.users.list_users(self._actor(None)))

    def get_user_info(self, user_id: str | None = None) -> dict[str, Any]:
        """The user and every cube it may read, with `is_loaded`."""
        return user_info_shape(self.users.user_info(self._actor(user_id)))

    def rotate_api_key(self, user_id: str | None = None) -> str:
        """Issue a new API key for the user (the old one stops working) and return it; shown only now."""
        return self.services.identity.rotate(self._actor(user_id))

    def reset_api_key(self, user_id: str) -> str | None:
        """As the configured user (ROOT, or ADMIN for USER and GUEST): stop user_id's key. Returns the new key
        for one's own key and for ROOT; an ADMIN's reset of another user only revokes (None)."""
        return self.users.reset_api_key(self._actor(None), user_id)

    def deactivate_user(self, user_id: str) -> None:
        """As the configured user (ROOT, or ADMIN for USER and GUEST): refuse every call and key of user_id."""
        self.users.deactivate_user(self._actor(None), user_id)

    def reactivate_user(self, user_id: str) -> None:
        """Undo deactivate_user."""
        self.users.reactivate_user(self._actor(None), user_id)

    def delete_user(self, user_id: str) -> list[str]:
        """As ROOT: delete a user with its own cubes, memories, provenance, chat history and key; returns the
        deleted cube ids. Re-run it if it was interrupted."""
        return self.users.delete_user(self._actor(None), user_id)

    # -- cubes ------------------------------------------------------------------------------------

    def create_cube_for_user(
        self, cube_name: str, owner_id: str, cube_path: str | None = None, cube_id: str | None = None
    ) -> str:
        """Create a cube owned by owner_id and loaded for it; returns its id."""
        actor = self._actor(None)
        return self.cubes.create_cube(actor, cube_name, owner_id, cube_path, cube_id).cube_id

    def share_cube_with_user(
        self, cube_id: str, target_user_id: str, permission: Permission | str = Permission.READ
    ) -> bool:
        """Share a cube with another user, read-only unless permission='write'."""
        try:
            level = Permission(permission)
        except ValueError as exc:
            raise InvalidInput("permission must be 'read' or 'write'") from exc
        return self.cubes.share(self._actor(None), cube_id, target_user_id, level)

    def revoke_share(self, cube_id: str, target_user_id: str, user_id: str | None = None) -> str:
        """Take back a share of the cube (owner or ROOT; ADMIN for read shares; anyone for its own share).

        Returns the permission the share had.
        """
        return self.cubes.revoke_share(self._actor(user_id), cube_id, target_user_id).value

    def delete_cube(self, cube_id: str, user_id: str | None = None) -> None:
        """Delete a cube and everything in it (owner or ROOT); every share and load of it goes."""
        self.cubes.delete_cube(self._actor(user_id), cube_id)

    def register_mem_cube(
        self, mem_cube_name_or_path: str, mem_cube_id: str | None = None, user_id: str | None = None
    ) -> str:
        """Load a cube for the user: an existing cube by id, or a MemOS cube directory imported as a new cube.

        A directory (config.json + textual_memory.json, or textual_memory.json alone; general_text or
        tree_text) becomes a cube the user owns, with id mem_cube_id (else the directory's cube_id); returns
        the cube id. Cube ids may hold slashes as MemOS's do ("Ki-Seki/mem_cube_2"), so the argument is read as a
        directory when it is written as a path ("./x", "../x", "/x", "~/x"); otherwise, with a slash, as the id of a
        cube the user may read if there is one, else as a directory (relative to the user's area <first transfer
        root>/<user id>/, ROOT's to the root, when those are configured); without a slash, as a cube id unless a
        directory of that name exists here.
        """
        actor = self._actor(user_id)
        name = mem_cube_name_or_path
        if not isinstance(name, str) or not name:
            raise InvalidInput("mem_cube_name_or_path must be a non-empty string")
        if "/" in name and not name.startswith(PATH_PREFIXES):
            is_cube = bool(self.cubes.readable_subset(actor, [name]))
        else:
            is_cube = not name.startswith(PATH_PREFIXES) and not os.path.isdir(name)
        if is_cube:
            return self.cubes.register(actor, mem_cube_id or name)
        report = self.services.transfer.import_directory(actor, os.path.expanduser(name), mem_cube_id)
        return report.cube_id

    def unregister_mem_cube(self, mem_cube_id: str, user_id: str | None = None) -> None:
        """Detach the cube from the user's loaded cubes; its data stays."""
        self.cubes.unregister(self._actor(user_id), mem_cube_id)

    # -- memories ---------------------------------------------------------------------------------

    def add(
        self,
        messages: list[dict[str, Any]] | None = None,
        memory_content: str | Sequence[str] | None = None,
        doc_path: str | None = None,
        mem_cube_id: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[str]:
        """Add memories from exactly one of messages, memory_content, doc_path; returns their ids."""
        return self.services.add(
            self._actor(user_id),
            messages=messages,
            content=memory_content,
            doc_path=doc_path,
            cube_id=mem_cube_id,
            session_id=session_id,
        )

    def search(
        self,
        query: str,
        user_id: str | None = None,
        install_cube_ids: list[str] | None = None,
        top_k: int | None = None,
        threshold: float | None = None,
        filter: MemoryFilter | dict[str, Any] | None = None,  # the name MemOS users know
        reference_time: dt.datetime | str | None = None,
    ) -> SearchShape:
        """Top-k memories per readable cube; each item's metadata.relativity is its relevance in [0, 1].

        With a threshold, results whose relativity is below it are left out. With a filter (a MemoryFilter or
        its fields as a dict, e.g. {"memory_types": ["UserMemory"], "tags_any": ["work"], "created_from":
        datetime}; MemOS-style {"memory_type": "UserMemory"} too) each cube ranks only the memories that pass;
        {"time_from": ..., "time_before": ...} keeps those whose event happened in that range. Times the query
        names ("last week", "in May 2023", "上周") favour memories of that time, read against reference_time
        (when the question is asked: an aware datetime or ISO 8601 text; default now).
        """
        found = self.searcher.search(
            user_id or self.user_id, query, install_cube_ids, top_k, threshold, filter, reference_time
        )
        return search_shape(found)

    def get(self, mem_cube_id: str, memory_id: str, user_id: str | None = None) -> TextualMemoryItem:
        """One memory."""
        return self.memories.get(self._actor(user_id), mem_cube_id, memory_id)

    def get_all(
        self,
        mem_cube_id: str | None = None,
        user_id: str | None = None,
        filter: MemoryFilter | dict[str, Any] | None = None,
    ) -> SearchShape:
        """Every memory (passing the filter, as in search) of a cube, or of every cube the user may read."""
        return search_shape(self.memories.get_all(self._actor(user_id), mem_cube_id, filter))

    def get_history(self, mem_cube_id: str, memory_id: str, user_id: str | None = None) -> list[TextualMemoryItem]:
        """Earlier versions of a memory, newest first (not in the seed; update keeps them): all it keeps, which is
        its newest limits.max_versions (100 by default) once it has been updated; an imported history longer
        than that gives its newest limits.max_versions. Pages of it: services.memories.history_page."""
        return self.memories.history(self._actor(user_id), mem_cube_id, memory_id)

    def update(
        self,
        mem_cube_id: str,
        memory_id: str,
        text_memory_item: TextualMemoryItem | dict[str, Any],
        user_id: str | None = None,
    ) -> None:
        """Replace a memory's text and the metadata the item sets, keeping the old version. The MemOS way
        works: get the item, change its fields (`item.memory = ...`, `item.metadata.tags = [...]`), pass it
        back; or pass a dict {"memory": ..., "metadata": {...}}."""
        self.memories.update(self._actor(user_id), mem_cube_id, memory_id, text_memory_item)

    def delete(self, mem_cube_id: str, memory_id: str, user_id: str | None = None) -> None:
        """Delete one memory."""
        self.memories.delete(self._actor(user_id), mem_cube_id, memory_id)

    def delete_all(self, mem_cube_id: str | None = None, user_id: str | None = None) -> None:
        """Delete every memory of a cube the user may write, or (no cube id) of every cube the user owns."""
        self.memories.delete_all(self._actor(user_id), mem_cube_id)

    # -- chat and cube directories -----------------------------------------------------------------------------

    def chat(self, query: str, user_id: str | None = None, session_id: str | None = None) -> str:
        """Answer with the user's memories (retrieved, numbered in the system prompt) and recent history."""
        return self.services.chat.chat(self._actor(user_id), query, session_id)

    def clear_messages(self, user_id: str | None = None) -> None:
        """Clear that user's chat history only."""
        self.services.chat.clear(self._actor(user_id))

    def dump(self, dump_dir: str, user_id: str | None = None, mem_cube_id: str | None = None) -> None:
        """Write a cube (default: the user's first own loaded cube) as a MemOS directory (tree_text form).

        dump_dir must not exist or be empty; with transfer.roots configured it must lie inside the user's own
        area <root>/<user id>/ (ROOT: inside a root), where a relative dump_dir starts.
        """
        self.services.transfer.dump(self._actor(user_id), dump_dir, mem_cube_id)
