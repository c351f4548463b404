"""The window gives back the layout the user left (issue 18, item 2) and its default arrangement comes
from one dock table with no elided tab titles (the "Structure" part).

Reopening the project, or File > Switch annotator, used to restore a layout whose video + timeline area was
~330 px wide instead of ~960, with a window taller than the screen: the dock state was applied to a window
that had not been laid out yet.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTabBar

from dyadlab.app.docks.dock_table import DOCKS
from dyadlab.app.layout_memory import settings_group
from dyadlab.app.main_window import MainWindow

pytestmark = pytest.mark.gui


def _new_window(qtbot, width: int = 1600, height: int = 1000) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    return window


def _settled(qtbot) -> None:
    qtbot.wait(50)  # queued layout passes and lazy panels


def assert_within_screen(window: MainWindow) -> None:
    area = window.screen().availableGeometry()
    assert area.contains(window.frameGeometry()), (window.frameGeometry(), area)


def test_reopen_and_switch_annotator_give_back_the_layout(qtbot, demo_project_copy, monkeypatch) -> None:
    first = _new_window(qtbot)
    first.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    width = first.centralWidget().width()
    assert width > 800
    first.close()

    again = _new_window(qtbot)
    again.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    assert again.centralWidget().width() == pytest.approx(width, rel=0.05)
    assert_within_screen(again)

    monkeypatch.setattr("dyadlab.app.dialogs.annotator_dialog.ask_annotator", lambda names, parent: "bob")
    again.switch_annotator()
    _settled(qtbot)
    assert again.annotator == "bob"
    assert again.centralWidget().width() == pytest.approx(width, rel=0.05)
    assert_within_screen(again)
    again.close()


def test_a_window_saved_larger_than_the_screen_opens_within_it(qtbot, demo_project_copy) -> None:
    window = _new_window(qtbot)
    window.open_project(demo_project_copy, annotator="alice")
    area = window.screen().availableGeometry()
    window.resize(area.width() + 300, area.height() + 400)  # e.g. saved on a larger monitor
    window.close()
    again = _new_window(qtbot, 900, 700)
    again.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    assert_within_screen(again)
    again.close()


def test_a_state_saved_with_other_docks_is_dropped_whole(qtbot, demo_project_copy) -> None:
    window = _new_window(qtbot)
    window.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    default_width = window.centralWidget().width()
    window.close()
    group = settings_group(demo_project_copy)
    settings = QSettings()
    settings.setValue(f"{group}/state", _state_of_a_window_with_one_dock(qtbot))  # an older dock set
    settings.sync()
    again = _new_window(qtbot)
    again.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    assert again.centralWidget().width() == pytest.approx(default_width, rel=0.05)
    assert all(again.dockWidgetArea(again.docks[s.key]).value != 0 for s in DOCKS)  # every dock docked
    again.close()


def _state_of_a_window_with_one_dock(qtbot):
    from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

    other = QMainWindow()
    qtbot.addWidget(other)
    other.setCentralWidget(QLabel("old"))
    dock = QDockWidget("Project", other)
    dock.setObjectName("ProjectDock")
    dock.setWidget(QLabel("wide"))
    other.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    other.resize(1600, 1000)
    other.show()
    other.resizeDocks([dock], [1200], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    return other.saveState()


def test_default_arrangement_has_groups_and_no_elided_tab(qtbot, demo_project_copy) -> None:
    window = _new_window(qtbot, 1600, 1000)
    window.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    assert set(window.docks) == {s.key for s in DOCKS}
    for spec in DOCKS:
        tabbed = [d.objectName() for d in window.tabifiedDockWidgets(window.docks[spec.key])]
        same_group = {f"{s.key}Dock" for s in DOCKS if s.group == spec.group}
        assert set(tabbed) <= same_group, (spec.key, tabbed)
    bars = [bar for bar in window.findChildren(QTabBar) if bar.isVisible() and bar.count() > 1]
    assert bars, "the groups are tab stacks"
    for bar in bars:
        for i in range(bar.count()):
            assert bar.tabRect(i).width() >= bar.tabSizeHint(i).width(), f"tab {bar.tabText(i)!r} is elided"
    window.close()


def test_view_menu_resets_the_layout(qtbot, demo_project_copy) -> None:
    window = _new_window(qtbot, 1600, 1000)
    window.open_project(demo_project_copy, annotator="alice")
    _settled(qtbot)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    reset = next(a for a in view.actions() if a.text() == "Reset layout")
    reset.trigger()  # the default arrangement with every panel built (their minimum sizes count)
    _settled(qtbot)
    width, palette = window.centralWidget().width(), window.docks["Palette"].width()
    window.docks["Project"].setFloating(True)
    window.docks["Live"].hide()
    window.resizeDocks([window.docks["Palette"]], [700], Qt.Orientation.Horizontal)
    _settled(qtbot)
    assert window.centralWidget().width() < 0.8 * width
    reset.trigger()
    _settled(qtbot)
    assert not window.docks["Project"].isFloating() and window.docks["Live"].isVisible()
    assert window.dockWidgetArea(window.docks["Project"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.centralWidget().width() == pytest.approx(width, rel=0.05)
    assert window.docks["Palette"].width() == pytest.approx(palette, rel=0.05)
    window.close()
