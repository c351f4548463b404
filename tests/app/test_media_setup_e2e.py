"""Issue 19's story, through menus and dialogs only: from the empty window, create a project by importing a
two-camera + wide-shot session whose cameras started at known times, sync them by their sound (checked
against the truth), refuse bad input, label a segment, export EAF and TextGrid (read back by pympi and by
the real Praat), close, and reopen from Open recent."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from dyadlab.app.dialogs import choosers
from dyadlab.app.start_page import StartPage
from dyadlab.core.jobs.status import FINAL_STATES
from dyadlab.core.media.synthetic_scene import Recorder, write_scene
from tests.app.conftest import Driver
from tests.app.modal_driver import accept_annotator, empty_main_window
from tests.app.test_start_page import _fill_new_project
from tests.core.interop.test_textgrid_praat import INSPECT, needs_praat, run_praat

pytestmark = pytest.mark.gui
US = 1_000_000
FRAME_US = 40_000  # 25 fps
TRUTH_S = {"mix": 0.0, "A": 0.64, "B": 1.72, "wide": 1.08}  # when each device started, in session time


def _row(dialog, kind: str, name: str) -> int:
    return next(i for i, (k, item) in enumerate(dialog.rows()) if (k, item.name) == (kind, name))


def _stored(win, kind: str, name: str):
    with win.project.store.transaction() as tx:
        repo = tx.views if kind == "view" else tx.audio
        return next(i for i in repo.list(win.ws.session.id) if i.name == name)


def _sync(qtbot, dialog, kind: str, name: str) -> None:
    dialog.table.selectRow(_row(dialog, kind, name))
    assert dialog.reference.currentText() == "audio mix"  # the room recorder is the default reference
    qtbot.mouseClick(dialog.sync, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.accept_proposal.isEnabled(), timeout=30_000)
    assert "confidence" in dialog.proposal_label.text()
    qtbot.mouseClick(dialog.accept_proposal, Qt.MouseButton.LeftButton)


@needs_praat
def test_empty_window_to_synced_labelled_exported_session(qtbot, tmp_path, monkeypatch):
    pympi = pytest.importorskip("pympi")
    win = empty_main_window(qtbot)
    media = tmp_path / "recordings" / "pair01"
    write_scene(media, [Recorder("mix", TRUTH_S["mix"], 9.0),
                        Recorder("A", TRUTH_S["A"], 7.0, fps=25, gain=0.8),
                        Recorder("B", TRUTH_S["B"], 6.5, fps=25, gain=0.5, noise=0.04),
                        Recorder("wide", TRUTH_S["wide"], 7.0, fps=25, gain=0.3)], seed=19)

    # File ▸ New project…, importing the recordings
    root = tmp_path / "study"
    _fill_new_project(root, media)
    accept_annotator("alice")
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.ws is not None and win.ws.data is not None, timeout=30_000)

    # File ▸ Session media…: every camera starts at 0 after the import; sync each to the room recorder
    dialog = win.file_actions.open_session_media()
    assert {(k, i.name) for k, i in dialog.rows()} >= {("view", "A"), ("view", "B"), ("view", "wide"),
                                                        ("audio", "mix")}
    for name in ("A", "B", "wide"):
        _sync(qtbot, dialog, "view", name)
        qtbot.waitUntil(lambda n=name: _stored(win, "view", n).offset_us != 0, timeout=5000)
        assert abs(_stored(win, "view", name).offset_us - TRUTH_S[name] * US) <= FRAME_US
    # the camera's own sound track moved with its picture, and the open session plays at the new offsets
    assert _stored(win, "audio", "B").offset_us == _stored(win, "view", "B").offset_us
    shown = {v.name: v.offset_us for v in win.bench.media.views}
    assert shown["B"] == _stored(win, "view", "B").offset_us

    # nudge by one frame, then undo it from the Edit menu
    synced_b = _stored(win, "view", "B").offset_us
    dialog.table.selectRow(_row(dialog, "view", "B"))
    qtbot.mouseClick(dialog.findChild(type(dialog.sync), "NudgeFrame"), Qt.MouseButton.LeftButton)
    assert _stored(win, "view", "B").offset_us == synced_b + FRAME_US
    win.shortcuts.actions["edit.undo"].trigger()
    assert _stored(win, "view", "B").offset_us == synced_b
    qtbot.waitUntil(lambda: {v.name: v.offset_us for v in win.bench.media.views}["B"] == synced_b, timeout=5000)

    # bad input is a message in the dialog and nothing is saved
    dialog.table.cellWidget(_row(dialog, "view", "A"), 4).setValue(600_000.0)  # ten minutes: past every file
    assert "outside the session's other media" in dialog.problem.text()
    assert abs(_stored(win, "view", "A").offset_us - TRUTH_S["A"] * US) <= FRAME_US
    participant_a = next(p.id for p in win.ws.data.participants if p.code == "A")
    box = dialog.findChild(QComboBox, f"who.audio.{_stored(win, 'audio', 'mix').id}.0")
    box.setCurrentIndex(box.findData(participant_a))  # the room recorder's channel 1 → A, who has a track
    box.activated.emit(box.currentIndex())
    assert "Two channels claim participant A" in dialog.problem.text()
    assert _stored(win, "audio", "mix").channel_participants == (None,)
    shown = dialog.table.cellWidget(_row(dialog, "audio", "mix"), 2).findChild(QComboBox)
    assert shown.currentData() is None  # the editor is back at the stored value
    dialog.close()

    # label one segment on A's emotion tier
    drive = Driver(qtbot, win)
    drive.show_range(0.0, 8.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 2.0, 3.0)
    drive.key(Qt.Key.Key_2)
    with win.project.store.transaction() as tx:
        labelled = [s for s in tx.segments.list(track.tier.id)]
    assert [(s.start_us, s.end_us, s.value) for s in labelled] == [(2 * US, 3 * US, "happy")]

    # File ▸ Export ▸ Labels as ELAN / Praat TextGrid: jobs in the Jobs panel
    for fmt in ("eaf", "textgrid"):
        out = tmp_path / "exports" / fmt
        monkeypatch.setattr(choosers, "choose_folder", lambda *_a, out=out, **_k: str(out))
        job_id = win.file_actions.exports[fmt].trigger() or max(j.id for j in win.jobs.list())
        qtbot.waitUntil(lambda j=job_id: win.jobs.get(j).state in FINAL_STATES, timeout=60_000)
        assert win.jobs.get(job_id).state == "succeeded", win.jobs.log_tail(job_id)
    (eaf,) = (tmp_path / "exports" / "eaf").glob("*.eaf")
    doc = pympi.Elan.Eaf(str(eaf))
    annotations = [a for tier in doc.get_tier_names() for a in doc.get_annotation_data_for_tier(tier)]
    assert (2000, 3000, "happy") in [(a[0], a[1], a[2]) for a in annotations]
    (grid,) = (tmp_path / "exports" / "textgrid").glob("*.TextGrid")
    lines = run_praat(INSPECT, tmp_path, str(grid))
    assert ["interval", "2.000000", "3.000000", "happy"] in lines

    # File ▸ Close project, then File ▸ Open recent
    win.file_actions.close.trigger()
    assert isinstance(win.centralWidget(), StartPage)
    recent = win.menuBar().actions()[0].menu().findChild(type(win.menuBar().actions()[0].menu()), "file.recent")
    win.file_actions.fill_recent(recent)
    accept_annotator("alice")
    next(a for a in recent.actions() if Path(a.data()).resolve() == root.resolve()).trigger()
    qtbot.waitUntil(lambda: win.project is not None, timeout=10_000)
    assert abs(_stored(win, "view", "B").offset_us - TRUTH_S["B"] * US) <= FRAME_US
