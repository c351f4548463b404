"""Progress reporting that works the same for the CLI (a tqdm bar), the GUI and tests.

Long-running core functions accept ``progress: ProgressCallback | None`` and call it with
``(done, total, message)``; ``total`` may change as work is discovered. Raising ``Cancelled`` from
the callback is how a caller (the GUI's cancel button) stops the work cleanly.

On a terminal the CLI draws tqdm bars. When stderr is a file or a pipe (CI, ``make run > log``), a bar's
carriage-return redraws would pile up by the thousand, so ``LineProgress`` prints plain lines instead:
one when a stage starts (its message changes), at most one every ``LINE_EVERY_S`` seconds in between,
and one when it ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

ProgressCallback = Callable[[float, float, str], None]
LINE_EVERY_S = 10.0  # a progress line at most this often while a stage runs (stderr not a terminal)
LINE_MIN_GAP_S = 1.0  # and never more than one a second, however often stages change


class Cancelled(Exception):
    """Raised by a progress callback to stop the work; the work rolls back what it had not committed."""


def report(progress: ProgressCallback | None, done: float, total: float, message: str = "") -> None:
    if progress is not None:
        progress(done, total, message)


@contextmanager
def cli_progress(label: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback drawing a tqdm bar on stderr, or plain lines when stderr is not a terminal
    (``LineProgress``), or doing nothing when disabled."""
    if not enabled:
        yield lambda done, total, message: None
        return
    if not _is_terminal(sys.stderr):
        lines = LineProgress(label, sys.stderr)
        try:
            yield lines
        finally:
            lines.close()
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


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real file
        return False


class LineProgress:
    """Progress as whole lines (``label: 40% (2/5) message, 12 s``) for logs and CI (see the module)."""

    def __init__(self, label: str, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.stream, self.clock = label, stream, clock
        self.started = clock()
        self._last_line: float | None = None
        self._state: tuple[float, float, str] | None = None
        self._printed: tuple[float, float, str] | None = None

    def __call__(self, done: float, total: float, message: str) -> None:
        now = self.clock()
        new_stage = self._state is None or message != self._state[2]
        self._state = (done, total, message)
        since = None if self._last_line is None else now - self._last_line
        if since is None or since >= LINE_EVERY_S or (new_stage and since >= LINE_MIN_GAP_S):
            self._print(now)

    def close(self) -> None:
        """The final line (unless the last one printed already said the same)."""
        if self._state is not None and self._state != self._printed:
            self._print(self.clock())

    def _print(self, now: float) -> None:
        assert self._state is not None
        done, total, message = self._state
        percent = 100.0 * done / total if total > 0 else 100.0
        count = f" ({done:g}/{total:g})" if float(total).is_integer() and float(done).is_integer() else ""
        tail = f" {message}," if message else ""
        self.stream.write(f"{self.label}: {percent:3.0f}%{count}{tail} {now - self.started:.0f} s\n")
        self.stream.flush()
        self._last_line, self._printed = now, self._state
