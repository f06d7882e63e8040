"""The declared schema of the User and MemCube nodes and the edges between them (mos-api.md section 1), as
neomodel classes: their properties, which are required, unique or indexed, and their relationships.

Nothing reads or writes through them (neomodel's process-wide connection is never set): the repositories
run the named statements cypher/queries/user_create.cypher and cube_create.cypher on the runtime's own
store, and tests/unit/test_models_schema.py holds those statements and cypher/schema/ to these classes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from neomodel import (
    BooleanProperty,
    DateTimeNeo4jFormatProperty,
    IntegerProperty,
    RelationshipFrom,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
)


def utc_now() -> datetime:
    """Now, in UTC. (neomodel's default_now evaluates datetime.now() once, when the class is defined, and
    without a time zone, so every node would get the process's start time.)"""
    return datetime.now(UTC)


ROLE_CHOICES = {"root": "root", "admin": "admin", "user": "user", "guest": "guest"}
PERMISSION_CHOICES = {"read": "read", "write": "write"}


class SharedWith(StructuredRel):
    """(:MemCube)-[:SHARED_WITH {since, permission}]->(:User)."""

    since = DateTimeNeo4jFormatProperty(default=utc_now)
    permission = StringProperty(choices=PERMISSION_CHOICES, default="read")


class Loaded(StructuredRel):
    """(:User)-[:LOADED {since}]->(:MemCube): the cube is registered for the user."""

    since = DateTimeNeo4jFormatProperty(default=utc_now)


class UserNode(StructuredNode):
    """A user of the memory service."""

    __label__ = "User"

    # `id` is reserved by neomodel for the element id, so the attribute maps onto the `id` property.
    user_id = StringProperty(db_property="id", required=True, unique_index=True)
    # Random at creation, never changed or reused: owns the user's dumps (an id may be reused after a delete).
    uid = StringProperty(unique_index=True)
    name = StringProperty(required=True)
    role = StringProperty(choices=ROLE_CHOICES, required=True, index=True)
    created_at = DateTimeNeo4jFormatProperty(default=utc_now)
    is_active = BooleanProperty(default=True)
    api_key_hash = StringProperty(unique_index=True)

    owns = RelationshipTo("MemCubeNode", "OWNS")
    loaded = RelationshipTo("MemCubeNode", "LOADED", model=Loaded)
    shared_cubes = RelationshipFrom("MemCubeNode", "SHARED_WITH", model=SharedWith)


class MemCubeNode(StructuredNode):
    """A memory cube: a container of memories owned by one user."""

    __label__ = "MemCube"

    cube_id = StringProperty(db_property="id", required=True, unique_index=True)
    name = StringProperty(required=True)
    path = StringProperty()
    created_at = DateTimeNeo4jFormatProperty(default=utc_now, index=True)
    is_active = BooleanProperty(default=True)
    embedding_model = StringProperty(required=True)
    embedding_dim = IntegerProperty(required=True)

    owner = RelationshipFrom(UserNode, "OWNS")
    shared_with = RelationshipTo(UserNode, "SHARED_WITH", model=SharedWith)
