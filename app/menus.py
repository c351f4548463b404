"""Menus, toolbars and docks of the main window, built from the bound actions.

Separate from ``main_window`` so the window stays a thin shell: this module only arranges things
(which action goes in which menu, which panel docks where); every action was bound by
``action_table`` and every panel is its own module under ``docks/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMenu, QToolBar, QWidget

from dyadlab.app.docks.agreement_dock import add_agreement_dock
from dyadlab.app.docks.inference_docks import build_inference_docks
from dyadlab.app.docks.job_control import job_panels
from dyadlab.app.docks.keypoint_dock import KeypointPanel
from dyadlab.app.docks.lazy_dock import LazyDock, built_panel
from dyadlab.app.docks.palette_dock import PalettePanel
from dyadlab.app.docks.participant_dock import ParticipantPanel
from dyadlab.app.docks.project_dock import ProjectBrowser
from dyadlab.app.docks.rating_dock import RatingPanel
from dyadlab.app.transport import TransportBar
from dyadlab.app.workspace import ALL_ANNOTATORS

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow

MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("edit.save", None, "app.annotator")),
    ("&Edit", ("edit.undo", "edit.redo", None, "edit.new", "edit.split", "edit.merge", "edit.delete",
               "edit.deselect", None, "tier.previous", "tier.next")),
    ("&Playback", ("play.toggle", "play.step_back", "play.step_forward", "play.back_10", "play.forward_10",
                   "play.prev_segment", "play.next_segment", None, "play.slower", "play.faster", "play.normal",
                   "play.loop", None, "play.start", "play.end")),
    ("&Annotate", ("rate.record", None, "kp.mode", "kp.copy_previous", "kp.interpolate", "kp.remove")),
    ("&View", ("view.layout", "view.next", None, "view.zoom_in", "view.zoom_out", "view.fit", None, "view.theme")),
    ("&Jobs", ("jobs.train", "jobs.analyze")),
    ("&Help", ("app.help",)),
)


def _dock(win: MainWindow, key: str, title: str, widget: QWidget | Callable[[], QWidget],
          area: Qt.DockWidgetArea) -> QDockWidget:
    """Add a dock; given a callable instead of a panel, the panel is built when first shown (``LazyDock``)."""
    if isinstance(widget, QWidget):
        dock = QDockWidget(title, win)
        dock.setWidget(widget)
    else:
        dock = LazyDock(title, win, widget)
    dock.setObjectName(f"{key}Dock")
    win.addDockWidget(area, dock)
    win.docks[key] = dock
    return dock


def build_docks(win: MainWindow) -> None:
    ws, bench = win.ws, win.bench
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    browser = ProjectBrowser(ws)
    browser.open_session.connect(win.open_session)
    _dock(win, "Project", "Project", browser, left)
    participants = _dock(win, "Participants", "Participants", lambda: ParticipantPanel(ws), left)
    palette = _dock(win, "Palette", "Label palette", PalettePanel(ws), right)
    rating = _dock(win, "Rating", "Continuous rating", RatingPanel(ws, bench.rater), right)

    def keypoint_panel() -> KeypointPanel:
        panel = KeypointPanel(bench.keypoints, bench.focused_view)
        panel.bind(win.shortcuts.actions)
        return panel

    def sync_keypoints(_t: int) -> None:
        panel = built_panel(keypoints)
        if panel is not None and bench.keypoints.enabled:
            panel.sync()

    keypoints = _dock(win, "Keypoints", "Keypoints", keypoint_panel, right)
    bench.playback.time_changed.connect(sync_keypoints)
    win.splitDockWidget(palette, rating, Qt.Orientation.Vertical)
    win.tabifyDockWidget(rating, keypoints)
    for key, title, panel in job_panels(win):
        win.tabifyDockWidget(keypoints, _dock(win, key, title, panel, right))
    rating.raise_()
    win.tabifyDockWidget(win.docks["Project"], participants)
    win.docks["Project"].raise_()
    build_inference_docks(win, _dock)
    add_agreement_dock(win, _dock)



def size_docks(win: MainWindow) -> None:
    """Default proportions (used until the user's own layout is remembered)."""
    width = win.width()
    win.resizeDocks([win.docks["Project"], win.docks["Palette"]], [int(width * 0.2), int(width * 0.19)],
                    Qt.Orientation.Horizontal)
    win.resizeDocks([win.docks["Palette"], win.docks["Rating"]], [150, 400], Qt.Orientation.Vertical)
    win.bench.setSizes([int(win.height() * 0.46), int(win.height() * 0.54)])


def refresh_compare(win: MainWindow) -> None:
    """Fill the "also show" box with the annotators of the project (mine first)."""
    box, ws = win.compare, win.ws
    box.blockSignals(True)
    box.clear()
    box.addItem("only mine", ws.annotator.id)
    for annotator in ws.data.annotators.values() if ws.data else []:
        if annotator.id != ws.annotator.id:
            box.addItem(f"+ {annotator.name} (read-only)", annotator.id)
    box.addItem("+ all annotators", ALL_ANNOTATORS)
    box.setCurrentIndex(max(0, box.findData(ws.shown_annotator_id)))
    box.blockSignals(False)


def _add_media_menu(win: MainWindow) -> None:
    """Media ▸ Make proxies for this session, and its status-bar hint (``proxy_hint``), before the Jobs menu."""
    from dyadlab.app.proxy_hint import ProxyAdvisor

    old = getattr(win, "proxies", None)
    if old is not None:
        old.dispose()
    win.proxies = ProxyAdvisor(win)
    bar = win.menuBar()
    jobs = next(a for a in bar.actions() if a.text() == "&Jobs")
    menu = QMenu("&Media", bar)
    bar.insertMenu(jobs, menu)
    menu.addAction(win.proxies.action)


def build_menus(win: MainWindow) -> None:
    bar = win.menuBar()
    bar.clear()
    acts = win.shortcuts.actions
    for title, ids in MENUS:
        menu = bar.addMenu(title)
        for action_id in ids:
            menu.addSeparator() if action_id is None else menu.addAction(acts[action_id])
    view_menu = bar.actions()[4].menu()
    _add_media_menu(win)
    view_menu.addSeparator()
    for dock in win.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    for old in (getattr(win, "transport", None), getattr(win, "tools", None)):
        if old is not None:
            win.removeToolBar(old)
            old.deleteLater()
    win.transport = TransportBar(acts, win.bench.playback.set_speed, win)
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, win.transport)
    win.tools = QToolBar("Annotators", win)
    win.tools.setObjectName("AnnotatorBar")
    win.tools.addWidget(QLabel("  Tiers: "))
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, win.tools)
    win.compare = QComboBox()
    win.compare.setObjectName("CompareAnnotator")
    win.compare.setToolTip("Also show another annotator's tiers (read-only) under yours")
    win.compare.activated.connect(lambda i: win.ws.show_annotator(win.compare.itemData(i)))
    win.tools.addWidget(win.compare)
    refresh_compare(win)
    win.ws.session_opened.connect(lambda: refresh_compare(win))
