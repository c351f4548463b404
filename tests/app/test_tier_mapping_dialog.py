"""File ▸ Import ▸ Labels with an ELAN file whose tiers are named freely: the mapping step places them, the
import runs as a job, and File ▸ Export ▸ Labels as ELAN writes every annotation back under the same names.

The ELAN file is written with pympi in the test, the way another lab's ELAN would; pympi also reads the
export, so the comparison does not go through DyadLab's reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pympi.Elan import Eaf, to_string
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from dyadlab.app.dialogs import choosers
from dyadlab.app.dialogs.tier_mapping_dialog import TierMappingDialog
from dyadlab.core.jobs.status import FINAL_STATES
from dyadlab.core.labels.naming import safe_filename

from .modal_driver import answer_next_modal

pytestmark = pytest.mark.gui

TIERS = {"Emotion": [(500, 2000, "happy"), (2000, 3500, "frustrated"), (6000, 8000, "sad")],
         "Valence B": [(1000, 4000, "3.5"), (4000, 9000, "2.25")],
         "Notes": [(0, 1000, "camera bumped")]}


def _write_eaf(path: Path, tiers: dict[str, list[tuple[int, int, str]]] = TIERS) -> Path:
    eaf = Eaf(author="another lab")
    eaf.remove_tier("default")
    for name, spans in tiers.items():
        eaf.add_tier(name)
        for start, end, value in spans:
            eaf.add_annotation(name, start, end, value)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + to_string(eaf), encoding="utf-8")
    return path


def _annotations(path: Path) -> dict[str, list[tuple]]:
    eaf = Eaf(str(path))
    return {name: sorted(eaf.get_annotation_data_for_tier(name)) for name in eaf.get_tier_names()}


def _run_job(qtbot, win, action) -> int:
    before = max((j.id for j in win.jobs.list()), default=0)
    action.trigger()
    job_id = max(j.id for j in win.jobs.list())
    assert job_id > before
    qtbot.waitUntil(lambda: win.jobs.get(job_id).state in FINAL_STATES, timeout=60_000)
    assert win.jobs.get(job_id).state == "succeeded", win.jobs.log_tail(job_id)
    return job_id


def test_free_named_elan_tiers_import_through_the_mapping_step_and_export_back(qtbot, window, monkeypatch,
                                                                               tmp_path):
    win = window
    source = _write_eaf(tmp_path / "colleague.eaf")
    session = win.ws.session.name
    monkeypatch.setattr(choosers, "choose_file", lambda *_a, **_k: str(source))
    jobs_before = len(win.jobs.list())

    # Cancel imports nothing
    answer_next_modal(lambda d: qtbot.mouseClick(d.buttons.button(QDialogButtonBox.StandardButton.Cancel),
                                                 Qt.MouseButton.LeftButton), kind=TierMappingDialog)
    win.file_actions.import_labels.trigger()
    assert len(win.jobs.list()) == jobs_before

    seen: list = []

    def map_tiers(dialog: TierMappingDialog) -> None:
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert dialog.session.currentText() == session  # the shown session: the file names none of ours
        tiers = dialog.tiers
        rows = {tiers.item(r, 1).text(): r for r in range(tiers.rowCount())}
        assert set(rows) == set(TIERS)
        # guessed: "Valence B" is B's valence; the annotator is the one working; "Emotion" names no participant
        valence = rows["Valence B"]
        assert [tiers.cellWidget(valence, c).currentText() for c in (3, 4, 5)] == ["B", "valence", "alice"]
        emotion = rows["Emotion"]
        assert tiers.cellWidget(emotion, 3).currentText() == ""
        assert not ok.isEnabled() and "'Emotion': choose its participant" in dialog.problem.text()
        participant = tiers.cellWidget(emotion, 3)
        participant.lineEdit().clear()
        qtbot.keyClicks(participant.lineEdit(), "A")
        use_notes = tiers.cellWidget(rows["Notes"], 0)
        use_notes.setFocus()
        qtbot.keyClick(use_notes, Qt.Key.Key_Space)  # untick: leave it out
        assert not use_notes.isChecked()
        # the emotion scheme does not know "frustrated": refused until the user decides
        labels = dialog.labels
        assert [labels.item(r, 0).text() for r in range(labels.rowCount())] == ["frustrated"], dialog.problem.text()
        assert labels.item(0, 1).text() == "emotion-4class" and not ok.isEnabled()
        choice = labels.cellWidget(0, 3)
        assert "map to angry" in [choice.itemText(i) for i in range(choice.count())]
        choice.setCurrentIndex(choice.findData("add"))
        assert ok.isEnabled(), dialog.problem.text()
        seen.append(dialog.arguments())
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    answer_next_modal(map_tiers, kind=TierMappingDialog)
    _run_job(qtbot, win, win.file_actions.import_labels)
    assert seen and "--map" in seen[0]
    qtbot.waitUntil(lambda: win.project is not None and win.ws is not None, timeout=10_000)
    with win.project.store.transaction() as tx:
        tiers = [t for s in tx.sessions.list() for t in tx.tiers.list(s.id)]
        (emotion,) = [t for t in tiers if "frustrated" in [seg.value for seg in tx.segments.list(t.id)]]
        assert "frustrated" in tx.schemes.get(emotion.scheme_id).classes  # in the project's copy of the scheme
    assert not [t for t in tiers if t.name.lower() == "notes"]

    out = tmp_path / "exported"
    monkeypatch.setattr(choosers, "choose_folder", lambda *_a, **_k: str(out))
    _run_job(qtbot, win, win.file_actions.exports["eaf"])
    exported = _annotations(out / f"{safe_filename(session)}.eaf")
    original = _annotations(source)
    assert {name: exported.get(name) for name in ("Emotion", "Valence B")} == {
        name: original[name] for name in ("Emotion", "Valence B")}
    assert "Notes" not in exported


def test_mapping_step_says_what_blocks_the_import_until_the_user_decides(qtbot, tmp_path):
    from dyadlab.core.io.label_files.tier_mapping import read_file_tiers
    from dyadlab.core.project import create_project

    project = create_project(tmp_path / "project")
    with project.store.transaction() as tx:
        session = tx.sessions.add("S1", duration_us=20_000_000)
        codes = {code: tx.participants.add(session.id, code) for code in ("A", "B")}
        alice = tx.annotators.add("alice")
        tier = tx.tiers.add(session.id, "emotion", scheme_id=tx.schemes.by_name("emotion-4class").id,
                            annotator_id=alice.id, kind="categorical", participant_id=codes["A"].id)
        tx.segments.add(tier.id, 0, 1_000_000, "happy", annotator_id=alice.id)
    eaf = Eaf(author="another lab")
    eaf.remove_tier("default")
    for name in ("Emotion A", "Mood"):
        eaf.add_tier(name)
        eaf.add_annotation(name, 5000, 6000, "sad")
    source = tmp_path / "S1.eaf"
    source.write_text(to_string(eaf), encoding="utf-8")
    dialog = TierMappingDialog(project, read_file_tiers(source), annotator="alice")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # "Mood" mapped onto the same tier as "Emotion A": refused, naming both
    mood = dialog.tiers.cellWidget(1, 3)
    qtbot.keyClicks(mood.lineEdit(), "A")
    dialog.tiers.cellWidget(1, 4).setCurrentText("emotion")
    assert "tiers 'Emotion A' and 'Mood' are both mapped to 'A|emotion|alice'" in dialog.problem.text()
    assert not ok.isEnabled()
    dialog.tiers.cellWidget(1, 4).setCurrentText("mood")
    # the project's A|emotion|alice already holds a segment: refused until the user says replace or merge
    assert "already holds 1 segments" in dialog.problem.text() and not ok.isEnabled()
    dialog.on_existing.setCurrentIndex(dialog.on_existing.findData("merge"))
    assert dialog.problem.text() == "" and ok.isEnabled()
    assert dialog.arguments() == ["--session", "S1", "--on-existing", "merge", "--map", "Emotion A=A/emotion/alice",
                                  "--map", "Mood=A/mood/alice"]
    project.close()
