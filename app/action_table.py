"""What each keyboard action does: the table that binds the shortcut ids of ``shortcuts.SPECS`` to
workspace, workbench and window methods. One place to read "what does B do?" — no logic of its own
beyond choosing the target (e.g. the segment to loop, the view to step in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtGui import QAction

from dyadlab.app.commands import segment_actions as seg
from dyadlab.app.dialogs.scheme_dialog import follow_scheme_changes, open_scheme_dialog
from dyadlab.app.docks import job_control
from dyadlab.app.editing.segment_drag import MIN_DURATION_US
from dyadlab.app.errors import reporter
from dyadlab.app.write_access import offer, refusal
from dyadlab.core.edits.schemes import in_effect
from dyadlab.core.store.rules import Op

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow


def _new_at_playhead(win: MainWindow) -> None:
    ws, t = win.ws, win.bench.playback.now_us
    tier = ws.active_tier
    if tier is None:
        reporter.notice("click a tier first: new segments go on the active tier")
        return
    from dyadlab.core.edits import free_gap

    gap = free_gap(ws.segments(tier.id), t, limit_us=ws.data.duration_us)
    if gap is None or gap[1] - t < MIN_DURATION_US:
        reporter.notice("the playhead is inside a segment (or too close to the next one)")
        return
    seg.create_segment(ws, tier, t, min(gap[1], t + 1_000_000), how="key")


def _jump_segment(win: MainWindow, direction: int) -> None:
    target = seg.neighbour(win.ws, win.bench.playback.now_us, direction)
    if target is not None:
        win.ws.select(target)
        win.bench.playback.seek(target.start_us)


def _cycle_tier(win: MainWindow, step: int) -> None:
    tiers = win.ws.visible_tiers()
    if not tiers:
        return
    ids = [t.id for t in tiers]
    current = ids.index(win.ws.active_tier_id) if win.ws.active_tier_id in ids else -1
    win.ws.set_active_tier(ids[(current + step) % len(ids)])


def _loop(win: MainWindow) -> None:
    selected = win.ws.selected
    span = (selected.start_us, selected.end_us) if selected is not None else None
    if win.bench.playback.clock.loop is None and span is None:
        x0, x1 = win.bench.timeline.visible_range()
        span = (max(0, round(x0 * 1e6)), round(x1 * 1e6))
    win.bench.playback.toggle_loop(span)


def _with_view(win: MainWindow, action: Callable) -> Callable[[], object]:
    def run() -> object:
        view = win.bench.focused_view()
        if view is None:
            reporter.notice("no video view to edit keypoints on")
            return False
        return action(view)

    return run


def _delete(win: MainWindow) -> None:
    if win.bench.keypoints.enabled and win.bench.keypoints.selected is not None:
        _with_view(win, win.bench.keypoints.remove_selected)()
    else:
        seg.delete_selected(win.ws)


class UndoNamer(QObject):
    """Keeps Edit > Undo / Redo saying which step they take back ("Undo Split segment"), as the stack changes.

    A child of the action, so a rebound (deleted) action takes its connections with it."""

    def __init__(self, action: QAction, verb: str, changed: SignalInstance, current: str) -> None:
        super().__init__(action)
        self.action, self.verb = action, verb
        changed.connect(self.rename)
        self.rename(current)

    def rename(self, step: str) -> None:
        self.action.setText(f"{self.verb} {step}" if step else self.verb)


def bind_actions(win: MainWindow) -> None:
    """Bind every shortcut id to its callback (called once per opened project)."""
    sc, ws, bench = win.shortcuts, win.ws, win.bench
    sc.set_schemes(in_effect(list(ws.schemes.values())))  # the keymap checks the scheme keys against the actions
    follow_scheme_changes(win)  # an edited scheme's keys, dimensions and names reach the keymap, rater, timeline
    pb = bench.playback
    table: dict[str, Callable[[], object]] = {
        "play.toggle": pb.toggle,
        "play.step_back": lambda: pb.step(-1),
        "play.step_forward": lambda: pb.step(1),
        "play.back_10": lambda: pb.step(-10),
        "play.forward_10": lambda: pb.step(10),
        "play.prev_segment": lambda: _jump_segment(win, -1),
        "play.next_segment": lambda: _jump_segment(win, 1),
        "play.slower": lambda: pb.change_speed(0.5),
        "play.faster": lambda: pb.change_speed(2.0),
        "play.normal": lambda: pb.set_speed(1.0),
        "play.loop": lambda: _loop(win),
        "play.start": lambda: pb.seek(0),
        "play.end": lambda: pb.seek(pb.clock.duration_us - 1),
        "edit.undo": ws.undo_stack.undo,
        "edit.redo": ws.undo_stack.redo,
        "edit.save": win.save,
        "edit.new": lambda: _new_at_playhead(win),
        "edit.split": lambda: seg.split_at(ws, pb.now_us),
        "edit.merge": lambda: seg.merge_with_next(ws),
        "edit.delete": lambda: _delete(win),
        "edit.deselect": lambda: ws.select(None),
        "tier.next": lambda: _cycle_tier(win, 1),
        "tier.previous": lambda: _cycle_tier(win, -1),
        "edit.schemes": lambda: open_scheme_dialog(win),
        "rate.record": lambda: bench.rater.set_recording(not bench.rater.recording),
        "kp.mode": lambda: bench.keypoints.set_enabled(not bench.keypoints.enabled),
        "kp.copy_previous": _with_view(win, bench.keypoints.copy_previous),
        "kp.interpolate": _with_view(win, bench.keypoints.interpolate),
        "kp.remove": _with_view(win, bench.keypoints.remove_selected),
        "kp.visible": _with_view(win, bench.keypoints.toggle_visible),
        "kp.interpolate_all": _with_view(win, bench.keypoints.interpolate_all),
        "view.layout": bench.grid.toggle_mode,
        "view.next": lambda: bench.grid.focus_index(
            (next((i for i, v in enumerate(bench.grid.views) if v is bench.grid.focused), -1) + 1)
            % max(1, len(bench.grid.views))),
        "view.zoom_in": lambda: bench.timeline.zoom(0.5),
        "view.zoom_out": lambda: bench.timeline.zoom(2.0),
        "view.fit": bench.timeline.fit,
        "view.theme": win.toggle_theme,
        "app.annotator": win.switch_annotator,
        "app.help": win.show_shortcuts,
        "jobs.train": lambda: job_control.open_train_dialog(win),
        "jobs.analyze": lambda: job_control.submit_analysis(win),
    }
    checkable = {"play.loop", "rate.record", "kp.mode"}
    for action_id, callback in table.items():
        sc.bind(action_id, callback, checkable=action_id in checkable)
    # training ends by registering a model: on a team server only admins may (the job would fail at its end)
    train = sc.actions["jobs.train"]
    offer([train], refusal(ws, "models", Op.INSERT), tooltip=train.toolTip())
    stack = ws.undo_stack
    UndoNamer(sc.actions["edit.undo"], "Undo", stack.undoTextChanged, stack.undoText())
    UndoNamer(sc.actions["edit.redo"], "Redo", stack.redoTextChanged, stack.redoText())
