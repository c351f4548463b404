"""Every keyboard action in one table (id, name, default keys, group), the user's own keys, and the one
owner of the whole keymap.

The main window binds each id to a callback once; menus, the transport buttons and the help dialog
use the same QActions, so a key, a click and a test all trigger the same code. Keys the user changes
in the help dialog are kept in QSettings (``shortcuts/<id>``) and apply immediately. Class keys of
categorical schemes (1, 2, 3, ...), score digits and the rating keys of dimensional schemes come from the
scheme files; ``Shortcuts`` resolves all of them together with ``core.keymap`` (which keys a scheme offers,
which contexts can be active at once, who keeps a contested key), so one key never does two things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from dyadlab.app.errors import guarded, reporter
from dyadlab.core import model
from dyadlab.core.keymap import (
    GLOBAL,
    Binding,
    Context,
    Keymap,
    Remap,
    normalize_key,
    resolve,
    scheme_bindings,
)


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
    ActionSpec("edit.schemes", "Coding schemes and tiers…", (), "Editing"),
    ActionSpec("rate.record", "Record continuous rating while playing", ("R",), "Rating"),
    ActionSpec("kp.mode", "Keypoint editing on the focused view", ("K",), "Keypoints"),
    ActionSpec("kp.copy_previous", "Copy keypoints from the previous labelled frame", ("P",), "Keypoints"),
    ActionSpec("kp.interpolate", "Interpolate keypoints between keyframes", ("I",), "Keypoints"),
    ActionSpec("kp.remove", "Remove the selected keypoint", ("X",), "Keypoints"),
    ActionSpec("kp.visible", "Mark the selected keypoint not visible / visible", ("O",), "Keypoints"),
    ActionSpec("kp.interpolate_all", "Interpolate every gap between corrected keypoint frames", ("Shift+I",),
               "Keypoints"),
    ActionSpec("view.layout", "Grid / focus layout", ("F",), "View"),
    ActionSpec("view.next", "Focus the next video view", ("V",), "View"),
    ActionSpec("view.zoom_in", "Zoom timeline in", ("Ctrl+=", "Ctrl++"), "View"),
    ActionSpec("view.zoom_out", "Zoom timeline out", ("Ctrl+-",), "View"),
    ActionSpec("view.fit", "Show the whole session", ("Ctrl+0",), "View"),
    ActionSpec("view.theme", "Dark / light theme", ("Ctrl+T",), "View"),
    ActionSpec("inspect.next", "Next disagreement span (inspector)", ("G",), "Models"),
    ActionSpec("inspect.previous", "Previous disagreement span (inspector)", ("Shift+G",), "Models"),
    # Shift: plain A, E and D are the valence and dominance rating keys of the shipped vad scheme
    ActionSpec("assist.accept", "Accept the model's proposal", ("Shift+A",), "Models"),
    ActionSpec("assist.edit", "Accept the proposal and select it to edit", ("Shift+E",), "Models"),
    ActionSpec("assist.reject", "Reject the model's proposal", ("Shift+D",), "Models"),
    ActionSpec("queue.jump", "Jump to the next stretch to label (Next to label)", ("Ctrl+J",), "Models"),
    ActionSpec("queue.accept", "Accept the queued stretch's proposed label", ("Ctrl+Return",), "Models"),
    ActionSpec("queue.skip", "Skip the queued stretch", ("Ctrl+Shift+J",), "Models"),
    ActionSpec("app.annotator", "Switch annotator", ("Ctrl+Shift+A",), "Project"),
    ActionSpec("app.help", "Keyboard shortcuts", ("F1", "?"), "Project"),
    ActionSpec("jobs.train", "Train model…", ("Ctrl+Shift+T",), "Jobs"),
    ActionSpec("jobs.analyze", "Analyse the project (faces, audio) in the background", (), "Jobs"),
)
SPEC_BY_ID = {s.id: s for s in SPECS}
SETTINGS_GROUP = "shortcuts"
NATIVE = QKeySequence.SequenceFormat.NativeText
PORTABLE = QKeySequence.SequenceFormat.PortableText


def key_name(key: QKeySequence | str) -> str:
    """A key as the core keymap spells it ("A", "Shift+Left"), from Qt's or a scheme's spelling."""
    text = key.toString(PORTABLE) if isinstance(key, QKeySequence) else QKeySequence(key).toString(PORTABLE) or key
    return normalize_key(text)


def shown(keys: list[str]) -> str:
    """Keys as the user reads them (the platform's spelling), comma-separated."""
    return ", ".join(QKeySequence(k).toString(NATIVE) or k for k in keys)


def stored_keys(action_id: str) -> list[str]:
    """The keys the user gave ``action_id`` (QSettings), else its defaults — before any clash is resolved."""
    stored = QSettings().value(f"{SETTINGS_GROUP}/{action_id}")
    texts = SPEC_BY_ID[action_id].keys if stored is None else [k for k in str(stored).split(";") if k]
    return [key_name(k) for k in texts]


class Shortcuts:
    """The keymap owner: the window's QActions keyed by spec id, the user's own keys, and the keys of the
    project's label schemes, resolved together by ``core.keymap`` so that no key does two things at once.

    A scheme key (class, score or rating key) keeps its key; an action that loses its key to one moves to
    Shift+key (or keeps its other keys) and the status bar says so. A key the user assigns that would clash
    is refused (``set_keys`` returns what it collides with). ``would_clash`` answers the same question for a
    scheme editor.
    """

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.actions: dict[str, QAction] = {}
        self.schemes: list[model.LabelScheme] = []
        self.keymap: Keymap = Keymap()
        self._told: list[str] = []
        self._resolve()

    # -- the keymap ----------------------------------------------------------------------------------

    def action_bindings(self) -> list[Binding]:
        return [Binding(key, spec.id, spec.text, GLOBAL) for spec in SPECS for key in stored_keys(spec.id)]

    def scheme_bindings(self) -> list[Binding]:
        return [b for s in self.schemes for b in scheme_bindings(s)]

    def _resolve(self) -> None:
        self.keymap = resolve(self.scheme_bindings(), self.action_bindings())

    def set_schemes(self, schemes: Iterable[model.LabelScheme]) -> None:
        """The project's label schemes (on open, or after a scheme changed): re-resolve and re-apply."""
        self.schemes = sorted(schemes, key=lambda s: s.name)
        self.apply()

    def apply(self) -> None:
        """Resolve the keymap again, give every bound action its keys, and tell the user what moved."""
        self._resolve()
        for action_id, action in self.actions.items():
            action.setShortcuts(self.keys(action_id))
            self._tooltip(action, SPEC_BY_ID[action_id].text)
        news = [m for m in self.keymap.messages() if m not in self._told]
        self._told = self.keymap.messages()
        if news:
            reporter.notice("Keys: " + "; ".join(news))

    def would_clash(self, key: QKeySequence | str, context: Context = GLOBAL, *,
                    action_id: str | None = None) -> list[Binding]:
        """What key ``key`` in ``context`` would collide with (``action_id``'s own keys aside); empty: free."""
        return self.keymap.would_clash(key_name(key), context, action=action_id)

    def conflicts(self) -> list[str]:
        """What the keymap had to change or cannot change, one sentence each (empty when all is clean)."""
        return self.keymap.messages()

    def remaps(self, action_id: str) -> list[Remap]:
        return [r for r in self.keymap.remaps if r.action == action_id]

    # -- actions -------------------------------------------------------------------------------------

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
        keys = ", ".join(k.toString(NATIVE) for k in action.shortcuts())
        action.setToolTip(f"{text} ({keys})" if keys else text)

    def keys(self, action_id: str) -> list[QKeySequence]:
        """The keys ``action_id`` answers to now (after clashes were resolved)."""
        return [QKeySequence(k) for k in self.keymap.keys_of(action_id)]

    def key_text(self, action_id: str) -> str:
        """The keys ``action_id`` answers to now, as the user reads them ("Shift+A")."""
        return shown(self.keymap.keys_of(action_id))

    def set_keys(self, action_id: str, keys: list[QKeySequence]) -> list[Binding]:
        """Give ``action_id`` these keys, unless one is taken: then nothing changes and the bindings it
        collides with are returned (the caller names them to the user)."""
        names = [key_name(k) for k in keys if not k.isEmpty()]
        taken = [b for name in names for b in self.would_clash(name, action_id=action_id)]
        if taken:
            return taken
        QSettings().setValue(f"{SETTINGS_GROUP}/{action_id}",
                             ";".join(QKeySequence(n).toString(PORTABLE) for n in names))
        self.apply()
        return []

    def reset(self, action_id: str) -> list[Binding]:
        """Back to the default keys, unless another action has taken one since: then, as ``set_keys``,
        nothing changes and what holds the key is returned."""
        taken = [b for k in SPEC_BY_ID[action_id].keys for b in self.would_clash(k, action_id=action_id)]
        if taken:
            return taken
        QSettings().remove(f"{SETTINGS_GROUP}/{action_id}")
        self.apply()
        return []

    def trigger(self, action_id: str) -> None:
        self.actions[action_id].trigger()
