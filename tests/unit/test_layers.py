"""The layers of docs/architecture.md, held to their imports: each layer imports only what its row allows.

Read from the source with ast (no import runs), so a forbidden import fails here before it spreads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOORS = ("graphql_schema", "memos_graph.mos", "memos_graph.cli", "memos_graph.mcp_server")
# What each layer must not import (module prefixes).
FORBIDDEN = {
    "doors": ("memos_graph.graph", "neo4j", "neomodel"),
    "memos_graph.services": (*DOORS, "neo4j", "neomodel"),
    "memos_graph.cube_format": ("memos_graph.graph", "memos_graph.services", *DOORS),
    "memos_graph.graph": ("memos_graph.services", "memos_graph.cube_format", *DOORS),
    "memos_graph.domain": (
        "memos_graph.graph",
        "memos_graph.services",
        "memos_graph.cube_format",
        "memos_graph.embeddings",
        "memos_graph.llm",
        "neo4j",
        "neomodel",
        *DOORS,
    ),
}
# Modules outside the layers' directories, and the layer whose rules each keeps.
LAYER_OF = {
    # The operator tasks (re-embed, event times, rebuild indexes): operations over graph repositories like a
    # service's, run before the services may start (their start-up refuses a graph of another model).
    "memos_graph.maintenance": "memos_graph.services",
}
# Imports that cross a line on purpose, each with its reason.
ALLOWED = {
    ("memos_graph.services.runtime", "memos_graph.graph"): "the runtime owns the repositories it hands services",
}


def _layer(module: str) -> str | None:
    if module in LAYER_OF:
        return LAYER_OF[module]
    if any(module == door or module.startswith(door + ".") for door in DOORS):
        return "doors"
    for layer in FORBIDDEN:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for root in ("memos_graph", "graphql_schema"):
        for path in sorted((REPO / root).rglob("*.py")):
            found.append((".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"), path))
    return found


def _crosses(importer: str, imported: str) -> bool:
    layer = _layer(importer)
    if layer is None:
        return False
    for prefix in FORBIDDEN[layer]:
        if (imported == prefix or imported.startswith(prefix + ".")) and not any(
            importer.startswith(source) and (imported == target or imported.startswith(target + "."))
            for source, target in ALLOWED
        ):
            return True
    return False


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_a_module_imports_only_what_its_layer_may(module: str, path: Path) -> None:
    crossing = sorted({name for name in _imports(path) if _crosses(module, name)})
    assert not crossing, f"{module} ({_layer(module)}) imports {crossing}; see docs/architecture.md"


def test_the_rules_catch_a_crossing() -> None:
    assert _crosses("graphql_schema.query", "memos_graph.graph.memories")
    assert _crosses("memos_graph.domain.memory", "neo4j")
    assert not _crosses("memos_graph.services.search", "memos_graph.graph.search")
    assert not _crosses("memos_graph.services.runtime", "memos_graph.graph.store")
    assert _crosses("memos_graph.maintenance", "neo4j")
    assert _crosses("memos_graph.maintenance", "memos_graph.cli.operator")
    assert not _crosses("memos_graph.maintenance", "memos_graph.graph.maintenance")


# The service imports none of the testing trees; the tests and the benchmarks share testkit/ and nothing else
# (the benchmarks' own tests live in bench/tests/, with testkit's fixtures).
TREE_FORBIDDEN = {
    "memos_graph": ("tests", "bench", "testkit"),
    "graphql_schema": ("tests", "bench", "testkit"),
    "testkit": ("tests", "bench"),
    "bench": ("tests",),
    "tests": ("bench",),
}


def _tree_modules() -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(REPO).with_suffix("").parts), path)
        for root in TREE_FORBIDDEN
        for path in sorted((REPO / root).rglob("*.py"))
    ]


def _tree_crossings(module: str, imports: list[str]) -> list[str]:
    forbidden = TREE_FORBIDDEN[module.split(".", 1)[0]]
    return sorted({name for name in imports if any(name == f or name.startswith(f + ".") for f in forbidden)})


@pytest.mark.parametrize(("module", "path"), _tree_modules(), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_tests_and_benchmarks_import_each_other_only_through_testkit(module: str, path: Path) -> None:
    crossing = _tree_crossings(module, list(_imports(path)))
    assert not crossing, f"{module} imports {crossing}; shared testing code belongs in testkit/"


def test_the_tree_rule_catches_a_crossing() -> None:
    assert _tree_crossings("tests.unit.test_x", ["bench.bench_load", "testkit.servers"]) == ["bench.bench_load"]
    assert _tree_crossings("bench.tests.test_y", ["tests.conftest"]) == ["tests.conftest"]
    assert _tree_crossings("memos_graph.mos", ["testkit.keys"]) == ["testkit.keys"]
    assert _tree_crossings("bench.bench_core", ["benchmark_tools"]) == []
