"""Shortcuts and the keymap: one key does one thing wherever it is active; the help dialog lists every action
once, the scheme keys per scheme and any conflict; keys re-assigned there apply and persist; Edit > Undo says
what it takes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QPushButton

from dyadlab.app.shortcuts import SPECS, key_name
from dyadlab.core import model
from dyadlab.core.keymap import GLOBAL, TIER_KIND, Binding, scheme_bindings, tier_context

pytestmark = pytest.mark.gui
S = 1_000_000
SHIFT = Qt.KeyboardModifier.ShiftModifier


def all_schemes(project_root: Path) -> list[model.LabelScheme]:
    """The demo project's schemes and the shipped ones (by name, the project's copy first)."""
    from dyadlab.core.labels.schemes import load_scheme_file, shipped_scheme_files
    from dyadlab.core.project import open_project

    with open_project(project_root) as project, project.store.transaction() as tx:
        schemes = {s.name: s for s in tx.schemes.list()}
    for i, path in enumerate(shipped_scheme_files()):
        shipped = model.LabelScheme(-1 - i, *load_scheme_file(path))
        schemes.setdefault(shipped.name, shipped)
    return list(schemes.values())


def test_no_key_does_two_things_where_it_is_active(demo_project_dir: Path):
    """Every default action key, rating key, class key and score digit, walked per active tier: a key is
    bound once among the bindings active together (all actions, every rating scheme, one tier's scheme)."""
    schemes = all_schemes(demo_project_dir)
    actions = [Binding(key_name(k), s.id, s.text, GLOBAL) for s in SPECS for k in s.keys]
    by_scheme = {s.name: scheme_bindings(s) for s in schemes}
    rating = [b for bs in by_scheme.values() for b in bs if b.context.kind != TIER_KIND]
    assert {"vad", "emotion-4class"} <= set(by_scheme) and rating
    for tier_scheme in [None, *by_scheme]:
        active = actions + rating + [b for b in by_scheme.get(tier_scheme, []) if b.context.kind == TIER_KIND]
        seen: dict[str, list[str]] = {}
        for b in active:
            if b.action not in seen.get(b.key, []):
                seen.setdefault(b.key, []).append(b.action)
        twice = {key: actions for key, actions in seen.items() if len(actions) > 1}
        assert not twice, f"active tier of {tier_scheme}: {twice}"


def tree_rows(dialog) -> dict[str, list[tuple[str, str]]]:
    """Group title -> (action, keys) rows, as the dialog shows them."""
    out = {}
    for i in range(dialog.tree.topLevelItemCount()):
        group = dialog.tree.topLevelItem(i)
        title = group.text(0).split(" — ")[0]  # a scheme's title goes on to say how its keys work
        assert title not in out, f"group {title!r} shown twice"
        out[title] = [(group.child(j).text(0), group.child(j).text(1)) for j in range(group.childCount())]
    return out


def open_help(drive):
    drive.key(Qt.Key.Key_F1)
    dialog = drive.window.findChild(object, "ShortcutsDialog")
    drive.qtbot.waitUntil(dialog.isVisible)
    return dialog


def assign(drive, dialog, group_title: str, action_text: str, key: str, button: str = "Assign") -> None:
    """Select an action's row, type ``key`` into the key box and click ``button``."""
    tree = dialog.tree
    group = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                 if tree.topLevelItem(i).text(0).split(" — ")[0] == group_title)
    item = next(group.child(j) for j in range(group.childCount()) if group.child(j).text(0) == action_text)
    tree.setCurrentItem(item)
    dialog.editor.setKeySequence(QKeySequence(key))
    clicked = next(b for b in dialog.findChildren(QPushButton) if b.text() == button)
    drive.qtbot.mouseClick(clicked, Qt.MouseButton.LeftButton)


def test_help_lists_each_group_once_every_action_once_and_the_keys_of_each_scheme(drive):
    dialog = open_help(drive)
    rows = tree_rows(dialog)
    groups = list(dict.fromkeys(s.group for s in SPECS))
    assert list(rows) == [*groups, "Scheme emotion-4class (categorical)", "Scheme iemocap-full (categorical)",
                          "Scheme vad (dimensional)"]  # the keypoint schemes bind no keys: no empty group
    assert all(rows.values())
    actions = [text for group in groups for text, _ in rows[group]]
    assert sorted(actions) == sorted(s.text for s in SPECS)  # each action exactly once
    keys = {text: k for group in groups for text, k in rows[group]}
    assert keys["Split segment at the playhead"] == "B" and keys["Accept the model's proposal"] == "Shift+A"
    assert ("happy", "2") in rows["Scheme emotion-4class (categorical)"]
    assert rows["Scheme vad (dimensional)"][:3] == [("valence up / down", "Q / A"), ("arousal up / down", "W / S"),
                                                    ("dominance up / down", "E / D")]
    assert ("score of the selected segment", "1, 2, 3, 4, 5") in rows["Scheme vad (dimensional)"]
    assert not dialog.conflicts.text()
    dialog.close()


def test_assigning_a_taken_key_is_refused_naming_both_actions(drive):
    dialog = open_help(drive)
    assign(drive, dialog, "Editing", "Split segment at the playhead", "Q")
    assert dialog.conflicts.text() == ("Not assigned: Q is already 'valence up' (while rating with vad); "
                                       "'Split segment at the playhead' keeps its keys.")
    assign(drive, dialog, "Editing", "Split segment at the playhead", "L")
    assert "L is already 'Loop the selected segment'" in dialog.conflicts.text()
    assert QSettings().value("shortcuts/edit.split") is None
    assert drive.window.shortcuts.actions["edit.split"].shortcuts() == [QKeySequence("B")]
    assert dict(tree_rows(dialog)["Editing"])["Split segment at the playhead"] == "B"
    # B freed and given to Merge: resetting Split to its default B is refused the same way
    assign(drive, dialog, "Editing", "Split segment at the playhead", "Ctrl+K")
    assign(drive, dialog, "Editing", "Merge selected segment with the next", "B")
    assert dict(tree_rows(dialog)["Editing"])["Merge selected segment with the next"] == "B"
    assign(drive, dialog, "Editing", "Split segment at the playhead", "", button="Reset to default")
    assert dialog.conflicts.text() == ("Not reset: B is already 'Merge selected segment with the next'; "
                                       "'Split segment at the playhead' keeps its keys.")
    assert drive.window.shortcuts.actions["edit.split"].shortcuts() == [QKeySequence("Ctrl+K")]
    dialog.close()


def test_reassigning_a_key_in_the_dialog_applies_and_persists(drive, db):
    dialog = open_help(drive)
    assign(drive, dialog, "Editing", "Split segment at the playhead", "Ctrl+K")
    assert dict(tree_rows(dialog)["Editing"])["Split segment at the playhead"] == "Ctrl+K"
    dialog.close()
    assert QSettings().value("shortcuts/edit.split") == "Ctrl+K"
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 1.0, 3.0)
    drive.bench.playback.seek(2 * S)
    drive.key(Qt.Key.Key_B)  # no longer split
    assert len(db("SELECT * FROM segments WHERE tier_id = ?", track.tier.id)) == 1
    drive.key(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert len(db("SELECT * FROM segments WHERE tier_id = ?", track.tier.id)) == 2


def test_a_with_a_proposal_present_rates_valence_and_shift_a_accepts(drive, db):
    from dyadlab.core.inference.assist import Proposal

    rater = drive.bench.rater
    valence = rater.dimension("valence")
    assert valence is not None and valence.keys == ("q", "a") and valence.value == pytest.approx(3.0)
    pid = rater.participant_id
    panel = drive.window.docks["Assist"].widget()
    proposal = Proposal(drive.ws.session.id, pid, 2 * S, 3 * S, "happy", 0.9, 0, {"proposed_by": "test model"})
    panel._proposed([proposal])  # what lands when the model's proposals are computed
    mine = ("SELECT s.value, s.start_us, s.end_us FROM segments s JOIN tiers t ON t.id = s.tier_id JOIN annotators a "
            "ON a.id = s.annotator_id WHERE a.name = 'alice' AND t.name = 'emotion' AND t.participant_id = ?")
    assert db(mine, pid) == [] and panel.proposals == [proposal]
    drive.bench.setFocus()
    drive.key(Qt.Key.Key_A)
    assert rater.dimension("valence").value == pytest.approx(3.0 - valence.step)  # valence down ...
    assert db(mine, pid) == [] and panel.proposals == [proposal]  # ... and nothing accepted
    drive.key(Qt.Key.Key_A, SHIFT)
    assert db(mine, pid) == [("happy", 2 * S, 3 * S)]
    assert rater.dimension("valence").value == pytest.approx(3.0 - valence.step)
    assert "Shift+A accept" in panel.status.text() or not panel.proposals


def test_a_scheme_key_takes_an_action_key_and_the_status_bar_says_so(drive, db):
    """A scheme (e.g. from a scheme editor) binding N: N codes 'neutral', New segment moves to Shift+N."""
    win = drive.window
    moods = model.LabelScheme(99, "moods", "categorical", {"classes": [{"name": "neutral", "key": "n"}]})
    assert [b.action for b in win.shortcuts.would_clash("n", tier_context("moods"))] == ["edit.new"]
    win.shortcuts.set_schemes([*drive.ws.schemes.values(), moods])
    message = win.statusBar().currentMessage()
    assert "N is 'neutral' (on a tier of moods): 'New segment at the playhead (active tier)' moves to Shift+N" in message
    assert win.shortcuts.actions["edit.new"].shortcuts() == [QKeySequence("Shift+N")]
    drive.bench.playback.seek(5 * S)
    track = drive.tier_track("A", "emotion")
    drive.ws.set_active_tier(track.tier.id)
    drive.key(Qt.Key.Key_N, SHIFT)
    assert [(s, e) for s, e in db("SELECT start_us, end_us FROM segments WHERE tier_id = ?", track.tier.id)] == [
        (5 * S, 6 * S)]


def test_a_stored_key_that_clashes_is_moved_and_shown_in_help(open_window, driver_for, demo_project_copy):
    QSettings().setValue("shortcuts/edit.split", "S")  # S is arousal down in the vad scheme
    drive = driver_for(open_window(demo_project_copy))
    expected = "S is 'arousal down' (while rating with vad): 'Split segment at the playhead' moves to Shift+S"
    assert expected in drive.window.statusBar().currentMessage()
    dialog = open_help(drive)
    assert dict(tree_rows(dialog)["Editing"])["Split segment at the playhead"] == "Shift+S"
    assert dialog.conflicts.text() == expected
    dialog.close()


def test_edit_undo_and_redo_name_the_step(drive):
    edit = next(a.menu() for a in drive.window.menuBar().actions() if a.text() == "&Edit")
    undo, redo = edit.actions()[:2]
    assert (undo.text(), redo.text()) == ("Undo", "Redo")
    drive.show_range(0.0, 12.0)
    drive.drag(drive.tier_track("A", "emotion"), 1.0, 3.0)
    assert (undo.text(), redo.text()) == ("Undo Create segment", "Redo")
    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (undo.text(), redo.text()) == ("Undo", "Redo Create segment")
    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | SHIFT)
    assert undo.text() == "Undo Create segment"
