"""graph/models.py declares the User and MemCube nodes; nothing runs through neomodel, so these tests hold the
declaration, the constraints and indexes of cypher/schema/ and the statements that create the nodes to each
other, and keep every read and write on a runtime's own store."""

from __future__ import annotations

import re
from pathlib import Path

from neomodel import StructuredNode, StructuredRel

from memos_graph.graph.models import Loaded, MemCubeNode, UserNode
from memos_graph.graph.queries import CYPHER_DIR

MODELS: tuple[type[StructuredNode], ...] = (UserNode, MemCubeNode)
_UNIQUE = re.compile(r"CREATE CONSTRAINT \w+ IF NOT EXISTS FOR \((\w+):(\w+)\) REQUIRE \1\.(\w+) IS UNIQUE")
_INDEX = re.compile(r"CREATE INDEX \w+ IF NOT EXISTS FOR \((\w+):(\w+)\) ON \(\1\.(\w+)\)")


def _schema_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((CYPHER_DIR / "schema").glob("*.cypher")))


def _declared(model: type[StructuredNode], flag: str) -> set[str]:
    """The stored names of the model's properties that have `flag` (unique_index, index, required) set."""
    return {
        prop.db_property or name
        for name, prop in model.defined_properties(aliases=False, rels=False).items()
        if getattr(prop, flag)
    }


def _stored(model: type[StructuredNode] | type[StructuredRel]) -> set[str]:
    return {prop.db_property or name for name, prop in model.defined_properties(aliases=False, rels=False).items()}


def _map_keys(statement: str, pattern: str) -> set[str]:
    """The keys of the property map written by the `pattern` (a node or relationship pattern's head)."""
    text = (CYPHER_DIR / "queries" / f"{statement}.cypher").read_text(encoding="utf-8")
    found = re.search(re.escape(pattern) + r" \{(?P<body>[^}]*)\}", text)
    assert found is not None, f"{statement}.cypher writes no {pattern}"
    return set(re.findall(r"(\w+):", found["body"]))


def test_unique_properties_are_the_schema_constraints() -> None:
    constraints = {(label, prop) for _, label, prop in _UNIQUE.findall(_schema_text())}
    for model in MODELS:
        label = model.__label__
        assert _declared(model, "unique_index") == {prop for lab, prop in constraints if lab == label}, label


def test_indexed_properties_are_the_schema_indexes() -> None:
    indexes = {(label, prop) for _, label, prop in _INDEX.findall(_schema_text())}
    for model in MODELS:
        label = model.__label__
        assert _declared(model, "index") == {prop for lab, prop in indexes if lab == label}, label


def test_creating_statements_write_the_declared_properties() -> None:
    assert _map_keys("user_create", "(u:User") == _stored(UserNode)
    assert _map_keys("cube_create", "(c:MemCube") == _stored(MemCubeNode)
    assert _map_keys("cube_create", "[:LOADED") == _stored(Loaded)
    assert _declared(UserNode, "required") <= _stored(UserNode)
    owns = UserNode.defined_properties(aliases=False, properties=False)["owns"].definition
    assert f"[:{owns['relation_type']}]->(c:MemCube" in (CYPHER_DIR / "queries" / "cube_create.cypher").read_text()


def test_nothing_reads_or_writes_through_neomodels_connection() -> None:
    package = Path(__file__).resolve().parents[2] / "memos_graph"
    importers = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"^\s*(from|import) neomodel\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert importers == {"graph/models.py"}
    models = (package / "graph" / "models.py").read_text(encoding="utf-8")
    assert not re.search(r"\bdb\b|set_connection|get_config|\.nodes\b|\.save\(|\.connect\(", models)
