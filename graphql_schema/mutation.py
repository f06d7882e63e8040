"""Mutation resolvers: each is one call into the services the MOS class uses."""

from __future__ import annotations

from typing import Any

import strawberry
from pydantic import ValidationError

from graphql_schema.context import Context, Info
from graphql_schema.enums import SharePermission
from graphql_schema.ids import cube_of, memory_of, user_of
from graphql_schema.inputs import AddMemoriesInput, CreateCubeInput, CreateUserInput, UpdateMemoryInput
from graphql_schema.payloads import AddMemoriesPayload, CreateUserPayload, CubeTransferPayload
from graphql_schema.types import MemCubeNode, MemoryNode, UserNode
from memos_graph.domain import Permission, TextualMemoryItem, TextualMemoryMetadata, UserRole
from memos_graph.errors import InvalidInput
from memos_graph.services.metadata_checks import check_strings


def _update_item(data: UpdateMemoryInput, max_chars: int) -> TextualMemoryItem:
    fields: dict[str, Any] = {
        name: getattr(data, name)
        for name in ("tags", "key", "type", "confidence", "background", "memory_time")
        if getattr(data, name) is not None
    }
    extra: object = data.extra or {}
    if not isinstance(extra, dict):
        raise InvalidInput("extra must be a JSON object")
    clash = set(extra) & set(TextualMemoryMetadata.model_fields)
    if clash:
        raise InvalidInput(f"extra may not set schema fields: {', '.join(sorted(clash))}")
    # Before pydantic sees them: its message for a lone surrogate does not say what is wrong.
    check_strings({**extra, **fields}, "metadata", max_chars)
    try:
        metadata = TextualMemoryMetadata.model_validate({**extra, **fields})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise InvalidInput(f"invalid metadata: {problems}") from exc
    return TextualMemoryItem(memory=data.memory, metadata=metadata)


def _bulk_seconds(ctx: Context) -> float:
    """The deadline of work on whole cubes (dump, import, deleting cubes and users): transfer.timeout_s."""
    return ctx.services.runtime.config.transfer.timeout_s


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a user; returns its API key once.")
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        ctx = info.context
        user, key = await ctx.run(
            lambda: ctx.services.users.create_user_with_key(
                ctx.caller, str(input.id), UserRole(input.role.value), input.name
            )
        )
        return CreateUserPayload(user=UserNode.of(user), api_key=key)

    @strawberry.mutation(description="Replace the caller's API key; the old one stops working at once.")
    async def rotate_api_key(self, info: Info) -> str:
        ctx = info.context
        return await ctx.run(lambda: ctx.services.identity.rotate(ctx.caller))

    @strawberry.mutation(description="Create a cube (loaded for its owner).")
    async def create_cube(self, info: Info, input: CreateCubeInput) -> MemCubeNode:
        ctx = info.context
        owner = user_of(input.owner_id) if input.owner_id is not None else ctx.caller.user_id
        cube_id = None if input.id is None else str(input.id)

        created = await ctx.run(lambda: ctx.services.create_cube(ctx.caller, input.name, owner, input.path, cube_id))
        return MemCubeNode.of(created)

    @strawberry.mutation(description="Load a cube the caller may read into its loaded cubes.")
    async def register_cube(self, info: Info, cube_id: strawberry.ID) -> MemCubeNode:
        ctx = info.context
        return MemCubeNode.of(await ctx.run(lambda: ctx.services.register_cube(ctx.caller, cube_of(cube_id))))

    @strawberry.mutation(description="Remove a cube from the caller's loaded cubes; its data stays.")
    async def unregister_cube(self, info: Info, cube_id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.run(lambda: ctx.services.cubes.unregister(ctx.caller, cube_of(cube_id)))
        return True

    @strawberry.mutation(
        description="Share a cube with another user: the owner or ROOT grant READ or WRITE; an ADMIN grants READ."
    )
    async def share_cube(
        self,
        info: Info,
        cube_id: strawberry.ID,
        user_id: strawberry.ID,
        permission: SharePermission = SharePermission.READ,
    ) -> bool:
        ctx = info.context
        level = Permission(permission.value)
        return await ctx.run(lambda: ctx.services.cubes.share(ctx.caller, cube_of(cube_id), user_of(user_id), level))

    @strawberry.mutation(
        description="Take back a share (owner or ROOT; ADMIN for read shares; any user for its own share). "
        "Returns the permission it had."
    )
    async def revoke_share(self, info: Info, cube_id: strawberry.ID, user_id: strawberry.ID) -> SharePermission:
        ctx = info.context
        removed = await ctx.run(lambda: ctx.services.cubes.revoke_share(ctx.caller, cube_of(cube_id), user_of(user_id)))
        return SharePermission(removed.value)

    @strawberry.mutation(description="Delete a cube and everything in it (owner or ROOT).")
    async def delete_cube(self, info: Info, cube_id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.run(lambda: ctx.services.cubes.delete_cube(ctx.caller, cube_of(cube_id)), seconds=_bulk_seconds(ctx))
        return True

    @strawberry.mutation(
        description="Stop a user's API key at once: your own, or (ROOT; ADMIN for USER and GUEST) another's. "
        "Returns the user's new key, shown only now, to the user itself and to ROOT; an ADMIN's reset of "
        "another user only revokes the key and returns null (ROOT issues the user a new one). Audited."
    )
    async def reset_api_key(self, info: Info, user_id: strawberry.ID) -> str | None:
        ctx = info.context
        return await ctx.run(lambda: ctx.services.users.reset_api_key(ctx.caller, user_of(user_id)))

    @strawberry.mutation(description="Refuse every call and key of a user (ROOT; ADMIN for USER and GUEST).")
    async def deactivate_user(self, info: Info, user_id: strawberry.ID) -> UserNode:
        ctx = info.context
        return UserNode.of(await ctx.run(lambda: ctx.services.users.deactivate_user(ctx.caller, user_of(user_id))))

    @strawberry.mutation(description="Undo deactivateUser (ROOT; ADMIN for USER and GUEST).")
    async def reactivate_user(self, info: Info, user_id: strawberry.ID) -> UserNode:
        ctx = info.context
        return UserNode.of(await ctx.run(lambda: ctx.services.users.reactivate_user(ctx.caller, user_of(user_id))))

    @strawberry.mutation(
        description="ROOT only: delete a user with its own cubes, their memories and provenance, its chat "
        "history and its key (the right to be forgotten). Returns the deleted cube ids; call again if it was "
        "interrupted."
    )
    async def delete_user(self, info: Info, user_id: strawberry.ID) -> list[strawberry.ID]:
        ctx = info.context
        cube_ids = await ctx.run(
            lambda: ctx.services.users.delete_user(ctx.caller, user_of(user_id)), seconds=_bulk_seconds(ctx)
        )
        return [strawberry.ID(cube_id) for cube_id in cube_ids]

    @strawberry.mutation(description="Add memories from content, chat messages, or documents under the roots.")
    async def add_memories(self, info: Info, input: AddMemoriesInput) -> AddMemoriesPayload:
        ctx = info.context
        cube_id = None if input.cube_id is None else cube_of(input.cube_id)
        messages = (
            None
            if input.messages is None
            else [
                {
                    "role": m.role,
                    "content": m.content,
                    "chat_time": m.chat_time,
                    "message_id": m.message_id,
                    "name": m.name,
                }
                for m in input.messages
            ]
        )
        target, ids = await ctx.run(
            lambda: ctx.services.add_to(
                ctx.caller,
                cube_id,
                messages=messages,
                content=input.content,
                doc_path=input.doc_path,
                session_id=input.session_id,
            ),
            uses_llm=True,
        )
        return AddMemoriesPayload(cube_id=strawberry.ID(target), ids=[strawberry.ID(i) for i in ids])

    @strawberry.mutation(description="Replace a memory's text and the given metadata; the old version is kept.")
    async def update_memory(self, info: Info, input: UpdateMemoryInput) -> MemoryNode:
        ctx = info.context
        item = _update_item(input, ctx.services.runtime.config.limits.max_memory_chars)
        updated = await ctx.run(
            lambda: ctx.services.memories.update(ctx.caller, cube_of(input.cube_id), memory_of(input.id), item)
        )
        return MemoryNode.of(updated, cube_of(input.cube_id))

    @strawberry.mutation(description="Delete one memory and its history.")
    async def delete_memory(self, info: Info, cube_id: strawberry.ID, id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.run(lambda: ctx.services.memories.delete(ctx.caller, cube_of(cube_id), memory_of(id)))
        return True

    @strawberry.mutation(
        description="Delete every memory of a cube the caller may write, or (no cubeId) of every cube the caller owns."
    )
    async def delete_all_memories(self, info: Info, cube_id: strawberry.ID | None = None) -> int:
        ctx = info.context
        target = None if cube_id is None else cube_of(cube_id)
        return await ctx.run(lambda: ctx.services.memories.delete_all(ctx.caller, target))

    @strawberry.mutation(description="Answer with the caller's memories and recent chat history.")
    async def chat(self, info: Info, query: str, session_id: str | None = None) -> str:
        ctx = info.context
        return await ctx.run(lambda: ctx.services.chat.chat(ctx.caller, query, session_id), uses_llm=True)

    @strawberry.mutation(description="Clear the caller's chat history (all sessions).")
    async def clear_messages(self, info: Info) -> bool:
        ctx = info.context
        await ctx.run(lambda: ctx.services.chat.clear(ctx.caller))
        return True

    @strawberry.mutation(
        description="Write a cube as a MemOS directory (tree_text) on the server, inside MEMOS_TRANSFER_ROOTS; "
        "the directory must not exist or be empty."
    )
    async def dump_cube(self, info: Info, cube_id: strawberry.ID, dump_dir: str) -> CubeTransferPayload:
        ctx = info.context
        report = await ctx.run(
            lambda: ctx.services.transfer.dump(ctx.caller, dump_dir, cube_of(cube_id)),
            seconds=_bulk_seconds(ctx),
        )
        return CubeTransferPayload.of(report)

    @strawberry.mutation(
        description="Import a MemOS cube directory (general_text or tree_text) on the server, inside "
        "MEMOS_TRANSFER_ROOTS, as a cube the caller owns (id: cubeId, else the directory's cube_id). Only a "
        "dump the caller wrote, anything under <root>/<caller id>/, or (ROOT) any directory is importable."
    )
    async def import_cube(self, info: Info, path: str, cube_id: strawberry.ID | None = None) -> CubeTransferPayload:
        ctx = info.context
        target = None if cube_id is None else cube_of(cube_id)
        report = await ctx.run(
            lambda: ctx.services.transfer.import_directory(ctx.caller, path, target),
            seconds=_bulk_seconds(ctx),
        )
        return CubeTransferPayload.of(report)
