"""A live result repaints only the overlay's pixels of each video view, not the whole view.

Why: results arrive about 25 times a second, between the views' own frames; repainting both views whole per
result (the scaled picture included) doubled the views' paints and made the window late on frames
(bench/live_window.py: late 0.5 % -> 18-26 % with the audio CNN live). The paints are watched as Qt delivers
them to the real views; what a paint covers must still include the label and face box drawn, and where a
label was drawn before (so an old label does not stay on screen).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QRegion

pytestmark = pytest.mark.gui


class PaintWatcher(QObject):
    """Records the region of every paint event a widget receives."""

    def __init__(self, widgets) -> None:
        super().__init__()
        self.regions: dict[int, list[QRegion]] = {id(w): [] for w in widgets}
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and id(watched) in self.regions:
            self.regions[id(watched)].append(QRegion(event.region()))
        return False

    def painted(self, widget) -> QRegion:
        """Everything repainted on ``widget`` since the last ``clear``."""
        union = QRegion()
        for region in self.regions[id(widget)]:
            union += region
        return union

    def clear(self) -> None:
        for regions in self.regions.values():
            regions.clear()


def _result(t_us: int, first: int, second: int, label: str | None):
    from dyadlab.core.inference.live import LiveResult, ParticipantPrediction

    probs = None if label is None else np.array([0.8, 0.2], dtype=np.float32)
    box = (100.0, 80.0, 120.0, 140.0)
    return LiveResult(t_us=t_us, latency_ms=5.0, skipped_count=0, skipped_total=0, fps=25.0, requested_fps=25.0,
                      lagging=False, predictions=tuple(
                          ParticipantPrediction(7, pid, code, 0, probs, label, 0.8 if label else None, box, None)
                          for pid, code in ((first, "A"), (second, "B"))))


def _area(region: QRegion) -> int:
    return sum(r.width() * r.height() for r in region)


def test_a_live_result_repaints_only_the_overlay(drive) -> None:
    from dyadlab.app.live.live_overlay import _label_box

    bench = drive.bench
    drive.wait_frames()
    bench.live.set_live(True)  # no model ticked: no worker starts, results come from the bridge below
    views = {v.view.participant_id: v for v in bench.grid.views}
    first, second = sorted(views)
    watcher = PaintWatcher(views.values())
    drive.qtbot.wait(100)  # paints already asked for (the frames) arrive before the results
    watcher.clear()

    result = _result(bench.playback.now_us, first, second, "happy")
    bench.live.bridge.result.emit(result)  # as the worker thread does: queued to the GUI thread
    drive.qtbot.waitUntil(lambda: bench.live.last_result is result, timeout=2000)
    drive.qtbot.waitUntil(lambda: all(watcher.regions[id(v)] for v in views.values()), timeout=2000)
    for view in views.values():
        painted = watcher.painted(view)
        assert _area(painted) < 0.25 * view.width() * view.height(), "the whole view was repainted for a result"
        label = _label_box(view.image_rect(), 0).toAlignedRect()
        face = QRect(view.image_to_widget(100, 80).toPoint(), view.image_to_widget(220, 220).toPoint())
        assert painted.contains(label) and painted.contains(face)  # what the overlay draws is repainted

    watcher.clear()
    bench.live.set_live(False)  # the labels go: where they were is repainted, so none stays on screen
    drive.qtbot.waitUntil(lambda: all(watcher.regions[id(v)] for v in views.values()), timeout=2000)
    for view in views.values():
        assert watcher.painted(view).contains(_label_box(view.image_rect(), 0).toAlignedRect())
