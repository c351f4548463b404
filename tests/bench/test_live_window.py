"""bench/live_window.py: the live overlay measured in the real window playing two views.

Its figures are speed and stay out of the tests; checked here are what it counts (late, dropped, frames
without a prediction, on a made-up paint trace) and that a short run on the real window prints its rows with
numbers. The run is a subprocess: the bench sets up its own QApplication, settings and environment.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "live_window.py"


@pytest.fixture
def live_window(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # as ``python bench/live_window.py`` finds it
    return importlib.import_module("live_window")


def _index(frames: int, fps: int = 25):
    from dyadlab.core.media.frame_index import FrameIndex

    step = 1_000_000 // fps
    pts = np.arange(frames, dtype=np.int64) * step
    return FrameIndex(Path("made-up.mp4"), pts, pts, np.ones(frames, bool), Fraction(1, 1_000_000), 0,
                      frames * step, 640, 480)


def test_late_dropped_and_unpredicted_frames_are_counted_from_the_paints(live_window) -> None:
    trace = live_window.ViewTrace(view_id=1, participant_id=7, offset_us=0, index=_index(10))
    # frames 0..4 are due at 0, 40, 80, 120, 160 ms (session time = monotonic time here: anchor 0)
    trace.paints = [(0.000, 0, 0),  # on screen when due
                    (0.045, 1, 0),  # 5 ms after due: on time
                    (0.100, 1, 1),  # frame 1 still on screen 10 ms after the tick that asked for frame 2
                    (0.110, 2, 1),  # 20 ms after that tick (30 after due): late (a display tick is 16.7 ms)
                    (0.125, 2, 2),  # frame 3 (due at 120 ms) never shown: dropped, and late
                    (0.165, 4, 4)]  # on time
    ticks = np.array([0.002, 0.042, 0.090, 0.125, 0.163])  # the clock ticks after each frame became due
    stats = live_window.frame_stats(trace, 0.0, 0.199, 0.0, {0, 1, 2, 3}, ticks)
    assert stats["due"] == 5
    assert (stats["late"], stats["dropped"]) == (2, 1)
    assert stats["missing"] == 1  # the predictions painted were for frames 0, 1, 2 and 4
    assert stats["unanswered"] == 1  # the worker answered every frame but 4
    assert sorted(round(lag * 1000) for lag in stats["lags_s"]) == [0, 5, 5, 30]
    assert sorted(round(lag * 1000) for lag in stats["tick_lags_s"]) == [2, 3, 20]  # frames 1, 4 and 2


def test_a_short_run_prints_the_reference_row_and_a_model_row_with_numbers(tmp_path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--seconds", "2", "--kinds", "audio CNN", "--thread-too"],
                            env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-3000:]  # 1: a goal missed
    out = result.stdout
    assert out.startswith("# live overlay in the real window: demo session, 2 views (2 participants)"), out
    number = r"(nan|-?\d+(?:\.\d+)?)"
    rows = {}
    for name in ("views only", "audio CNN (thread)", "audio CNN"):
        line = next((x for x in out.splitlines() if x.startswith(name)), None)
        assert line is not None, out
        rows[name] = [float(v) for v in re.findall(number, line[len(name):])[:13]]  # the runtime follows
    for name, values in rows.items():
        frames, late, dropped, lag_p50, lag_p95, tick_p95 = values[:6]
        assert 60 <= frames <= 200, (name, values)  # ~2 views x 2 s x 25 fps
        assert 0 <= dropped <= late <= 100, (name, values)
        assert 0 <= lag_p50 <= lag_p95 and tick_p95 >= 0, (name, values)
    no_pred, no_result, delay_p50, delay_p95, cpu = rows["audio CNN"][6:11]
    assert 0 <= no_result <= 100 and 0 <= no_pred <= 100
    assert math.isfinite(delay_p50) and delay_p50 <= delay_p95
    assert cpu > 0
    assert rows["audio CNN"][11] > 0 and rows["views only"][11] == 0  # worker %: the live worker's own process
    assert rows["audio CNN (thread)"][11] == 0  # the reference row: the worker on a thread of the window
    assert re.search(r"^audio CNN \(thread\) .* (onnxruntime|torch.*), thread$", out, re.MULTILINE), out
    assert math.isnan(rows["views only"][6])  # no model: no prediction column
    assert re.search(r"^audio CNN .* (onnxruntime|torch.*), process$", out, re.MULTILINE), out
    assert ("missed by" in out) == (result.returncode == 1)
