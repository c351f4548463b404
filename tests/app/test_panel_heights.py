"""Panels ask for the height their content needs: in a short dock the Jobs table still shows four rows and the
Inspector's confusion matrix every class row (they showed about one and a half)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _rows_seen(table, rows: int) -> int:
    """How many of the first ``rows`` rows lie wholly inside the table's viewport."""
    inside = table.viewport().rect()
    return sum(inside.contains(table.visualItemRect(table.item(r, 0))) for r in range(rows))


def _inspection(classes: tuple[str, ...]):
    from dyadlab.core.inference.inspect import Inspection, LevelReport

    rng = np.random.default_rng(0)
    n = 300
    units = {"session": np.ones(n, int), "participant": np.ones(n, int), "index": np.arange(n),
             "start": np.arange(n) * 40_000, "end": np.arange(n) * 40_000 + 40_000,
             "true": rng.integers(0, len(classes), n), "pred": rng.integers(0, len(classes), n),
             "confidence": rng.random(n), "p_true": rng.random(n)}
    report = LevelReport("frame", classes, {"wa": 0.5, "ua": 0.4, "macro_f1": 0.3}, units)
    return Inspection(1, "gold", "emotion", classes, report, report, [])


def test_the_confusion_matrix_shows_every_class_in_a_short_dock(qtbot, window) -> None:
    from dyadlab.app.docks.inspector_dock import InspectorPanel

    panel = InspectorPanel(window.ws, lambda _session, _t: None)
    qtbot.addWidget(panel)
    panel.resize(320, 420)  # the height a tabbed dock under the palette and rating panels gets
    panel.show()
    qtbot.waitExposed(panel)
    classes = ("neutral", "happy", "sad", "angry", "surprised", "fearful")
    with qtbot.waitSignal(panel.inspected, timeout=2000):
        panel.background.done.emit(_inspection(classes))  # as the worker thread delivers a report
    qtbot.wait(20)
    assert panel.matrix.rowCount() == len(classes)
    assert _rows_seen(panel.matrix, len(classes)) == len(classes)
    assert panel.matrix.horizontalScrollBar().isHidden() or not panel.matrix.horizontalScrollBar().isVisible()


def test_the_jobs_table_shows_four_rows_in_a_short_dock(qtbot, window) -> None:
    from dyadlab.app.docks.jobs_dock import JobsPanel

    for _ in range(5):
        window.jobs.submit("analyze", [sys.executable, "-c", "pass"])
    window.docks["Jobs"].widget().stop()  # this test's own panel below shows the queued rows
    panel = JobsPanel(window.jobs)
    panel.stop()
    qtbot.addWidget(panel)
    panel.resize(320, 360)
    panel.show()
    qtbot.waitExposed(panel)
    panel.select_job(window.jobs.list()[0].id)  # builds the curve below the table, as a click on a job does
    qtbot.wait(20)
    assert panel.table.rowCount() == 5
    assert _rows_seen(panel.table, 5) >= 4
