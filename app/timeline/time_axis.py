"""A time axis that reads like a media player (m:ss.mmm) instead of raw seconds."""

from __future__ import annotations

import pyqtgraph as pg


def format_time(seconds: float, *, precision: int = 3) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    minutes, rest = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    body = f"{minutes:d}:{rest:0{3 + precision if precision else 2}.{precision}f}"
    return f"{sign}{hours:d}:{body.zfill(len(body) + 1) if minutes < 10 else body}" if hours else sign + body


class TimeAxis(pg.AxisItem):
    """Ticks in m:ss. No SI prefix: times are never "ms" or "ks", and keeping one up to date re-set the
    (empty) label's HTML on every scroll step."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        precision = 0 if spacing >= 1 else 1 if spacing >= 0.1 else 2 if spacing >= 0.01 else 3
        return [format_time(v, precision=precision) for v in values]
