"""An annotator's day on the demo project, through the real widgets only (issue 18, "Done when").

A new user found the worst bugs of the last round in one afternoon with every unit test green: a session
switch that raised, a layout that came back squeezed, waveforms that vanished, keys that fired the wrong
action. This test walks that afternoon in one window and checks, after every step, what the user would
notice first: no error dialog, no unexpected error reported, and both waveforms drawn.

The project is a small analysed demo corpus (2 sessions × 8 s) with a raw-audio model trained on its gold,
so the Proposals panel has something to propose. Everything is done with keys, mouse clicks and drags,
menu actions and the panels' own buttons.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from dyadlab.app.docks.palette_dock import PalettePanel
from dyadlab.app.errors import reporter

from ..builders.model_project import train_audio_model
from .test_session_switch import double_click_session

torch.set_num_threads(1)
pytestmark = pytest.mark.gui
S = 1_000_000
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture(scope="module")
def day_project(audio_analysed_pair: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("annotation_day") / "project"
    shutil.copytree(audio_analysed_pair, root)
    return root, train_audio_model(root, epochs=4)


@pytest.fixture
def demo_source(day_project) -> Path:
    """Overrides the shared fixture: ``db`` reads a copy of this project's file."""
    return day_project[0]


def check_healthy(drive, step: str) -> None:
    """What the user sees after every step: no error dialog, nothing unexpected, both waveforms drawn."""
    assert reporter.dialog is None, f"{step}: error dialog: {reporter.last}"
    unexpected = [h for h in reporter.history if "Unexpected" in h or "Traceback" in h]
    assert not unexpected, f"{step}: {unexpected}"
    timeline = drive.timeline

    def drawn() -> bool:
        waves = list(timeline.waveforms.values())
        return len(waves) == 2 and all(w.source is not None and not w.message.textItem.toPlainText() for w in waves)

    drive.qtbot.waitUntil(drawn, timeout=20000)


def own_rows(db, tier_id: int) -> list[tuple]:
    return db("SELECT start_us, end_us, value FROM segments WHERE tier_id = ? ORDER BY start_us", tier_id)


def test_an_annotators_day(open_window, driver_for, demo_project_copy: Path, day_project, db, qtbot,
                           monkeypatch) -> None:
    project = demo_project_copy
    window = open_window(project, annotator="alice")
    window.resize(1600, 1000)
    qtbot.wait(50)
    drive = driver_for(window)
    first_width = window.centralWidget().width()
    check_healthy(drive, "open")

    # play, then switch session while it plays
    pb = drive.bench.playback
    drive.key(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: pb.now_us > 300_000, timeout=5000)
    first_session = drive.ws.session.id
    other = next(s for s in window._session_ids() if s != first_session)
    double_click_session(drive, other)
    assert drive.ws.session.id == other and not pb.playing
    check_healthy(drive, "switch session while playing")
    double_click_session(drive, first_session)
    check_healthy(drive, "switch back")

    # label with keys: a new segment at the playhead, labelled with a class key
    tier = drive.ws.active_tier
    assert tier is not None and tier.name == "emotion"
    pb.seek(S)
    drive.key(Qt.Key.Key_N)
    drive.key(Qt.Key.Key_2)
    assert [r[2] for r in own_rows(db, tier.id)] == ["happy"]
    check_healthy(drive, "label with keys")

    # label with the mouse: drag a segment on the same tier, then click a palette button
    track = drive.timeline.tier_tracks[tier.id]
    drive.show_range(0.0, 8.0)
    drive.drag(track, 4.0, 6.0)
    palette = window.findChild(PalettePanel)
    angry = next(b for b in palette.findChildren(QPushButton) if b.text().endswith("angry"))
    qtbot.mouseClick(angry, Qt.MouseButton.LeftButton)
    assert [r[2] for r in own_rows(db, tier.id)] == ["happy", "angry"]
    check_healthy(drive, "label with the mouse")

    # record a valence trace with the rating keys while playing
    drive.bench.setFocus()
    pb.seek(2 * S)
    drive.key(Qt.Key.Key_R)
    drive.key(Qt.Key.Key_Space)
    for _ in range(3):
        qtbot.wait(120)
        drive.key(Qt.Key.Key_Q)
    qtbot.wait(200)
    drive.key(Qt.Key.Key_Space)
    drive.key(Qt.Key.Key_R)
    traces = db("SELECT s.id FROM series s JOIN tiers t ON t.id = s.tier_id JOIN annotators a ON a.id = t.annotator_id "
                "WHERE s.kind = 'trace' AND t.name = 'valence' AND a.name = 'alice'")
    assert traces, "the recorded trace is saved"
    check_healthy(drive, "record a trace")

    # add gold to the view (Tiers box)
    box = window.compare
    gold = next(i for i in range(box.count()) if "gold" in box.itemText(i))
    box.setCurrentIndex(gold)
    box.activated.emit(gold)
    assert any(drive.ws.data.annotators[t.tier.annotator_id].name == "gold" for t in drive.timeline.tier_tracks.values())
    check_healthy(drive, "add gold to the view")

    # accept a model proposal with its key
    panel = window.context.show_dock("Assist").widget()
    panel.model.setCurrentIndex(panel.model.findData(day_project[1]))
    with qtbot.waitSignal(panel.proposed, timeout=120_000):
        qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
    assert panel.proposals, window.statusBar().currentMessage()
    offered = panel.current
    drive.bench.setFocus()
    drive.key(Qt.Key.Key_A, SHIFT)
    accepted = db("SELECT s.start_us, s.end_us, s.value FROM segments s JOIN annotators a ON a.id = s.annotator_id "
                  "WHERE a.name = 'alice' AND s.provenance LIKE '%proposed_by%'")
    assert accepted == [(offered.start_us, offered.end_us, offered.value)]
    check_healthy(drive, "accept a proposal")

    # switch annotator from the File menu
    monkeypatch.setattr("dyadlab.app.dialogs.annotator_dialog.ask_annotator", lambda names, parent: "bob")
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    next(a for a in file_menu.actions() if a.objectName() == "app.annotator").trigger()
    qtbot.wait(50)
    assert window.annotator == "bob"
    drive = driver_for(window)
    check_healthy(drive, "switch annotator")
    assert window.centralWidget().width() == pytest.approx(first_width, rel=0.05)

    # reopen the project in a new window: the layout the user left, within the screen
    window.close()
    again = open_window(project, annotator="alice")
    qtbot.wait(50)
    drive = driver_for(again)
    check_healthy(drive, "reopen")
    assert again.centralWidget().width() == pytest.approx(first_width, rel=0.05)
    assert again.screen().availableGeometry().contains(again.frameGeometry())
    assert [r[2] for r in own_rows(db, tier.id)][:2] == ["happy", "angry"]  # nothing lost
