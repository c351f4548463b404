"""The live overlay's "frames behind" badge once playback is paused: the worker answers the playhead's own time
last, so nothing is behind any more. The badge stayed up for LAG_HOLD_RESULTS more results — after a pause,
for good: "lagging (30 fps, 3 frames behind)" over a paused picture whose labels were the playhead's own
(found by the new-user walkthrough on a busy machine)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from dyadlab.core.inference.live import LiveResult

pytestmark = pytest.mark.gui
FRAME_US = 40_000  # the demo's first session runs at 25 fps


def _result(t_us: int, *, lagging: bool, behind: float = 0.0) -> LiveResult:
    return LiveResult(t_us, (), latency_ms=120.0, skipped_count=2 if lagging else 0, skipped_total=2, fps=30.0,
                      requested_fps=40.0 if lagging else 30.0, lagging=lagging, behind_frames=behind)


def test_the_lag_badge_goes_when_the_overlay_shows_the_paused_playhead(drive, qtbot):
    live, panel = drive.bench.live, drive.window.docks["Live"].widget()
    drive.window.docks["Live"].raise_()
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    qtbot.mouseClick(panel.live, Qt.MouseButton.LeftButton, pos=QPoint(8, panel.live.height() // 2))
    assert live.live  # no model ticked: nothing runs, the results below come as the worker's would
    for _ in range(50):
        drive.key(Qt.Key.Key_Right)
    now = drive.bench.playback.now_us
    assert now == 50 * FRAME_US

    live.bridge.result.emit(_result(now - 3 * FRAME_US, lagging=True, behind=3.0))  # answered while playing
    qtbot.waitUntil(lambda: live.last_result is not None and live.last_result.t_us == now - 3 * FRAME_US)
    assert live.overlay.state.lag == "lagging (30 fps, 3 frames behind)"

    live.bridge.result.emit(_result(now, lagging=True))  # then the paused playhead's own time
    qtbot.waitUntil(lambda: live.last_result is not None and live.last_result.t_us == now)
    assert live.overlay.state.lag is None and live.lag is None

    drive.key(Qt.Key.Key_Right)  # a step asks for the next frame: the overlay is one behind until it comes
    live.bridge.result.emit(_result(now - 2 * FRAME_US, lagging=True, behind=2.0))
    qtbot.waitUntil(lambda: live.last_result is not None and live.last_result.t_us == now - 2 * FRAME_US)
    assert live.overlay.state.lag == "lagging (30 fps, 2 frames behind)"
