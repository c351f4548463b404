"""Progress reporting that works the same for the CLI (a tqdm bar), the GUI and tests.

Long-running core functions accept ``progress: ProgressCallback | None`` and call it with
``(done, total, message)``; ``total`` may change as work is discovered. Raising ``Cancelled`` from
the callback is how a caller (the GUI's cancel button) stops the work cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[float, float, str], None]


class Cancelled(Exception):
    """Raised by a progress callback to stop the work; the work rolls back what it had not committed."""


def report(progress: ProgressCallback | None, done: float, total: float, message: str = "") -> None:
    if progress is not None:
        progress(done, total, message)


@contextmanager
def cli_progress(label: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback drawing a tqdm bar on stderr (or doing nothing when disabled)."""
    if not enabled:
        yield lambda done, total, message: None
        return
    from tqdm import tqdm

    bar = tqdm(total=1, desc=label, unit="", dynamic_ncols=True, leave=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}")

    def update(done: float, total: float, message: str) -> None:
        bar.total = max(total, 1e-9)
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
