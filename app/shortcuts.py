"""Every keyboard action in one table: id, name, default keys, group — and the user's own keys.

The main window binds each id to a callback once; menus, the transport buttons and the help dialog
use the same QActions, so a key, a click and a test all trigger the same code. Keys the user changes
in the help dialog are kept in QSettings (``shortcuts/<id>``) and apply immediately. Class keys of
categorical schemes (1, 2, 3, ...) and the rating keys of dimensional schemes come from the scheme
files and are listed alongside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from dyadlab.app.errors import guarded


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    keys: tuple[str, ...]
    group: str


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("play.toggle", "Play / pause", ("Space",), "Transport"),
    ActionSpec("play.step_back", "Previous frame", ("Left",), "Transport"),
    ActionSpec("play.step_forward", "Next frame", ("Right",), "Transport"),
    ActionSpec("play.back_10", "Back 10 frames", ("Shift+Left",), "Transport"),
    ActionSpec("play.forward_10", "Forward 10 frames", ("Shift+Right",), "Transport"),
    ActionSpec("play.prev_segment", "Previous segment (active tier)", ("Ctrl+Left", "PgUp"), "Transport"),
    ActionSpec("play.next_segment", "Next segment (active tier)", ("Ctrl+Right", "PgDown"), "Transport"),
    ActionSpec("play.slower", "Slower", ("[",), "Transport"),
    ActionSpec("play.faster", "Faster", ("]",), "Transport"),
    ActionSpec("play.normal", "Normal speed", ("\\",), "Transport"),
    ActionSpec("play.loop", "Loop the selected segment", ("L",), "Transport"),
    ActionSpec("play.start", "Go to start", ("Home",), "Transport"),
    ActionSpec("play.end", "Go to end", ("End",), "Transport"),
    ActionSpec("edit.undo", "Undo", ("Ctrl+Z",), "Editing"),
    ActionSpec("edit.redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Editing"),
    ActionSpec("edit.save", "Save (every edit is already committed; confirms and flushes)", ("Ctrl+S",), "Editing"),
    ActionSpec("edit.new", "New segment at the playhead (active tier)", ("N",), "Editing"),
    ActionSpec("edit.split", "Split segment at the playhead", ("B",), "Editing"),
    ActionSpec("edit.merge", "Merge selected segment with the next", ("M",), "Editing"),
    ActionSpec("edit.delete", "Delete selected segment", ("Del", "Backspace"), "Editing"),
    ActionSpec("edit.deselect", "Clear selection", ("Esc",), "Editing"),
    ActionSpec("tier.next", "Next tier", ("Down",), "Editing"),
    ActionSpec("tier.previous", "Previous tier", ("Up",), "Editing"),
    ActionSpec("rate.record", "Record continuous rating while playing", ("R",), "Rating"),
    ActionSpec("kp.mode", "Keypoint editing on the focused view", ("K",), "Keypoints"),
    ActionSpec("kp.copy_previous", "Copy keypoints from the previous labelled frame", ("P",), "Keypoints"),
    ActionSpec("kp.interpolate", "Interpolate keypoints between keyframes", ("I",), "Keypoints"),
    ActionSpec("kp.remove", "Remove the selected keypoint", ("X",), "Keypoints"),
    ActionSpec("view.layout", "Grid / focus layout", ("F",), "View"),
    ActionSpec("view.next", "Focus the next video view", ("V",), "View"),
    ActionSpec("view.zoom_in", "Zoom timeline in", ("Ctrl+=", "Ctrl++"), "View"),
    ActionSpec("view.zoom_out", "Zoom timeline out", ("Ctrl+-",), "View"),
    ActionSpec("view.fit", "Show the whole session", ("Ctrl+0",), "View"),
    ActionSpec("view.theme", "Dark / light theme", ("Ctrl+T",), "View"),
    ActionSpec("inspect.next", "Next disagreement span (inspector)", ("G",), "Models"),
    ActionSpec("inspect.previous", "Previous disagreement span (inspector)", ("Shift+G",), "Models"),
    ActionSpec("assist.accept", "Accept the model's proposal", ("A",), "Models"),
    ActionSpec("assist.edit", "Accept the proposal and select it to edit", ("E",), "Models"),
    ActionSpec("assist.reject", "Reject the model's proposal", ("D",), "Models"),
    ActionSpec("app.annotator", "Switch annotator", ("Ctrl+Shift+A",), "Project"),
    ActionSpec("app.help", "Keyboard shortcuts", ("F1", "?"), "Project"),
    ActionSpec("jobs.train", "Train model…", ("Ctrl+Shift+T",), "Jobs"),
    ActionSpec("jobs.analyze", "Analyse the project (faces, audio) in the background", (), "Jobs"),
)
SPEC_BY_ID = {s.id: s for s in SPECS}
SETTINGS_GROUP = "shortcuts"


class Shortcuts:
    """The window's QActions, keyed by spec id, with user-configurable keys."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.actions: dict[str, QAction] = {}

    def bind(self, action_id: str, callback: Callable[[], object], *, checkable: bool = False) -> QAction:
        spec = SPEC_BY_ID[action_id]
        old = self.actions.pop(action_id, None)
        if old is not None:
            self.window.removeAction(old)
            old.deleteLater()
        action = QAction(spec.text, self.window)
        action.setObjectName(action_id)
        action.setCheckable(checkable)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setShortcuts(self.keys(action_id))
        self._tooltip(action, spec.text)
        guarded_callback = guarded(spec.text)(callback)
        action.triggered.connect(lambda _checked=False: guarded_callback())
        self.window.addAction(action)
        self.actions[action_id] = action
        return action

    @staticmethod
    def _tooltip(action: QAction, text: str) -> None:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        action.setToolTip(f"{text} ({keys})" if keys else text)

    def keys(self, action_id: str) -> list[QKeySequence]:
        stored = QSettings().value(f"{SETTINGS_GROUP}/{action_id}")
        texts = SPEC_BY_ID[action_id].keys if stored is None else [k for k in str(stored).split(";") if k]
        return [QKeySequence(k) for k in texts]

    def set_keys(self, action_id: str, keys: list[QKeySequence]) -> None:
        QSettings().setValue(f"{SETTINGS_GROUP}/{action_id}",
                             ";".join(k.toString(QKeySequence.SequenceFormat.PortableText) for k in keys))
        if action_id in self.actions:
            self.actions[action_id].setShortcuts(keys)
            self._tooltip(self.actions[action_id], SPEC_BY_ID[action_id].text)

    def reset(self, action_id: str) -> None:
        QSettings().remove(f"{SETTINGS_GROUP}/{action_id}")
        if action_id in self.actions:
            self.actions[action_id].setShortcuts(self.keys(action_id))

    def conflicts(self) -> dict[str, list[str]]:
        """Key text -> action ids bound to it, for keys used more than once."""
        seen: dict[str, list[str]] = {}
        for action_id, action in self.actions.items():
            for key in action.shortcuts():
                seen.setdefault(key.toString(), []).append(action_id)
        return {k: ids for k, ids in seen.items() if len(ids) > 1}

    def trigger(self, action_id: str) -> None:
        self.actions[action_id].trigger()
