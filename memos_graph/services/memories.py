"""Memory writes and reads: add (one embedding batch, one UNWIND), get, list, update with history, delete."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.deadlines import phase
from memos_graph.domain import MemoryOrder, TextualMemoryItem, TextualMemoryMetadata, User
from memos_graph.domain.filters import PageKey, VersionKey
from memos_graph.domain.memory import SERVER_FIELDS
from memos_graph.domain.results import CubeMemories, MemoryResults, VersionPage
from memos_graph.domain.time_spans import parse_moment
from memos_graph.embeddings import Embedder
from memos_graph.errors import Conflict, InvalidInput, NotFound
from memos_graph.graph.cube_index import DedicatedIndexes
from memos_graph.graph.memories import MemoryPage, MemoryRepository, StaleVersion
from memos_graph.graph.memory_nodes import MemoryChange, NewMemory
from memos_graph.services.cubes import CubeService
from memos_graph.services.memory_parts import (
    CHAT_TIME_PREFIX,
    TIME_FIELDS,
    message_nodes,
    message_source,
    message_text,
    with_context,
    with_event_time,
)
from memos_graph.services.metadata_checks import check_metadata, check_updated_metadata
from memos_graph.services.validation import (
    MAX_PAGE,
    check_filter,
    check_memory_id,
    check_messages,
    check_page_size,
    check_text,
    check_texts,
    check_version_key,
    content_hash,
    is_page_key,
)

# The versions a page of history holds when the caller does not say (GraphQL's `first` default).
HISTORY_PAGE = 20
DEFAULT_ORDER = MemoryOrder()
# An update re-reads and re-applies when another one committed in between; this many times at most.
UPDATE_ATTEMPTS = 50
# Who wrote and who last edited a memory: the server records them, an update's item cannot set them.
AUTHOR_FIELDS = frozenset({"user_id", "updated_by"})


@dataclass(frozen=True)
class Entry:
    """A memory to store: its text, metadata, the messages (by key) and the document it derives from, and its
    vector when the caller has already embedded the text."""

    text: str
    metadata: TextualMemoryMetadata
    message_keys: tuple[str, ...] = ()
    document: dict[str, Any] | None = None
    vector: list[float] | None = None
    # What to embed when it is not the text itself (the text with its conversational context).
    embedding_text: str | None = None


class MemoryService:
    """The memory operations of the MOS API for one runtime."""

    def __init__(
        self,
        config: MOSConfig,
        embedder: Embedder,
        repository: MemoryRepository,
        cube_indexes: DedicatedIndexes,
        cubes: CubeService,
    ) -> None:
        self._config = config
        self._embedder = embedder
        self._memory_repo = repository
        self._cube_indexes = cube_indexes
        self._cubes = cubes

    @metrics.timed("add")
    def add_texts(
        self,
        actor: User,
        content: str | Sequence[str],
        cube_id: str | None,
        session_id: str | None = None,
    ) -> list[str]:
        """Store texts as memories in one transaction; a text the cube holds already is not copied.

        Returns one id per distinct text, in input order: the new memory's, or the stored one's.
        """
        texts = check_texts(content, self._config.limits)
        metadata = TextualMemoryMetadata(source="system")
        target = self.target_cube(actor, cube_id)
        return self.store(actor, target, session_id, [Entry(text, metadata) for text in texts])

    @metrics.timed("add")
    def add_messages(
        self, actor: User, messages: object, cube_id: str | None, session_id: str | None = None
    ) -> list[str]:
        """Fast mode: each message becomes a memory ("[time] speaker: text") derived from a :Message node.

        Consecutive messages are linked with NEXT. message_id and chat_time survive into `sources`; a
        message_id names a message within its cube, so re-adding a conversation adds nothing.
        """
        checked = check_messages(messages, self._config.limits)
        if session_id is not None:  # trimmed here too: it is part of the message keys
            session_id = check_text(session_id, "session_id", self._config.limits.max_id_chars)
        nodes = message_nodes(checked, session_id)
        window = self._config.ingest.context_messages
        entries = []
        for index, (message, node) in enumerate(zip(checked, nodes, strict=True)):
            metadata = TextualMemoryMetadata(source="conversation", type="event", sources=[message_source(message)])
            text = message_text(message)
            embedding_text = with_context(text, checked[max(0, index - window) : index]) if window else None
            entries.append(Entry(text, metadata, (str(node["key"]),), embedding_text=embedding_text))
        return self.store(actor, self.target_cube(actor, cube_id), session_id, entries, messages=nodes)

    def target_cube(self, actor: User, cube_id: str | None) -> str:
        """The cube an add writes to: the named one (which the actor must be able to write), or its default."""
        cube = self._cubes.writable(actor, cube_id) if cube_id else self._cubes.default_cube(actor)
        return cube.cube.cube_id

    def store(
        self,
        actor: User,
        cube_id: str,
        session_id: str | None,
        entries: Sequence[Entry],
        documents: Sequence[dict[str, Any]] = (),
        messages: Sequence[dict[str, Any]] = (),
        updates: Sequence[MemoryChange] = (),
    ) -> list[str]:
        """One embedding batch and one write transaction for all entries (the distinct texts among them).

        `documents` (re)registers :Document nodes first, replacing the chunks of any whose checksum changed;
        `messages` become :Message nodes in conversation order; `updates` rewrite stored memories in the same
        transaction. Entries without a vector are embedded here, in one batch.
        """
        if session_id is not None:
            session_id = check_text(session_id, "session_id", self._config.limits.max_id_chars)
        unique: dict[str, Entry] = {}
        for entry in entries:
            unique.setdefault(content_hash(entry.text), entry)
        missing = [entry.embedding_text or entry.text for entry in unique.values() if entry.vector is None]
        # What bounds the embedding's time, so that a legal add fits the call deadline (see LimitSettings).
        size, most = sum(len(text) for text in missing), self._config.limits.max_chars_per_add
        if size > most:
            raise InvalidInput(
                f"{size} characters to embed in one add (texts with their conversational context); the limit "
                f"is {most}: split the add"
            )
        with phase("embedding"):
            fresh = iter(self._embedder.embed(missing) if missing else [])
        embedded = [entry.vector if entry.vector is not None else next(fresh) for entry in unique.values()]
        now = dt.datetime.now(dt.UTC)
        zone = self._config.ingest.tzinfo()
        rows = []
        for index, ((digest, entry), vector) in enumerate(zip(unique.items(), embedded, strict=True)):
            rows.append(
                NewMemory(
                    memory_id=str(uuid.uuid4()),
                    content_hash=digest,
                    memory=entry.text,
                    metadata=with_event_time(entry.metadata, entry.text, now.astimezone(zone), zone),
                    user_id=actor.user_id,
                    created_at=now + dt.timedelta(microseconds=index),
                    embedding=vector,
                    session_id=session_id,
                    message_keys=entry.message_keys,
                    document=entry.document,
                )
            )
        guard = self._cubes.write_guard(actor, [cube_id])
        result = self._memory_repo.add(
            cube_id, rows, guard, messages, documents, updates, max_versions=self._config.limits.max_versions
        )
        if len(result.outcomes) != len(rows):
            raise RuntimeError(f"stored {len(result.outcomes)} of {len(rows)} rows")  # the UNWIND lost rows: a bug
        if result.cube is not None:
            self._cube_indexes.promote_if_large(cube_id, result.cube.cube_size, result.cube.has_own_index)
        return [outcome.memory_id for outcome in result.outcomes]

    def get(self, actor: User, cube_id: str, memory_id: str, include_embedding: bool = False) -> TextualMemoryItem:
        """One memory of a cube the actor may read, or an entry of its working set by the entry's id (as MemOS
        gets its WorkingMemory nodes)."""
        memory_id = check_memory_id(memory_id)
        self._cubes.readable(actor, [cube_id])
        try:
            return self._memory_repo.get(cube_id, memory_id, include_embedding)
        except NotFound:
            return self._memory_repo.working_entry(cube_id, memory_id, include_embedding)

    def history(self, actor: User, cube_id: str, memory_id: str) -> list[TextualMemoryItem]:
        """Earlier versions of a memory, newest first: all it keeps, which is at most limits.max_versions after
        any update (an import may bring more; then the newest limits.max_versions of them)."""
        page = self.history_page(actor, cube_id, memory_id, self._config.limits.max_versions, unbounded=True)
        return page.items[: self._config.limits.max_versions]

    def history_page(
        self,
        actor: User,
        cube_id: str,
        memory_id: str,
        first: int = HISTORY_PAGE,
        after: VersionKey | None = None,
        unbounded: bool = False,
    ) -> VersionPage:
        """Up to `first` (1..MAX_PAGE, unless `unbounded`) of a memory's earlier versions, newest first, after
        the position `after` (keyset pagination on (version, version id), read by memory id through an index:
        the cost is the page, whatever the version edges look like). The page holds one row more than `first`
        when another page follows. NotFound for a memory the cube does not hold, not an empty page."""
        memory_id = check_memory_id(memory_id)
        check_page_size(first, None if unbounded else MAX_PAGE)
        if after is not None:
            check_version_key(after)
        self._cubes.readable(actor, [cube_id])
        return self._memory_repo.history(cube_id, memory_id, first + 1, after)

    def page(
        self,
        actor: User,
        cube_id: str,
        where: object = None,
        order: MemoryOrder = DEFAULT_ORDER,
        first: int = 20,
        after: PageKey | None = None,
    ) -> MemoryPage:
        """Up to `first` (1..MAX_PAGE) of a readable cube's memories that pass the filter, in `order`, after
        the position `after` (keyset pagination: what is added or deleted meanwhile never shifts a page). The
        page holds one row more than `first` when another page follows."""
        where = check_filter(where, self._config.limits)
        check_page_size(first, MAX_PAGE)
        if after is not None and not is_page_key(after.order_key, after.memory_id):
            raise InvalidInput("malformed cursor")
        self._cubes.readable(actor, [cube_id])
        return self._memory_repo.page(cube_id, where, order, first + 1, after)

    def count(self, actor: User, cube_id: str, where: object = None) -> int:
        """How many of a readable cube's memories pass the filter."""
        where = check_filter(where, self._config.limits)
        self._cubes.readable(actor, [cube_id])
        return self._memory_repo.count(cube_id, where)

    def get_all(self, actor: User, cube_id: str | None = None, where: object = None) -> MemoryResults:
        """Every memory (passing the filter, if any) of one cube, or of every cube the actor may read; a cube's
        working set follows its memories, each entry an item of its own (as MemOS returns its WorkingMemory
        nodes)."""
        where = check_filter(where, self._config.limits)
        if cube_id is not None:
            cube_ids = [entry.cube.cube_id for entry in self._cubes.readable(actor, [cube_id])]
        else:
            cube_ids = [entry.cube.cube_id for entry in self._cubes.visible(actor)]
        return MemoryResults(
            tuple(
                CubeMemories(
                    cube_id,
                    (*self._memory_repo.list_page(cube_id, where=where), *self._memory_repo.working(cube_id, where)),
                )
                for cube_id in cube_ids
            )
        )

    def update(
        self, actor: User, cube_id: str, memory_id: str, item: TextualMemoryItem | dict[str, Any]
    ) -> TextualMemoryItem:
        """Replace text and the metadata fields the item sets; the old state becomes a MemoryVersion.

        Concurrent updates of one memory: last write wins, and every state replaced is kept in the history.
        Each attempt applies the item to the state it read, under a version check; when another update
        committed in between, it reads again and re-applies (extra metadata keys merge with the newest state).

        Bad metadata is refused (InvalidInput) before any write: NaN or Infinity anywhere, lists and objects
        nested more than MAX_METADATA_DEPTH deep, and a merged result over the limit: limits.max_memory_chars
        holds on the metadata the memory would have after the update (its current metadata with the item's
        merged in), not just on the item's keys. History grows by one MemoryVersion per update, a copy of the
        state replaced; every stored state passed these limits, so each version holds at most max_memory_chars
        of text and max_memory_chars of metadata (plus sources the server derived from bounded messages). A
        memory keeps its newest limits.max_versions versions: the update deletes older ones in its own
        transaction (at most graph.memories.TRIM_BATCH of them); deleting the memory deletes them all.
        """
        memory_id = check_memory_id(memory_id)
        if isinstance(item, dict):  # MemOS also takes the item as a dict: {"memory": ..., "metadata": {...}}
            try:
                item = TextualMemoryItem.model_validate({"id": memory_id, **item})
            except ValidationError as exc:
                first = exc.errors()[0]
                raise InvalidInput(f"text_memory_item {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if not isinstance(item, TextualMemoryItem):
            raise InvalidInput("text_memory_item must be a TextualMemoryItem or a dict of one")
        text = check_text(item.memory, "memory", self._config.limits.max_memory_chars)
        check_metadata(item.metadata, self._config.limits)
        self._cubes.writable(actor, cube_id)
        guard = self._cubes.write_guard(actor, [cube_id])
        vector: list[float] | None = None
        for _ in range(UPDATE_ATTEMPTS):
            current = self._memory_repo.get(cube_id, memory_id)
            check_updated_metadata(current.metadata, item.metadata, self._config.limits)
            editable = item.metadata.model_fields_set - SERVER_FIELDS - AUTHOR_FIELDS
            metadata = item.metadata
            if text != current.memory or "memory_time" in editable or "sources" in editable:
                metadata, editable = self.retimed(current, item, text), editable | TIME_FIELDS
            change = MemoryChange(
                memory_id,
                metadata=metadata,
                fields=tuple(sorted(editable)),
                extra={**current.metadata.extra_fields(), **item.metadata.extra_fields()},
                updated_by=actor.user_id,
            )
            if text != current.memory:
                vector = vector or self._embedder.embed([text])[0]
                change = dataclasses.replace(change, memory=text, content_hash=content_hash(text), embedding=vector)
            try:
                return self._memory_repo.update(
                    cube_id,
                    change,
                    guard,
                    expected_version=current.metadata.version or 1,
                    max_versions=self._config.limits.max_versions,
                )
            except StaleVersion:
                continue
        raise Conflict(f"memory '{memory_id}' kept changing during {UPDATE_ATTEMPTS} attempts; try again")

    def retimed(self, current: TextualMemoryItem, item: TextualMemoryItem, text: str) -> TextualMemoryMetadata:
        """The item's metadata with the event time read again for the updated memory: from the memory_time
        and sources it sets, else the current ones; a memory_time that was derived is derived again."""
        fields = item.metadata.model_fields_set
        sources = item.metadata.sources if "sources" in fields else current.metadata.sources
        if "memory_time" in fields:
            memory_time = item.metadata.memory_time
        else:
            memory_time = current.metadata.memory_time if current.metadata.time_source == "caller" else None
        zone = self._config.ingest.tzinfo()
        created = parse_moment(current.metadata.created_at or "", zone) or dt.datetime.now(dt.UTC)
        # The new text is what states the time now; its sources still say when it was said.
        basis = TextualMemoryMetadata(sources=[s.model_copy(update={"content": None}) for s in sources])
        basis.memory_time = memory_time
        timed = with_event_time(basis, CHAT_TIME_PREFIX.sub("", text), created.astimezone(zone), zone)
        return item.metadata.model_copy(update={name: getattr(timed, name) for name in TIME_FIELDS})

    def delete(self, actor: User, cube_id: str, memory_id: str) -> None:
        """Delete one memory and its history (its working-set entries go with it); the id of a working-set entry
        takes that entry out of the working set (MemOS deletes its WorkingMemory node), leaving the memory."""
        memory_id = check_memory_id(memory_id)
        self._cubes.writable(actor, cube_id)
        self._memory_repo.delete(cube_id, memory_id, self._cubes.write_guard(actor, [cube_id]))

    def delete_all(self, actor: User, cube_id: str | None = None) -> int:
        """Delete every memory of one cube (which the actor may write), or of every cube the actor owns.

        Without a cube id only the actor's own cubes are emptied: a cube shared for writing, or any cube for
        ROOT, must be named.
        """
        if cube_id is not None:
            cube_ids = [self._cubes.writable(actor, cube_id).cube.cube_id]
        else:
            cube_ids = [entry.cube.cube_id for entry in self._cubes.visible(actor) if entry.is_owner]
        if not cube_ids:
            return 0
        return self._memory_repo.delete_all(cube_ids, self._cubes.write_guard(actor, cube_ids))
