"""Settings that bound what callers may do: input limits, worker threads, the document and transfer areas."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from memos_graph.settings.section import Section, split_path_list

# Fixed input bounds beside LimitSettings' configurable ones (every refusal is InvalidInput): names (of users
# and cubes) and a message's chat_time, message_id and name; a cube's path; an API key; how deep metadata nests
# (the metadata object itself is level 1; serialisers give up on deeper values, and no reader needs them).
MAX_NAME_CHARS = 256
MAX_PATH_CHARS = 4096
MAX_KEY_CHARS = 200
MAX_METADATA_DEPTH = 32


class LimitSettings(Section):
    """Input bounds: a request outside them is refused with InvalidInput."""

    max_memory_chars: int = Field(default=32_000, ge=1)
    # Texts (or messages, or document chunks) per add, and the characters they hold together: an add is
    # embedded in one call, and a legal add must be embedded and written within neo4j.call_deadline_s
    # (measured here, 2 cores: 40-300 short texts/s, 7-20 texts/s of the ~1,500 characters the model reads,
    # depending on the load; so 200,000 characters take up to about 20 s).
    max_items_per_add: int = Field(default=1_000, ge=1)
    max_chars_per_add: int = Field(default=200_000, ge=1)
    max_top_k: int = Field(default=100, ge=1)
    max_query_chars: int = Field(default=4_000, ge=1)
    max_id_chars: int = Field(default=128, ge=1)
    max_document_bytes: int = Field(default=10_000_000, ge=1)
    # Earlier versions a memory keeps: an update that would leave more deletes the oldest (lowest version) in
    # its own transaction. Each version holds up to max_memory_chars of text and as much metadata, so this
    # bounds a memory's history (what one page of history can show is bounded apart: 100 versions a page).
    max_versions: int = Field(default=100, ge=1, le=100_000)
    # One search reads each cube on its own: at most this many cubes per search (named or loaded).
    max_cubes_per_search: int = Field(default=20, ge=1)
    # Cubes a (non-ROOT) user may own; createCube refuses the next one.
    max_cubes_per_user: int = Field(default=100, ge=1)
    # GraphQL: the sum over a request's search fields of cubes x topK, refused before any work.
    max_request_cost: int = Field(default=2_000, ge=1)
    # GraphQL: the most nodes a request may return, each list counted at its page size or bound times what it
    # nests (graphql_schema/cost.py): the traversal fields cannot fan a request out past this.
    max_request_nodes: int = Field(default=100_000, ge=1)
    # GraphQL and MCP: blocking calls run on a pool of this many threads (one per app); one caller holds at most
    # max_workers_per_caller of them at a time (its other calls wait, within their deadline).
    max_worker_threads: int = Field(default=8, ge=1)
    max_workers_per_caller: int = Field(default=2, ge=1)
    # GraphQL: threads of the pool's light lane, apart from the others, for one-row point reads (`memory`,
    # `cube`, `me`), so they do not queue behind the same caller's searches and adds; each caller holds at most
    # max_workers_per_caller of them too. 0: no lane (they share the pool).
    max_light_worker_threads: int = Field(default=4, ge=0)
    # API-key lookups are cached this long per process (by the key's SHA-256, 10,000 keys at most; 0: off).
    # A key rotated, reset, deactivated or deleted elsewhere (another replica, the CLI) keeps working here for
    # at most this long; in the process that revoked it, it is refused at once.
    api_key_cache_s: float = Field(default=5.0, ge=0, le=60)
    # Failed API-key attempts per client address (services/auth_throttle.py): a token bucket of
    # auth_failure_burst refilled at auth_failures_per_s; a wrong key spends a token, a good one gives it back.
    # Spent, the address's next unknown key is refused with HTTP 429 before any lookup (0 per second: off).
    # At most auth_throttle_addresses buckets are kept (least recently used out first).
    auth_failures_per_s: float = Field(default=2.0, ge=0)
    auth_failure_burst: int = Field(default=20, ge=1)
    auth_throttle_addresses: int = Field(default=10_000, ge=1)
    # GraphQL documents refused before execution, per caller (graphql_schema/refusals.py): their bytes spend a
    # bucket of refused_document_bytes_burst refilled at refused_document_bytes_per_s (0: off); an empty
    # bucket refuses the caller's documents unparsed (TOO_MANY_REQUESTS) until it refills.
    refused_document_bytes_per_s: float = Field(default=8_192.0, ge=0)
    refused_document_bytes_burst: int = Field(default=65_536, ge=1)


class DocumentSettings(Section):
    """Where add(doc_path=...) may read from, and how documents are chunked."""

    # Files outside these directories (after resolving symlinks) are refused. Empty: documents are off.
    # Served over the network, a user reads only its own area <root>/<user id>/ of each (ROOT: all of it).
    roots: tuple[str, ...] = ()
    # Served over the network: directories every user may read documents from (a company handbook), after
    # its own area. Never a directory holding users' areas.
    shared_roots: tuple[str, ...] = ()
    chunk_size: int = Field(default=1000, ge=100)
    chunk_overlap: int = Field(default=150, ge=0)
    extensions: tuple[str, ...] = (".md", ".markdown", ".txt")

    @field_validator("roots", "shared_roots", mode="before")
    @classmethod
    def _split_path_list(cls, value: Any) -> Any:
        return split_path_list(value)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> DocumentSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("documents.chunk_overlap must be smaller than documents.chunk_size")
        return self

    @model_validator(mode="after")
    def _shared_apart_from_areas(self) -> DocumentSettings:
        # A shared root holding a root would let every user read every area; one inside a root is an area.
        for shared in self.shared_roots:
            for root in self.roots:
                a, b = Path(os.path.realpath(shared)), Path(os.path.realpath(root))
                if a.is_relative_to(b) or b.is_relative_to(a):
                    raise ValueError(f"documents.shared_roots entry {shared} overlaps documents.roots entry {root}")
        return self


class TransferSettings(Section):
    """Cube dumps and imports (MemOS cube directories)."""

    # Directories dump and import may use (symlinks resolved). Empty: the in-process MOS may use any path,
    # and the GraphQL API refuses dumps and imports (a server must never write where a caller points it).
    # Each user dumps and imports only inside its own area <root>/<user id>/ (ROOT: the whole root).
    roots: tuple[str, ...] = ()
    # Bytes a user's area <root>/<user id>/ may hold: a dump that would pass it stops and leaves nothing.
    # ROOT, the operator, has no quota.
    max_user_bytes: int = Field(default=1_000_000_000, ge=1)
    # Nodes per import transaction (each memory row carries its vector); edges go 5x as many per batch.
    batch_size: int = Field(default=1_000, ge=1, le=50_000)
    # A dump reads the cube in one read transaction; it may take this long.
    timeout_s: float = Field(default=3_600.0, gt=0)
    # textual_memory.json larger than this is refused before it is read.
    max_file_bytes: int = Field(default=4_000_000_000, ge=1)
    # An import holds its cube id this long after its start and after each batch it writes; another import
    # of the same id is refused (CONFLICT) until the lease runs out, and only then cleans the leftover up.
    import_lease_s: float = Field(default=120.0, gt=0)

    @field_validator("roots", mode="before")
    @classmethod
    def _split_path_list(cls, value: Any) -> Any:
        return split_path_list(value)
