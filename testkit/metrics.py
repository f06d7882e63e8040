"""Reading a Prometheus exposition (what /metrics answers): samples by name and labels, and the names it declares.
Shared by the tests of /metrics and the dashboard, and the benchmark and dashboard drawing scripts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"
# The series a family of each type exposes, beyond its name.
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
_METRIC_NAME = re.compile(r"\b((?:memos|process)_[a-z0-9_]+)\b")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by (sample name, its labels)."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (sample, have), v in samples(text).items() if sample == name and wanted <= have)


def declared_names(text: str) -> set[str]:
    """Every series name the exposition declares (by its families' types), whether or not it has samples yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
    return names


def dashboard_expressions(path: Path = DASHBOARD) -> list[str]:
    """The PromQL of every target of every panel of the Grafana dashboard."""
    board = json.loads(path.read_text(encoding="utf-8"))
    return [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]


def referenced_names(expressions: list[str]) -> set[str]:
    """The metric names the expressions read."""
    return {name for expr in expressions for name in _METRIC_NAME.findall(expr)}
