"""What the MCP tools take and return: pydantic models, so the SDK publishes their JSON schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from memos_graph.domain import CubeAccess, TextualMemoryItem


class MessageIn(BaseModel):
    """One message of a conversation to remember."""

    role: Literal["user", "assistant", "system"] = Field(description="who spoke")
    content: str = Field(description="what was said")
    name: str | None = Field(default=None, description="the speaker's name, stored in the memory's text")
    chat_time: str | None = Field(default=None, description="when it was said (kept in metadata.sources)")
    message_id: str | None = Field(
        default=None, description="the message's id in its conversation; re-adding it adds nothing"
    )


class Memory(BaseModel):
    """One memory: its id, its text and its metadata (tags, sources, timestamps, relativity in a search)."""

    memory_id: str
    memory: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, item: TextualMemoryItem) -> Memory:
        """The item as the tools show it (never its embedding)."""
        metadata = item.metadata.model_dump(mode="json", exclude={"embedding"})
        return cls(memory_id=item.id, memory=item.memory, metadata=metadata)


class CubeMemories(BaseModel):
    """A cube's memories in a result."""

    cube_id: str
    memories: list[Memory]


class SearchResult(BaseModel):
    """Top-k memories per cube searched, best first; metadata.relativity is the relevance in [0, 1]."""

    cubes: list[CubeMemories]


class Added(BaseModel):
    """The memories an add stored (or found already stored, for a text the cube holds)."""

    cube_id: str
    memory_ids: list[str]
    ids: list[str] = Field(description="the same ids under GraphQL's name (addMemories' ids)")


class Cube(BaseModel):
    """A cube the caller may read."""

    cube_id: str
    cube_name: str
    owner_id: str
    is_loaded: bool = Field(description="searched when a search names no cubes")
    can_write: bool

    @classmethod
    def of(cls, entry: CubeAccess) -> Cube:
        """The caller's view of a cube."""
        return cls(
            cube_id=entry.cube.cube_id,
            cube_name=entry.cube.cube_name,
            owner_id=entry.cube.owner_id,
            is_loaded=entry.is_loaded,
            can_write=entry.can_write,
        )


class CubeList(BaseModel):
    """Every cube the caller may read."""

    cubes: list[Cube]


class Deleted(BaseModel):
    """A memory deleted, with its history."""

    cube_id: str
    memory_id: str
    deleted: bool


class ChatAnswer(BaseModel):
    """The chat model's answer, given the caller's memories and recent history."""

    answer: str
