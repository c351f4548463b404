"""Menus and toolbars of the main window, built from the bound actions.

Separate from ``main_window`` so the window stays a thin shell: this module only arranges things
(which action goes in which menu); every action was bound by ``action_table``, and the docks come from
``docks/dock_table``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QToolBar

from dyadlab.app.docks.dock_table import reset_layout
from dyadlab.app.timeline.audio_display import add_spectrogram_toggle
from dyadlab.app.transport import TransportBar
from dyadlab.app.workspace import ALL_ANNOTATORS

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow

MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("edit.save", None, "app.annotator")),
    ("&Edit", ("edit.undo", "edit.redo", None, "edit.new", "edit.split", "edit.merge", "edit.delete",
               "edit.deselect", None, "tier.previous", "tier.next", "edit.schemes")),
    ("&Playback", ("play.toggle", "play.step_back", "play.step_forward", "play.back_10", "play.forward_10",
                   "play.prev_segment", "play.next_segment", None, "play.slower", "play.faster", "play.normal",
                   "play.loop", None, "play.start", "play.end")),
    ("&Annotate", ("rate.record", None, "kp.mode", "kp.copy_previous", "kp.interpolate", "kp.interpolate_all",
                   "kp.visible", "kp.remove")),
    ("&View", ("view.layout", "view.next", None, "view.zoom_in", "view.zoom_out", "view.fit", None, "view.theme")),
    ("&Jobs", ("jobs.train", "jobs.analyze")),
    ("&Help", ("app.help",)),
)


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


def _add_media_menu(win: MainWindow, before: QMenu) -> None:
    """Media ▸ Make proxies for this session, and its status-bar hint (``proxy_hint``), before ``before``."""
    from dyadlab.app.proxy_hint import ProxyAdvisor

    old = getattr(win, "proxies", None)
    if old is not None:
        old.dispose()
    win.proxies = ProxyAdvisor(win)
    bar = win.menuBar()
    menu = QMenu("&Media", bar)
    bar.insertMenu(before.menuAction(), menu)
    menu.addAction(win.proxies.action)


def _add_dock_toggles(win: MainWindow, view_menu: QMenu) -> None:
    """View ▸ one check item per dock, and Reset layout (the dock table's default arrangement)."""
    view_menu.addSeparator()
    for dock in win.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    reset = QAction("Reset layout", view_menu)
    reset.setObjectName("view.reset_layout")
    reset.triggered.connect(lambda: reset_layout(win, win.docks))
    view_menu.addAction(reset)


def build_menus(win: MainWindow) -> None:
    bar = win.menuBar()
    bar.clear()
    acts = win.shortcuts.actions
    menus: dict[str, QMenu] = {}
    for title, ids in MENUS:
        menu = menus[title] = bar.addMenu(title)
        for action_id in ids:
            menu.addSeparator() if action_id is None else menu.addAction(acts[action_id])
    win.file_actions.fill(menus["&File"])  # New, Open, Open recent, Import, Export, Close (file_menu)
    menus["&Jobs"].addAction(win.file_actions.analyze)  # what / which sessions / face size, as a job
    _add_media_menu(win, before=menus["&Jobs"])
    add_spectrogram_toggle(win, menus["&View"])  # View ▸ Spectrograms on audio tracks
    _add_dock_toggles(win, menus["&View"])
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
    win.tools.addAction(acts["edit.schemes"])  # add, rename and reorder tiers; edit their schemes
    refresh_compare(win)
    win.ws.session_opened.connect(lambda: refresh_compare(win))
