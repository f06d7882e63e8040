"""Progress of long work goes to the scope's renderer (the CLI's bars), else to the log; short work reports nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import copy_context

import pytest

from memos_graph.services.progress import Advance, progress, rendered_by


class Recorder:
    def __init__(self) -> None:
        self.opened: list[tuple[str, int, str]] = []
        self.steps: list[int] = []

    @contextmanager
    def __call__(self, description: str, total: int, unit: str) -> Iterator[Advance]:
        self.opened.append((description, total, unit))
        yield self.steps.append


def test_work_inside_a_rendering_scope_shows_on_its_renderer_and_nowhere_after() -> None:
    recorder = Recorder()
    with rendered_by(recorder), progress("importing c", 2_000) as advance:
        advance(1_500)
        advance(500)
    with progress("importing d", 2_000) as advance:
        advance(2_000)
    assert recorder.opened == [("importing c", 2_000, "item")]
    assert recorder.steps == [1_500, 500]


def test_short_work_reports_nothing() -> None:
    recorder = Recorder()
    with rendered_by(recorder), progress("reading documents", 9, "file", minimum=10) as advance:
        advance(9)
    assert recorder.opened == [] and recorder.steps == []


def test_without_a_renderer_the_log_gets_a_line_per_tenth(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="memos_graph.services.progress"),
        progress("re-embedding", 1_000, "memory") as advance,
    ):
        for _ in range(20):
            advance(50)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 10
    assert lines[0] == "re-embedding: 10% (100 of 1000 memory)"
    assert lines[-1].startswith("re-embedding: 100%")


def test_a_thread_given_the_callers_context_reports_to_the_callers_renderer() -> None:
    recorder = Recorder()

    def work() -> None:
        with progress("embedding", 1_000) as advance:
            advance(1_000)

    with rendered_by(recorder):
        thread = threading.Thread(target=copy_context().run, args=(work,))
        thread.start()
        thread.join()
    assert recorder.steps == [1_000]
