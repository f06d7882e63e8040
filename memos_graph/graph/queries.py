"""Named Cypher statements, one per file under cypher/, loaded by name.

A statement may include a fragment of cypher/fragments/ with `{{<fragment> <variable>}}` (the fragment's
`__m__` becomes the variable; the choice (<fragment>, "off") renders it as `true`, so that a caller with
nothing to filter pays nothing for it), and may declare choices, each a closed list of alternatives:
`// choice <name>: <alternative> | <alternative>`; `{{<name>}}` in the text becomes the alternative the caller
picks (query(name, choices)). Both are fixed text of this repository: no value from a caller ever enters a
statement's text, only its parameters.

Schema commands (cypher/commands/) name an index or a label, which Cypher does not take as a parameter:
`// identifier <name>` declares a placeholder `{{<name>}}`, and command() fills it only with an identifier
(a letter, then letters, digits or underscores), so no other text can enter the statement.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

# memos_graph/cypher: in a checkout a link to the top-level cypher/ directory, in a wheel its copy.
CYPHER_DIR = Path(__file__).resolve().parents[1] / "cypher"

_CHOICE = re.compile(r"^// choice (?P<name>\w+): (?P<alternatives>.+)$", re.MULTILINE)
_INCLUDE = re.compile(r"\{\{(?P<fragment>\w+) (?P<variable>\w+)\}\}")
_PLACEHOLDER = re.compile(r"\{\{(?P<name>\w+)\}\}")
_IDENTIFIER_DECLARED = re.compile(r"^// identifier (?P<name>\w+)$", re.MULTILINE)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")

Choices = tuple[tuple[str, str], ...]
# Each rendered statement's name, so that code handed a statement's text can still name it (in traces).
_NAMES: dict[str, str] = {}
UNNAMED = "cypher"


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


@functools.cache
def fragment(name: str) -> str:
    """cypher/fragments/<name>.cypher without its comment lines."""
    return _without_comments((CYPHER_DIR / "fragments" / f"{name}.cypher").read_text(encoding="utf-8"))


def declared_choices(name: str) -> dict[str, list[str]]:
    """The choices cypher/queries/<name>.cypher declares, each with its alternatives."""
    text = (CYPHER_DIR / "queries" / f"{name}.cypher").read_text(encoding="utf-8")
    return {m["name"]: [a.strip() for a in m["alternatives"].split("|")] for m in _CHOICE.finditer(text)}


@functools.cache
def query(name: str, choices: Choices = ()) -> str:
    """The statement in cypher/queries/<name>.cypher, its fragments included and its choices made; ValueError
    for a choice the file does not declare or an alternative it does not list, or a choice left unmade."""
    text = (CYPHER_DIR / "queries" / f"{name}.cypher").read_text(encoding="utf-8")
    declared = declared_choices(name)
    picked = dict(choices)
    fragments = {m["fragment"] for m in _INCLUDE.finditer(text)}
    left_out = {name for name in fragments if picked.pop(name, "on") == "off"}
    for choice, alternative in picked.items():
        if alternative not in declared.get(choice, ()):
            raise ValueError(f"{name}.cypher offers no {choice} {alternative!r}")
    if set(declared) - set(picked):
        raise ValueError(f"{name}.cypher needs the choices {sorted(set(declared) - set(picked))}")
    text = _INCLUDE.sub(
        lambda m: (
            "true" if m["fragment"] in left_out else "(" + fragment(m["fragment"]).replace("__m__", m["variable"]) + ")"
        ),
        text,
    )
    rendered = _PLACEHOLDER.sub(lambda m: picked[m["name"]], text)
    _NAMES[rendered] = name
    return rendered


def command(name: str, **identifiers: str) -> str:
    """The schema command in cypher/commands/<name>.cypher with its declared identifiers filled in;
    ValueError for an undeclared or missing identifier, or a value that is not an identifier."""
    text = (CYPHER_DIR / "commands" / f"{name}.cypher").read_text(encoding="utf-8")
    declared = set(_IDENTIFIER_DECLARED.findall(text))
    if set(identifiers) != declared:
        raise ValueError(f"{name}.cypher takes the identifiers {sorted(declared)}, not {sorted(identifiers)}")
    for key, value in identifiers.items():
        if not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{name}.cypher: {key} must be an identifier, not {value!r}")
    # Not recorded for statement_name: each cube's index name would add an entry that is never dropped.
    return _PLACEHOLDER.sub(lambda m: identifiers[m["name"]], _without_comments(text)).strip()


def statement_name(text: str) -> str:
    """The name of a statement query() rendered, UNNAMED for any other text (schema statements)."""
    return _NAMES.get(text, UNNAMED)


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
