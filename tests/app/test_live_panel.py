"""The Live panel tells the truth about its list and its results: no "No registered models" under a list of
models, the reason a model has no prediction ("not speaking", not "no input"), and a model registered by a
job appears in the Live and Models panels when the job ends, without reopening the project.

No model is trained here: the registry rows are written as ``dyadlab models add`` or a training job would,
and live results are delivered through the bridge's queued signal as the worker thread delivers them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage, QPainter

pytestmark = pytest.mark.gui

REGISTER_JOB = """
import json, os, sys
from dyadlab.core.project import open_project
with open_project(sys.argv[1]) as project, project.store.transaction() as tx:
    record = tx.models.add("from-job", "1", "raw_audio_cnn")
with open(os.environ["DYADLAB_JOB_EVENTS"], "a") as events:
    events.write(json.dumps({"event": "registered", "model_id": record.id}) + "\\n")
"""


def _register(root: Path, name: str) -> int:
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        return tx.models.add(name, "1", "raw_audio_cnn").id


def _live_panel(window):
    dock = window.docks["Live"]
    dock.raise_()
    return dock.widget()


def _listed(panel) -> list[str]:
    return [panel.models.item(i).text() for i in range(panel.models.count())]


def test_the_line_under_the_model_list_describes_the_list(open_window, demo_project_copy: Path) -> None:
    _register(demo_project_copy, "audio-cnn")
    window = open_window(demo_project_copy)
    panel = _live_panel(window)
    assert _listed(panel) == ["audio-cnn 1"]
    assert "No registered models" not in panel.status.text()
    assert "Tick" in panel.status.text()


class RecordingPainter(QPainter):
    """A painter on an image that remembers the texts drawn (what the overlay's label box reads)."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args) -> None:  # noqa: N802 (Qt override)
        self.texts.append(next(a for a in args if isinstance(a, str)))
        super().drawText(*args)


def test_the_overlay_says_not_speaking_where_that_is_the_reason(drive) -> None:
    from dyadlab.core.inference.live import LiveResult, ParticipantPrediction

    bench = drive.bench
    drive.wait_frames()
    bench.live.set_live(True)  # no model ticked: no worker starts, results come from the bridge below
    views = {v.view.participant_id: v for v in bench.grid.views}
    first, second = sorted(views)
    result = LiveResult(t_us=0, latency_ms=5.0, skipped_count=0, skipped_total=0, fps=25.0, requested_fps=25.0,
                        lagging=False, predictions=(
                            ParticipantPrediction(7, first, "A", 0, None, None, None, None, "not speaking"),
                            ParticipantPrediction(7, second, "B", 0, None, None, None, None, None)))
    bench.live.bridge.result.emit(result)  # as the worker thread does: queued to the GUI thread
    drive.qtbot.waitUntil(lambda: bench.live.last_result is result, timeout=2000)
    for pid, expected in ((first, "not speaking"), (second, "no input")):
        view = views[pid]
        image = QImage(view.size(), QImage.Format.Format_ARGB32)
        painter = RecordingPainter(image)
        bench.live.overlay.paint(painter, view)
        painter.end()
        assert painter.texts == [expected]
    bench.live.set_live(False)


def test_a_model_registered_by_a_job_shows_when_the_job_ends(qtbot, open_window, demo_project_copy: Path,
                                                              tmp_path: Path) -> None:
    window = open_window(demo_project_copy)
    live = _live_panel(window)
    models = window.docks["Models"].widget()  # built (shown) before the job ends
    assert _listed(live) == [] and models.records == []
    script = tmp_path / "register.py"
    script.write_text(REGISTER_JOB, encoding="utf-8")
    job = window.jobs.submit("train", [sys.executable, str(script), str(demo_project_copy.resolve())])
    jobs = window.docks["Jobs"].widget()
    qtbot.waitUntil(lambda: window.jobs.get(job.id).state in ("succeeded", "failed"), timeout=30_000)
    assert window.jobs.get(job.id).state == "succeeded", window.jobs.get(job.id).progress
    qtbot.waitUntil(lambda: jobs.table.item(jobs._rows[job.id], 2).text() == "succeeded", timeout=5000)
    assert _listed(live) == ["from-job 1"]
    assert [r.name for r in models.records] == ["from-job"]
    assert models.table.item(0, 1).text() == "from-job"
    for key in ("Queue", "Assist"):  # the panels that run a model from a model box list it too
        box = window.docks[key].widget().model
        assert "from-job 1" in [box.itemText(i) for i in range(box.count())], key
    assert "Tick" in live.status.text()
