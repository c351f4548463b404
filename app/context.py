"""What the panels and actions of an open project may use, instead of the whole main window.

Before this, panels were built by free functions that took the window and reached into it (``win.ws``,
``win.bench.live``, ``win.docks[...]``) and some added attributes to it. A panel factory now gets one
``AppContext``: the workspace (state and edits), the playback (time), the keymap (keys), the job runner and
the workbench's editors, plus the few window services a panel may ask for (open a session, show a dock).
A test can build a panel from a context without a window, and what a panel depends on is written down here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget, QWidget

    from dyadlab.app.playback import Playback
    from dyadlab.app.shortcuts import Shortcuts
    from dyadlab.app.workbench import Workbench
    from dyadlab.app.workspace import Workspace
    from dyadlab.core.jobs import JobRunner


@dataclass
class AppContext:
    """One per open project; owned by the main window, dropped when the project closes."""

    workspace: Workspace
    playback: Playback
    keymap: Shortcuts
    jobs: JobRunner
    bench: Workbench  # the rater, key coder, keypoint editor and live controller of the open session
    open_session: Callable[[int], None]
    parent: QWidget  # the window, as the parent of dialogs a panel opens
    docks: dict[str, QDockWidget] = field(default_factory=dict)  # filled by the dock table

    def jump_to(self, session_id: int, t_us: int) -> None:
        """Show ``session_id`` (opening it when another one is shown) at ``t_us``."""
        if self.workspace.session is None or self.workspace.session.id != session_id:
            self.open_session(session_id)
        self.playback.seek(t_us)

    def show_dock(self, key: str) -> QDockWidget:
        """Bring a dock to the front (built if it is lazy); returns it."""
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        return dock
