"""Progress of long work (imports, re-embedding, reading many documents), reported to whoever renders it.

Services open a `progress(description, total)` and call what it yields with each step done. The caller's
scope decides what is shown: the CLI renders a bar on stderr (`rendered_by(...)`, see cli/progress.py); a
server and an in-process MOS render nothing and the work logs at INFO every tenth of the way instead. Work
smaller than `minimum` steps reports nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Protocol

logger = logging.getLogger(__name__)

Advance = Callable[[int], None]
# Below this many steps, work is too short to report.
PROGRESS_MIN = 1_000
# Logged progress: one line per this fraction of the work.
LOG_STEP = 0.1


class ProgressRenderer(Protocol):
    """Shows one piece of work: entered with its description, total and unit; yields the step callback."""

    def __call__(self, description: str, total: int, unit: str) -> AbstractContextManager[Advance]: ...


_RENDERER: ContextVar[ProgressRenderer | None] = ContextVar("memos_progress_renderer", default=None)


@contextmanager
def rendered_by(renderer: ProgressRenderer) -> Iterator[None]:
    """Work started inside this scope (this thread and what it hands its context to) shows on `renderer`."""
    token = _RENDERER.set(renderer)
    try:
        yield
    finally:
        _RENDERER.reset(token)


@contextmanager
def progress(description: str, total: int, unit: str = "item", minimum: int = PROGRESS_MIN) -> Iterator[Advance]:
    """Report `total` steps of work to the scope's renderer (or the log)."""
    if total < minimum:
        yield _ignore
        return
    renderer = _RENDERER.get()
    if renderer is not None:
        with renderer(description, total, unit) as advance:
            yield advance
        return
    yield _logged(description, total, unit)


def _ignore(steps: int) -> None:
    del steps


def _logged(description: str, total: int, unit: str) -> Advance:
    done = 0
    next_report = LOG_STEP

    def advance(steps: int) -> None:
        nonlocal done, next_report
        done += steps
        if done >= total * next_report:
            logger.info("%s: %d%% (%d of %d %s)", description, 100 * done // total, done, total, unit)
            while next_report <= done / total:
                next_report += LOG_STEP

    return advance
