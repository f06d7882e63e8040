"""Named Cypher statements, one per file under cypher/, loaded by name."""

from __future__ import annotations

import functools
from pathlib import Path

# memos_graph/cypher: in a checkout a link to the top-level cypher/ directory, in a wheel its copy.
CYPHER_DIR = Path(__file__).resolve().parents[1] / "cypher"


@functools.cache
def query(name: str) -> str:
    """The statement in cypher/queries/<name>.cypher."""
    path = CYPHER_DIR / "queries" / f"{name}.cypher"
    return path.read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """Split a schema file into statements: `//` comment lines dropped, `;` at a line's end ends one."""
    statements: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        current.append(line)
        if stripped.endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
