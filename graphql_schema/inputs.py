"""GraphQL input types."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from graphql_schema.types import Role, SharePermission


@strawberry.input(description="A new user; the caller must be ROOT or ADMIN.")
class CreateUserInput:
    id: strawberry.ID
    name: str | None = None
    role: Role = Role.USER


@strawberry.input(description="A new cube. Without ownerId the caller owns it.")
class CreateCubeInput:
    name: str
    owner_id: strawberry.ID | None = None
    path: str | None = None
    id: strawberry.ID | None = None


@strawberry.input(description="A chat message; chatTime and messageId survive into the memory's sources.")
class MessageInput:
    role: str
    content: str
    chat_time: str | None = None
    message_id: str | None = None
    name: str | None = strawberry.field(default=None, description="The speaker's name, if not just the role.")


@strawberry.input(
    description="What to add: exactly one of content, messages, docPath. Without cubeId, the caller's default cube."
)
class AddMemoriesInput:
    cube_id: strawberry.ID | None = None
    session_id: str | None = None
    content: list[str] | None = None
    messages: list[MessageInput] | None = None
    doc_path: str | None = None


@strawberry.input(description="New text and metadata for a memory; fields left out stay as they are.")
class UpdateMemoryInput:
    cube_id: strawberry.ID
    id: strawberry.ID
    memory: str
    tags: list[str] | None = None
    key: str | None = None
    type: str | None = None
    confidence: float | None = None
    background: str | None = None
    extra: JSON | None = strawberry.field(default=None, description="Extra metadata keys, kept and returned.")


__all__ = [
    "AddMemoriesInput",
    "CreateCubeInput",
    "CreateUserInput",
    "MessageInput",
    "Role",
    "SharePermission",
    "UpdateMemoryInput",
]
