"""Global ids (Relay): a node's `id` is base64 of "<type>:<key>", and every ID argument takes either that or
the plain id the MOS API uses (a cube id, a user id, a memory's UUID)."""

from __future__ import annotations

import json

from strawberry.relay import GlobalID, GlobalIDValueError

from memos_graph.errors import InvalidInput


def plain(value: object, type_name: str) -> str:
    """The plain id in an ID argument: the key of a global id of `type_name`, else the value as given."""
    text = str(value)
    try:
        found = GlobalID.from_id(text)
    except GlobalIDValueError:
        return text
    if found.type_name == type_name and str(found) == text:
        return found.node_id
    return text


def cube_of(value: object) -> str:
    return plain(value, "MemCube")


def user_of(value: object) -> str:
    return plain(value, "User")


def memory_of(value: object) -> str:
    return plain(value, "Memory")


def pair_key(cube_id: str, key: str) -> str:
    """The node key of a message or document: its cube and its key within the cube."""
    return json.dumps([cube_id, key], separators=(",", ":"))


def pair_of(node_id: str) -> tuple[str, str] | None:
    """(cube_id, key) from a message's or document's node key; None for one this server did not make."""
    try:
        value = json.loads(node_id)
    except ValueError:
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    return None


def parse_global(value: str) -> GlobalID:
    """A global id; InvalidInput for text that is not one."""
    try:
        return GlobalID.from_id(value)
    except GlobalIDValueError:
        raise InvalidInput(
            "malformed global id: node(id:) takes the id field of a User, MemCube, Memory, Message or Document"
        ) from None
