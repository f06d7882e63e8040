"""The CLI's progress bars: long work of the services (services/progress.py) drawn with tqdm on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from memos_graph.services.progress import Advance


@contextmanager
def tqdm_bar(description: str, total: int, unit: str) -> Iterator[Advance]:
    """A tqdm bar on stderr for one piece of work."""
    with tqdm(total=total, desc=description, unit=unit, file=sys.stderr) as bar:
        yield bar.update
