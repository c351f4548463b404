"""Live inference, prediction curves, the inspector and model proposals, driven through the real window.

One small analysed demo corpus (1 session × 8 s) and a raw-audio CNN trained on it (``model_project``,
``tests/app/conftest.py``) are built once per run by ``tests/builders/model_project`` with the inference
tests' own recipe (``feature_table``, ``train_checkpoint``, ``register``), loaded by path so the recipe lives
in one place. Each test works on a private copy of that project.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt, QTimer

torch.set_num_threads(1)
pytestmark = pytest.mark.gui


@pytest.fixture
def demo_source(model_project) -> Path:
    """Overrides the shared fixture: ``window``, ``drive`` and ``db`` work on a copy of the model project."""
    return model_project[0]


@pytest.fixture
def model_id(model_project) -> int:
    return model_project[1]


def _gold(root: Path) -> dict[int, list]:
    """Gold emotion segments per participant id, straight from the project."""
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        gold = tx.annotators.by_name("gold")
        tiers = [t for t in tx.tiers.list(tx.sessions.list()[0].id, annotator_id=gold.id)
                 if t.name == "emotion"]
        return {t.participant_id: tx.segments.list(t.id) for t in tiers}


def _speaking(root: Path) -> dict[int, list[tuple[int, int]]]:
    """Utterance spans per participant id: where an audio model can hear the emotion at all."""
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        spans: dict[int, list[tuple[int, int]]] = {}
        for u in tx.utterances.list(tx.sessions.list()[0].id):
            spans.setdefault(u.participant_id, []).append((u.start_us, u.end_us))
        return spans


def _click_box(qtbot, box) -> None:
    """Click a check box on its indicator, as a user does (its centre may lie past its label: not a hit)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _start_live(drive, model_ids: list[int]):
    window = drive.window
    window.docks["Live"].raise_()  # the user clicks its tab
    drive.qtbot.waitUntil(window.docks["Live"].widget().isVisible, timeout=2000)
    panel = window.docks["Live"].widget()
    for model_id in model_ids:
        panel.check_model(model_id)
    _click_box(drive.qtbot, panel.live)
    assert window.bench.live.live
    # live inference runs in a child process (unless DYADLAB_LIVE_PROCESS=0): it imports and loads the models
    # for seconds; wait for it as a user waits for "waiting for the first result" to go
    drive.qtbot.waitUntil(lambda: not getattr(window.bench.live.bridge.worker, "starting", False), timeout=60_000)
    return panel


def test_live_overlays_follow_the_gold_labels(drive, db, demo_project_copy: Path, model_id: int,
                                              monkeypatch) -> None:
    import threading

    from dyadlab.core.inference.runner import ModelRunner

    root = demo_project_copy
    bench = drive.bench
    predicted_on: set[str] = set()  # the threads the model ran on
    run = ModelRunner.predict_many

    def recording(self, *args, **kwargs):
        predicted_on.add(threading.current_thread().name)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(ModelRunner, "predict_many", recording)
    monkeypatch.setenv("DYADLAB_LIVE_PROCESS", "0")  # the worker on a thread, so its model calls are seen here
    _start_live(drive, [model_id])
    seen, ticks = [], []
    bench.live.result_shown.connect(seen.append)
    bench.playback.time_changed.connect(lambda _t: ticks.append(time.monotonic()))
    drive.key(Qt.Key.Key_Space)  # play
    drive.qtbot.waitUntil(lambda: bench.playback.now_us > 5_000_000, timeout=20_000)
    drive.key(Qt.Key.Key_Space)
    drive.qtbot.waitUntil(lambda: len(seen) >= 10, timeout=10_000)
    assert not bench.playback.playing
    # the model runs off the GUI thread, and the frame timer kept ticking (the gap bound is loose: a loaded
    # machine stalls any thread for a few hundred ms, a model loaded or run on the GUI thread for seconds)
    assert predicted_on and threading.main_thread().name not in predicted_on
    assert len(ticks) > 50 and max(np.diff(ticks)) < 2.0

    # the overlay shows what the last result said, on every participant's view
    state = bench.live.overlay.state
    views = {v.view.participant_id for v in bench.grid.views}
    assert views <= set(state.predictions)
    assert all(v.decorations == [bench.live.overlay] for v in bench.grid.views)
    assert any(p.box is not None for preds in state.predictions.values() for p in preds)  # face boxes

    from dyadlab.core.labels.timeline import values_at

    gold = _gold(root)
    agree = total = 0
    speaking = _speaking(root)
    for result in seen:
        for item in result.predictions:
            truth = values_at(gold[item.participant_id], np.array([result.t_us]))[0]
            talking = any(a <= result.t_us < b for a, b in speaking.get(item.participant_id, []))
            # an audio model hears the emotion only while the participant speaks: judge it there
            if item.label is not None and truth is not None and talking:
                total += 1
                agree += item.label == truth
    assert total >= 10
    assert agree / total >= 0.6, f"{agree}/{total} live labels match the gold"

    # predictions were cached in the store, and the timeline draws them once live stops
    rows = db("SELECT count(*) FROM series WHERE kind = 'prediction' AND model_id = ?", model_id)
    assert rows[0][0] == len(views)
    blocks = db("SELECT count(*) FROM series_blocks b JOIN series s ON s.id = b.series_id "
                           "WHERE s.model_id = ?", model_id)
    assert blocks[0][0] > 0
    # a worker that falls behind says so, on the views and in the panel
    lagging = dataclasses.replace(seen[-1], t_us=seen[-1].t_us - 136_000,  # 3.4 frames before the playhead
                                  skipped_count=4, fps=7.0, lagging=True, behind_frames=3.4)
    bench.live.bridge.result.emit(lagging)  # as the worker thread does: queued to the GUI thread
    drive.qtbot.waitUntil(lambda: bench.live.last_result is lagging, timeout=2000)
    assert bench.live.overlay.state.lag == "lagging (7 fps, 3 frames behind)"  # how far behind, on the video
    assert "lagging (7 fps, 3 frames behind)" in drive.window.docks["Live"].widget().status.text()

    _click_box(drive.qtbot, drive.window.docks["Live"].widget().live)
    tracks = drive.timeline.prediction_tracks
    assert {t.source.participant_id for t in tracks} == views
    assert all(np.isfinite(t.frames.probs).any() for t in tracks)


def _curve_points(drive, source) -> int:
    """Finite points the timeline draws for ``source`` (summed over its class curves; 0 without a track)."""
    track = next((t for t in drive.timeline.prediction_tracks if t.source == source), None)
    if track is None:
        return 0
    return sum(int(np.isfinite(curve.getData()[1]).sum()) for curve in track.curves.values()
               if curve.getData()[1] is not None)


def test_prediction_curves_grow_while_playing(drive, demo_project_copy: Path, model_id: int, monkeypatch) -> None:
    from dyadlab.app.timeline.prediction_track import LIVE_REDRAW_MS, CurveSource

    # the curves, not the worker, are tested here: on a thread its results come from the first frames on even
    # on a loaded machine, where a low-priority worker process may start after the 8 s demo has played
    monkeypatch.setenv("DYADLAB_LIVE_PROCESS", "0")

    bench = drive.bench
    assert not drive.timeline.prediction_tracks  # nothing predicted yet: no curves at all
    _start_live(drive, [model_id])
    participant = drive.ws.data.participants[0].id
    source = CurveSource(model_id, participant)
    drive.key(Qt.Key.Key_Space)  # play
    started = time.monotonic()
    drive.qtbot.waitUntil(lambda: _curve_points(drive, source) > 0, timeout=20_000)
    first = _curve_points(drive, source)
    drive.qtbot.waitUntil(lambda: _curve_points(drive, source) > first + 10, timeout=20_000)
    assert bench.playback.playing  # grown during playback, not by the re-read at pause
    feed = drive.timeline.live_curves
    assert 0 < feed.redraws <= (time.monotonic() - started) * 1000 / LIVE_REDRAW_MS + 1  # throttled
    # only the visible range is handed to pyqtgraph, and its points sit at the frames' times
    track = next(t for t in drive.timeline.prediction_tracks if t.source == source)
    x, _ = next(iter(track.curves.values())).getData()
    start, end = drive.timeline.visible_range()
    assert len(x) <= np.count_nonzero((track.times_s >= start) & (track.times_s <= end)) + 2
    assert np.isin(x, track.times_s).all()
    drive.key(Qt.Key.Key_Space)


def test_a_models_first_live_rows_add_its_curves_without_rebuilding_the_timeline(drive, model_id: int) -> None:
    """The first rows of a model arrive while playing: its curves are added to the timeline, the other rows
    stay as they are (a whole rebuild stalled the window ~0.1 s, so the views missed frames)."""
    from types import SimpleNamespace

    from dyadlab.app.timeline.prediction_track import CurveSource
    from dyadlab.core.inference.predictions import ensure_predictions

    timeline = drive.timeline
    assert not timeline.prediction_tracks
    before = list(timeline.tracks)  # ruler, waveforms, tiers, and "no model run yet"
    session = drive.ws.data.session.id
    participants = [p.id for p in drive.ws.data.participants]
    rows = []
    for pid in participants:  # what the worker stores and delivers for frames 0-4
        stored = ensure_predictions(drive.ws.project, model_id, session, pid, list(range(5)))
        rows += [SimpleNamespace(model_id=model_id, participant_id=pid, frame=f, probs=stored.probs[f])
                 for f in range(5)]
    timeline.show_live_result(SimpleNamespace(predictions=rows))
    timeline.live_curves.flush()
    drive.qtbot.wait(20)  # a widget put in a shown layout shows at the next turn of the event loop
    assert [t.source for t in timeline.prediction_tracks] == [CurveSource(model_id, pid) for pid in participants]
    kept = [t for t in before if t in timeline.tracks]
    assert len(kept) == len(before) - 1 and all(t.isVisibleTo(timeline) for t in kept)  # only the placeholder went
    assert all(t.isVisibleTo(timeline) for t in timeline.prediction_tracks)
    assert _curve_points(drive, CurveSource(model_id, participants[0])) > 0


def test_inspector_confusion_matches_the_cached_rows(drive, demo_project_copy: Path, model_id: int) -> None:
    from dyadlab.app.errors import reporter
    from dyadlab.core.inference.predictions import PredictionCache
    from dyadlab.core.labels.timeline import values_at
    from dyadlab.core.project import open_project

    root = demo_project_copy
    panel = drive.window.docks["Inspector"].widget()
    panel.refresh_choices()
    panel.model.setCurrentIndex(panel.model.findData(model_id))
    panel.annotator.setCurrentText("gold")
    busy, ticks = [], []
    panel.background.busy_changed.connect(busy.append)
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start(20)
    with drive.qtbot.waitSignal(panel.inspected, timeout=60_000):
        drive.qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
        assert not panel.run.isEnabled()  # busy until the report lands
    heartbeat.stop()
    assert panel.inspection is not None, reporter.last
    assert busy == [True, False] and panel.run.isEnabled() and not panel.busy.isVisible()
    # computed off the GUI thread: the event loop kept running (a blocked UI would leave one long gap)
    assert len(ticks) > 5 and max(np.diff(ticks)) < 0.5
    shown = np.array([[int(panel.matrix.item(i, j).text()) for j in range(panel.matrix.columnCount())]
                      for i in range(panel.matrix.rowCount())])

    # independently: the cached rows against the gold tier at each frame's time
    gold = _gold(root)
    with open_project(root) as project, PredictionCache(project, model_id) as cache:
        session = drive.ws.session.id
        classes = list(cache.classes)
        expected = np.zeros((len(classes), len(classes)), int)
        for pid, segments in gold.items():
            rows = cache.read(session, pid)
            times = cache.provider.timeline(session, pid).times_us[rows.frames]
            truth = values_at(segments, times)
            for label, ok, value in zip(rows.labels, rows.valid, truth, strict=True):
                if ok and value in classes:
                    expected[classes.index(value), label] += 1
    assert expected.sum() > 100, (shown, panel.inspection.notes, panel.metrics.text())
    np.testing.assert_array_equal(shown, expected)
    assert "WA" in panel.metrics.text()

    # click a cell, then one of its frames: the clock goes there
    off_diagonal = expected - np.diag(np.diag(expected))
    i, j = np.unravel_index(np.argmax(off_diagonal if off_diagonal.any() else expected), expected.shape)
    rect = panel.matrix.visualItemRect(panel.matrix.item(int(i), int(j)))
    drive.qtbot.mouseClick(panel.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.units.count() == expected[i, j]
    target = panel.units.item(panel.units.count() - 1)
    drive.qtbot.mouseClick(panel.units.viewport(), Qt.MouseButton.LeftButton,
                           pos=panel.units.visualItemRect(target).center())
    assert drive.bench.playback.now_us == target.data(Qt.ItemDataRole.UserRole)[1]

    # G steps through the disagreement spans, worst first; Shift+G goes back
    spans = panel.inspection.disagreements
    assert spans
    drive.bench.setFocus()
    drive.key(Qt.Key.Key_G)
    assert panel.span_index == 0 and drive.bench.playback.now_us == spans[0].start_us
    if len(spans) > 1:
        drive.key(Qt.Key.Key_G)
        drive.key(Qt.Key.Key_G, Qt.KeyboardModifier.ShiftModifier)
        assert panel.span_index == 0


def test_accepting_a_proposal_is_an_undoable_human_segment(open_window, driver_for, db, demo_project_copy: Path,
                                                           model_id: int) -> None:
    drive = driver_for(open_window(demo_project_copy, annotator="carol"))
    panel = drive.window.docks["Assist"].widget()
    panel.model.setCurrentIndex(panel.model.findData(model_id))
    with drive.qtbot.waitSignal(panel.proposed, timeout=60_000):
        drive.qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
        assert panel.busy.isVisibleTo(panel) and not panel.run.isEnabled()  # computing off the GUI thread
    assert panel.proposals, drive.window.statusBar().currentMessage()
    assert not panel.busy.isVisibleTo(panel)
    first = panel.proposals[0]
    # the model's utterance tier is on the timeline, read-only
    model_tracks = [t for t in drive.timeline.tier_tracks.values() if t.tier.name.startswith("model:")]
    assert model_tracks and not any(t.editable for t in model_tracks)

    mine = ("SELECT s.value, s.start_us, s.end_us, s.provenance FROM segments s JOIN tiers t ON t.id = s.tier_id "
            "JOIN annotators a ON a.id = s.annotator_id WHERE a.name = 'carol' AND t.name = 'emotion'")
    assert db(mine) == []
    drive.bench.setFocus()
    drive.key(Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)  # plain A lowers valence (vad)
    rows = db(mine)
    assert [(v, s, e) for v, s, e, _ in rows] == [(first.value, first.start_us, first.end_us)]
    assert "proposed_by" in rows[0][3]
    assert first not in panel.proposals  # labelled now: no longer offered

    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db(mine) == []
    assert panel.proposals[0] == first  # offered again

    drive.key(Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)  # reject: not offered, and undoable too
    assert first not in panel.proposals
    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert first in panel.proposals


def test_a_broken_model_is_disabled_alone(open_window, driver_for, demo_project_copy: Path, model_id: int) -> None:
    from dyadlab.app.errors import reporter
    from dyadlab.core.inference.loader import register_checkpoint
    from dyadlab.core.project import open_project

    root, good = demo_project_copy, model_id
    broken_file = root / "models" / "broken.pt"
    shutil.copy(root / "models" / "audio.pt", broken_file)
    with open_project(root) as project:
        broken = register_checkpoint(project, broken_file, name="broken", version="v1").id
    broken_file.write_bytes(b"not a checkpoint" * 10)

    reporter.show_dialogs = True
    drive = driver_for(open_window(root))
    bench = drive.bench
    panel = _start_live(drive, [good, broken])
    seen = []
    bench.live.result_shown.connect(seen.append)
    drive.key(Qt.Key.Key_Space)
    # the broken file is found when live inference loads its models (before or after the first frame): the user
    # is told in a dialog, closes it, and plays on with the good model
    drive.qtbot.waitUntil(lambda: broken in bench.live.disabled and reporter.dialog is not None, timeout=20_000)
    assert any("broken" in text for text in reporter.history)
    reporter.dialog.close()
    if not bench.playback.playing:  # the dialog took the first Space
        drive.key(Qt.Key.Key_Space)
    drive.qtbot.waitUntil(lambda: len(seen) >= 3, timeout=20_000)
    drive.key(Qt.Key.Key_Space)
    assert good not in bench.live.disabled
    labels = [p.model for preds in bench.live.overlay.state.predictions.values() for p in preds]
    assert labels and set(labels) == {"audio-cnn"}
    row = next(panel.models.item(i) for i in range(panel.models.count())
               if panel.models.item(i).data(Qt.ItemDataRole.UserRole) == broken)
    assert "disabled" in row.text()
