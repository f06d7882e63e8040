"""What queries and mutations answer besides the nodes: search results, the caller's info, mutation payloads."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from graphql_schema.types import MemCubeNode, MemoryNode, UserNode
from memos_graph.services.transfer import TransferReport


@strawberry.type(description="One cube's memories in a search or listing.")
class CubeMemories:
    cube_id: strawberry.ID
    memories: list[MemoryNode]


@strawberry.type(
    description="One memory a search found, with the score this search gave it. The score lives here, beside "
    "the node, not on the node: a client cache that normalises Memory by id (Apollo, urql) keeps each search's "
    "scores apart."
)
class SearchHit:
    cube_id: strawberry.ID = strawberry.field(description="The cube it was found in.")
    rank: int = strawberry.field(description="1 for the best hit of its cube, then 2, 3, ...")
    relativity: float = strawberry.field(description="Relevance in [0, 1] for this search, higher is better.")
    node: MemoryNode


@strawberry.type(description="The MOS search shape: textual memories grouped by cube.")
class SearchResult:
    text_mem: list[CubeMemories]
    hits: list[SearchHit] = strawberry.field(
        description="Every cube's hits, best first (cube by cube for equal scores): the cache-safe place for "
        "scores; textMem keeps MemOS's shape, with the score in metadata.relativity."
    )
    act_mem: list[JSON] = strawberry.field(description="Activation memories; empty (no backend).")
    para_mem: list[JSON] = strawberry.field(description="Parametric memories; empty (no backend).")


@strawberry.type(description="The caller and the cubes it may read.")
class UserInfo:
    user: UserNode
    accessible_cubes: list[MemCubeNode]


@strawberry.type(description="A new user and its API key. The key is shown only here; only its hash is kept.")
class CreateUserPayload:
    user: UserNode
    api_key: str


@strawberry.type(description="The ids of the memories holding the added content, in input order.")
class AddMemoriesPayload:
    cube_id: strawberry.ID
    ids: list[strawberry.ID]


@strawberry.type(description="What a cube dump wrote or a cube import stored (paths are on the server).")
class CubeTransferPayload:
    cube_id: strawberry.ID
    path: str
    memories: int
    versions: int = strawberry.field(description="Earlier versions of memories (update history).")
    messages: int
    documents: int
    edges: int
    reembedded: bool = strawberry.field(description="The import embedded the texts again (other model or none).")
    merged_duplicates: int = strawberry.field(description="Memories of the directory whose text repeated another.")
    working: int = strawberry.field(
        default=0,
        description="Entries of the cube's working set: MemOS WorkingMemory nodes, each a copy of a memory's text.",
    )
    new_ids: bool = strawberry.field(
        description="The graph held the directory's ids already, so the import gave its nodes new ones."
    )
    undecoded_sources: int = strawberry.field(
        description="Sources that were text, not source entries (nor JSON of one): kept verbatim as text sources."
    )

    @classmethod
    def of(cls, report: TransferReport) -> CubeTransferPayload:
        """The payload for a service report."""
        return cls(
            cube_id=strawberry.ID(report.cube_id),
            path=report.path,
            memories=report.memories,
            versions=report.versions,
            messages=report.messages,
            documents=report.documents,
            edges=report.edges,
            reembedded=report.reembedded,
            merged_duplicates=report.merged_duplicates,
            working=report.working,
            new_ids=report.new_ids,
            undecoded_sources=report.undecoded_sources,
        )
