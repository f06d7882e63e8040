"""Tool arguments checked before the SDK validates them: unknown names refused, GraphQL's names accepted as
aliases, and the SDK's pydantic failures described as a BAD_USER_INPUT message.

The SDK ignores an argument it does not know (a misspelt `top_k` would silently be the default) and reports
a wrong type as pydantic's multi-line text with no error code. Here both become InvalidInput, whose message
names the argument and what it expects and never repeats the value sent (which may be huge, or private).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from memos_graph.errors import InvalidInput

# GraphQL's names for a tool's arguments, accepted beside the tool's own: {tool: {alias: argument}}.
ALIASES: dict[str, dict[str, str]] = {
    "add_memories": {"content": "texts"},
}
# How much of the caller's own text (an unknown argument's name, pydantic's reason) a message repeats.
_NAME_CHARS = 64
_REASON_CHARS = 160
_MOST_PROBLEMS = 5


def normalised(tool: str, arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments with aliases renamed to the tool's names; InvalidInput for an unknown name or for an
    argument given under both of its names."""
    accepted = set(schema.get("properties", {}))
    aliases = ALIASES.get(tool, {})
    unknown = [name for name in arguments if name not in accepted and name not in aliases]
    if unknown:
        shown = ", ".join(repr(_cut(name, _NAME_CHARS)) for name in unknown[:_MOST_PROBLEMS])
        more = f" (and {len(unknown) - _MOST_PROBLEMS} more)" if len(unknown) > _MOST_PROBLEMS else ""
        takes = ", ".join([*accepted, *(f"{alias} (= {name})" for alias, name in aliases.items())])
        noun = "argument" if len(unknown) == 1 else "arguments"
        raise InvalidInput(f"{tool}: unknown {noun} {shown}{more}; it takes {takes}")
    renamed = dict(arguments)
    for alias, name in aliases.items():
        if alias not in renamed:
            continue
        if name in renamed:
            raise InvalidInput(f"{tool}: give '{name}' or its GraphQL name '{alias}', not both")
        renamed[name] = renamed.pop(alias)
    return renamed


def described(tool: str, error: ValidationError, schema: Mapping[str, Any]) -> str:
    """The SDK's argument-validation failure as one line per problem: the argument's path, what it expects
    (from the tool's input schema) and pydantic's reason, without the value that was sent."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    lines: list[str] = []
    for problem in problems[:_MOST_PROBLEMS]:
        path = ".".join(str(part) for part in problem["loc"])
        top = str(problem["loc"][0]) if problem["loc"] else ""
        expected = expected_type(properties[top], schema) if top in properties else None
        if problem["type"] == "missing" and path == top:
            lines.append(f"'{path}' is required" + (f" ({expected})" if expected else ""))
        elif path == top and expected:
            lines.append(f"'{path}' expects {expected}: {_cut(str(problem['msg']), _REASON_CHARS)}")
        else:
            lines.append(f"'{path}': {_cut(str(problem['msg']), _REASON_CHARS)}")
    if len(problems) > _MOST_PROBLEMS:
        lines.append(f"and {len(problems) - _MOST_PROBLEMS} more")
    return f"{tool}: invalid arguments: " + "; ".join(lines)


def expected_type(fragment: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    """A JSON schema fragment as a short phrase: 'list of string', 'integer or null', 'object'."""
    if "anyOf" in fragment:
        return " or ".join(expected_type(option, schema) for option in fragment["anyOf"])
    if "enum" in fragment:
        return "one of " + ", ".join(repr(value) for value in fragment["enum"])
    if "$ref" in fragment:
        name = str(fragment["$ref"]).rsplit("/", 1)[-1]
        definition = schema.get("$defs", {}).get(name, {})
        required = definition.get("required", [])
        return f"object with {', '.join(required)}" if required else "object"
    kind = fragment.get("type")
    if kind == "array":
        return "list of " + expected_type(fragment.get("items", {}), schema)
    return str(kind) if kind else "any value"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
