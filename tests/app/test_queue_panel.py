"""The "Next to label" panel through real keys: Enter jumps to an entry with the model's label preselected,
Ctrl+Return accepts it, a class key relabels what was accepted, Ctrl+Shift+J skips, and Ctrl+Z takes each
step back — asserted on the project database and the list the annotator sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from dyadlab.core.active.queue import queue_item
from dyadlab.core.active.ranking import Stretch, rank

S = 1_000_000
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
CLASSES = ("neutral", "happy", "sad", "angry")
MINE = ("SELECT s.value, s.start_us, s.end_us FROM segments s JOIN tiers t ON t.id = s.tier_id JOIN annotators a "
        "ON a.id = s.annotator_id WHERE a.name = 'alice' AND t.name = 'emotion' AND t.participant_id = ? "
        "ORDER BY s.start_us")


def queue_of(drive, participant_id):
    """Three ranked stretches of participant A: an unsure one at 6 s first, then 2 s, then 10 s."""
    session = drive.ws.session.id
    stretches = [Stretch(session, participant_id, 2 * S, 3 * S, np.array([0.1, 0.7, 0.1, 0.1]), CLASSES),
                 Stretch(session, participant_id, 6 * S, 7 * S, np.array([0.3, 0.2, 0.35, 0.15]), CLASSES),
                 Stretch(session, participant_id, 10 * S, 11 * S, np.array([0.9, 0.05, 0.03, 0.02]), CLASSES)]
    return [queue_item(e, 0, "test model") for e in rank(stretches)]


def test_jump_accept_relabel_skip_and_undo(drive, db, qtbot):
    a = next(p for p in drive.ws.data.participants if p.code == "A")
    panel = drive.window.docks["Queue"].widget()
    items = queue_of(drive, a.id)
    assert [i.proposal.start_us for i in items] == [6 * S, 2 * S, 10 * S]
    panel.show_items(items)
    assert panel.list.count() == 3 and "model unsure" in panel.list.item(0).text()
    assert "Ctrl+Return accept" in panel.status.text()

    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)  # Enter: jump
    assert drive.bench.playback.now_us == 6 * S
    track = drive.tier_track("A", "emotion")
    assert drive.ws.active_tier_id == track.tier.id
    assert "Proposed: sad" in panel.choice.text()
    preselected = [b for b in panel.findChildren(type(panel.run)) if b.objectName().startswith("QueueLabel_")
                   and b.isChecked()]
    assert [b.text() for b in preselected] == ["sad"]

    drive.key(Qt.Key.Key_Return, CTRL)  # accept the proposed label
    assert db(MINE, a.id) == [("sad", 6 * S, 7 * S)]
    assert panel.list.count() == 2 and drive.ws.selected is not None and drive.ws.selected.value == "sad"

    drive.key(Qt.Key.Key_2)  # a palette key relabels the accepted segment
    assert db(MINE, a.id) == [("happy", 6 * S, 7 * S)]

    drive.key(Qt.Key.Key_J, CTRL)  # jump to the next entry: 2 s
    assert drive.bench.playback.now_us == 2 * S and "Proposed: happy" in panel.choice.text()
    drive.key(Qt.Key.Key_J, CTRL | SHIFT)  # skip it: the last one is next, and jumped to
    assert panel.list.count() == 1 and drive.bench.playback.now_us == 10 * S
    assert db(MINE, a.id) == [("happy", 6 * S, 7 * S)]

    qtbot.mouseClick(panel.findChild(type(panel.run), "QueueLabel_angry"), Qt.MouseButton.LeftButton)
    assert db(MINE, a.id) == [("happy", 6 * S, 7 * S), ("angry", 10 * S, 11 * S)]  # a correction, not the proposal
    assert panel.list.count() == 0 and panel.count == 2

    for expected_rows, expected in [(1, [("happy", 6 * S, 7 * S)]),  # the correction undone
                                    (2, [("happy", 6 * S, 7 * S)]),  # the skip undone
                                    (2, [("sad", 6 * S, 7 * S)]),  # the relabel undone
                                    (3, [])]:  # the accept undone
        drive.key(Qt.Key.Key_Z, CTRL)
        assert db(MINE, a.id) == expected and panel.list.count() == expected_rows


class FakeJobs:
    """The JobRunner calls the panel makes (submit, get); the job 'runs' when the test says so."""

    def __init__(self) -> None:
        self.jobs: dict[int, object] = {}

    def submit(self, kind, command, config=None):
        from dyadlab.core.model import Job

        job = Job(len(self.jobs) + 1, kind, "queued", {**(config or {}), "command": list(command)})
        self.jobs[job.id] = job
        return job

    def get(self, job_id):
        return self.jobs[job_id]


def test_every_n_labels_a_background_retraining_starts_and_a_better_model_takes_over(drive, qtbot):
    from dataclasses import replace

    from dyadlab.core.active.retrain import FinetuneOutcome

    with drive.ws.project.store.transaction() as tx:
        old = tx.models.add("audio-cnn", "v1", "emotion-classifier", path="models/a.pt").id
        new = tx.models.add("audio-cnn", "v1+ft1", "emotion-classifier", path="models/b.pt").id
    a = next(p for p in drive.ws.data.participants if p.code == "A")
    panel = drive.window.docks["Queue"].widget()
    panel.set_model(old)
    panel.jobs = fake = FakeJobs()
    panel.every.setValue(2)  # the setting: retrain after every 2 labels
    drive.bench.live.refresh_models()
    drive.bench.live.set_selected([old])
    panel.show_items(queue_of(drive, a.id))
    panel.jump(0)
    assert panel.accept() and fake.jobs == {}
    panel.jump(0)
    assert panel.label("angry") and len(fake.jobs) == 1  # the second label starts one retraining
    job = fake.jobs[1]
    assert job.kind == "retrain" and "--nice" in job.config["command"] and str(old) in job.config["command"]
    assert "dyadlab.trainer.finetune" in job.config["command"] and "in the background" in panel.status.text()
    panel.jump(0)
    assert panel.accept() and len(fake.jobs) == 1  # one at a time: the next label waits for it

    result = FinetuneOutcome(old, True, 0.4, 0.6, 2, 1, new_model_id=new)
    path = job.config["result"]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(result.to_json())
    fake.jobs[1] = replace(job, state="succeeded")
    drive.window.docks["Jobs"].widget().job_finished.emit(1, "succeeded")  # what the Jobs panel says
    assert panel.model_id == new and drive.bench.live.selected == [new]
    assert f"model {old} replaced by model {new}" in panel.status.text()


def test_a_replacing_model_takes_the_old_ones_place_on_the_timeline_once_it_has_predicted(drive):
    from dyadlab.core.inference.predictions import PREDICTION_KIND

    session = drive.ws.session.id
    a = next(p for p in drive.ws.data.participants if p.code == "A")

    def predicted(model_id: int) -> None:  # what `dyadlab infer` leaves in the store: the model's series here
        with drive.ws.project.store.transaction() as tx:
            tx.series.add(PREDICTION_KIND, session, f"model {model_id}", list(CLASSES), participant_id=a.id,
                          model_id=model_id, sample_rate_hz=25.0, start_us=0)

    with drive.ws.project.store.transaction() as tx:
        old = tx.models.add("audio-cnn", "v1", "emotion-classifier", path="models/a.pt").id
        new = tx.models.add("audio-cnn", "v1+ft1", "emotion-classifier", path="models/b.pt").id
    predicted(old)
    timeline = drive.bench.timeline
    timeline.refresh_predictions()
    assert [t.source.model_id for t in timeline.prediction_tracks] == [old]
    drive.window.context.jobs = fake = FakeJobs()
    drive.window.docks["Queue"].widget().model_replaced.emit(old, new)  # a retraining did better
    (job,) = fake.jobs.values()
    command = job.config["command"]
    assert job.kind == "infer" and command[command.index("--model") + 1] == str(new)
    assert command[command.index("--sessions") + 1] == str(session)  # the open session only
    assert [t.source.model_id for t in timeline.prediction_tracks] == [old]  # until the new curves exist
    predicted(new)
    drive.window.docks["Jobs"].widget().job_finished.emit(job.id, "succeeded")
    assert [t.source.model_id for t in timeline.prediction_tracks] == [new]
