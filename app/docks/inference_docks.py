"""The model docks of the window (Live, Inspector, Assist) and their keys, built in one call.

Why one module: the main window and ``menus`` stay thin (one line calls this), and what connects the model
panels to the clock and the sessions — jumping to a session and time — is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QWidget

from dyadlab.app.docks.assist_dock import AssistPanel
from dyadlab.app.docks.inspector_dock import InspectorPanel
from dyadlab.app.docks.live_dock import LivePanel

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow

# the panel, or a callable that builds it when the dock is first shown (see lazy_dock)
AddDock = Callable[["MainWindow", str, str, QWidget | Callable[[], QWidget], Qt.DockWidgetArea], QDockWidget]


def jump_to(win: MainWindow, session_id: int, t_us: int) -> None:
    """Show ``session_id`` (opening it when another one is shown) at ``t_us``."""
    if win.ws.session is None or win.ws.session.id != session_id:
        win.open_session(session_id)
    win.bench.playback.seek(t_us)


def build_inference_docks(win: MainWindow, add_dock: AddDock) -> None:
    """Live, Inspector and Assist panels, tabbed on the right, plus their keyboard actions."""
    right = Qt.DockWidgetArea.RightDockWidgetArea
    live = LivePanel(win.bench.live)
    win.bench.live.refresh_models()
    docks = [add_dock(win, "Live", "Live inference", live, right),
             add_dock(win, "Inspector", "Prediction inspector",
                      lambda: InspectorPanel(win.ws, lambda sid, t: jump_to(win, sid, t)), right),
             add_dock(win, "Assist", "Model proposals", lambda: AssistPanel(win.ws, win.bench.playback.seek), right)]
    for dock in docks[1:]:
        win.tabifyDockWidget(docks[0], dock)
    docks[0].raise_()
    bind = win.shortcuts.bind
    inspector, assist = docks[1], docks[2]  # their panels are built on first use: a key press builds them too
    bind("inspect.next", lambda: inspector.widget().step(1))
    bind("inspect.previous", lambda: inspector.widget().step(-1))
    bind("assist.accept", lambda: assist.widget().accept())
    bind("assist.edit", lambda: assist.widget().accept(select=True))
    bind("assist.reject", lambda: assist.widget().reject())
