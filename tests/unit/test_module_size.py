"""Modules stay small: every module of the service (memos_graph/, graphql_schema/) has at most MAX_LINES lines.

A module past it holds more than one responsibility; split it by responsibility into sibling modules."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 400
# Modules still over the limit, each with its reason; strict: once one is split, its entry must go.
NOT_YET: dict[str, str] = {}


def _modules() -> list[Path]:
    return [path for root in ("memos_graph", "graphql_schema") for path in sorted((REPO / root).rglob("*.py"))]


def _cases() -> list[object]:
    cases: list[object] = []
    for path in _modules():
        name = path.relative_to(REPO).as_posix()
        reason = NOT_YET.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(path, id=name, marks=marks))
    return cases


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_service_has_modules_to_measure() -> None:
    names = {path.relative_to(REPO).as_posix() for path in _modules()}
    assert {"memos_graph/config.py", "graphql_schema/types.py"} <= names
    assert set(NOT_YET) <= names


@pytest.mark.parametrize("path", _cases())
def test_a_module_has_at_most_400_lines(path: Path) -> None:
    lines = _lines(path)
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines (at most {MAX_LINES}); split it"
