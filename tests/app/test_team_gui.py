"""Team mode in the window: alice works in the GUI while bob edits the same SQLite file through core
edits (a second Project object, as a second DyadLab would). Every outcome is checked in the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from dyadlab.app.commands import segment_actions
from dyadlab.app.dialogs.conflict_dialog import ConflictDialog
from dyadlab.app.errors import reporter
from dyadlab.core.edits import CreateSegment, UpdateSegment, ensure_annotator, ensure_annotator_tiers
from dyadlab.core.project import open_project
from dyadlab.core.store import schema

pytestmark = pytest.mark.gui
S = 1_000_000


@pytest.fixture
def team(demo_project_copy: Path, open_window):
    """``team(alice_role)``: (window as alice, bob's Project, bob, bob's emotion tier of participant A)."""
    bob_project = open_project(demo_project_copy)

    def make(alice_role: str = "annotator"):
        with bob_project.store.transaction() as tx:
            session_id = tx.sessions.list()[0].id
            alice = tx.annotators.ensure("alice")
            tx.orm.get(schema.AnnotatorRow, alice.id).role = alice_role
            code_a = next(p.id for p in tx.participants.list(session_id) if p.code == "A")
        bob = ensure_annotator(bob_project.store, "bob")
        tier = next(t for t in ensure_annotator_tiers(bob_project.store, session_id, bob)
                    if t.name == "emotion" and t.participant_id == code_a)
        window = open_window(demo_project_copy, session_id=session_id)
        window.ws.show_annotator(bob.id)  # alice compares with bob's tiers
        return window, bob_project, bob, tier

    yield make
    bob_project.close()


def answer_conflict(button: str, seen: list[list[list[str]]]) -> None:
    """When the conflict dialog opens: note its table (segment, theirs, yours) and click ``button``."""

    def click() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, ConflictDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, click)
            return
        seen.append([[dialog.table.item(r, c).text() for c in range(3)] for r in range(dialog.table.rowCount())])
        dialog.findChild(QPushButton, button).click()

    QTimer.singleShot(0, click)


def test_bobs_new_segment_appears_after_the_refresh_tick(team, db, qtbot):
    window, bob_project, bob, tier = team()
    track = next(t for t in window.bench.timeline.tier_tracks.values() if t.tier.id == tier.id)
    assert track.items.segments == []
    CreateSegment(tier.id, 2 * S, 3 * S, "sad", annotator_id=bob.id).do(bob_project.store)
    qtbot.waitUntil(lambda: [s.value for s in track.items.segments] == ["sad"], timeout=6000)
    assert db("SELECT value, annotator_id FROM segments WHERE tier_id = ?", tier.id) == [("sad", bob.id)]
    assert window.ws.undo_stack.count() == 0  # others' edits are not alice's to undo


def test_conflict_keep_theirs_then_apply_mine(team, db, qtbot):
    window, bob_project, bob, tier = team("reviewer")
    ws = window.ws
    window.bench.changes.stop()  # alice has not seen bob's next change when she edits
    create = CreateSegment(tier.id, 2 * S, 3 * S, "sad", annotator_id=bob.id)
    create.do(bob_project.store)
    ws.refresh_segments({tier.id})
    ws.select(ws.segments(tier.id)[0])
    sid = create.segment.id

    UpdateSegment(sid, annotator_id=bob.id, expected_version=1, value="angry").do(bob_project.store)
    seen: list[list[list[str]]] = []
    answer_conflict("KeepTheirs", seen)
    assert not segment_actions.label_selected(ws, "happy")
    assert seen == [[[f"#{sid}", "2.000–3.000 s  angry (version 2)", "2.000–3.000 s  happy"]]]
    assert db("SELECT value, version FROM segments WHERE id = ?", sid) == [("angry", 2)]
    assert ws.undo_stack.count() == 0
    assert ws.selected.value == "angry"  # the window now shows theirs

    UpdateSegment(sid, annotator_id=bob.id, expected_version=2, value="neutral").do(bob_project.store)
    answer_conflict("ApplyMine", seen)
    assert segment_actions.label_selected(ws, "happy")
    assert seen[1][0][1:] == ["2.000–3.000 s  neutral (version 3)", "2.000–3.000 s  happy"]
    assert db("SELECT value, version FROM segments WHERE id = ?", sid) == [("happy", 4)]
    assert ws.undo_stack.count() == 1
    ws.undo_stack.undo()  # alice's undo puts bob's label back, and is itself checked
    assert db("SELECT value FROM segments WHERE id = ?", sid) == [("neutral",)]


def test_annotator_cannot_edit_someone_elses_tier(team, db, qtbot):
    window, bob_project, bob, tier = team("annotator")
    ws = window.ws
    create = CreateSegment(tier.id, 2 * S, 3 * S, "sad", annotator_id=bob.id)
    create.do(bob_project.store)
    ws.refresh_segments({tier.id})
    assert not ws.can_edit(tier)
    before = db("SELECT * FROM segments WHERE tier_id = ?", tier.id)
    assert not segment_actions.create_segment(ws, tier, 5 * S, 6 * S, value="happy")
    assert "'alice' is 'annotator' and may not edit another annotator's tier" in reporter.last
    assert "belongs to annotator 'bob'" in reporter.last
    ws.select(ws.segments(tier.id)[0])
    assert not segment_actions.label_selected(ws, "happy")
    assert not segment_actions.delete_selected(ws)
    assert db("SELECT * FROM segments WHERE tier_id = ?", tier.id) == before
    assert ws.undo_stack.count() == 0
