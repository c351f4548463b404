"""From an empty window without a terminal: the start page, File ▸ New / Open recent / demo / Close, and a
new project made by importing a folder that has bad files (every bad file named, nothing left behind)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from dyadlab.app import file_menu
from dyadlab.app.dialogs.new_project_dialog import NewProjectDialog
from dyadlab.app.start_page import StartPage
from dyadlab.core.media.synthetic_scene import Recorder, write_scene
from tests.app.modal_driver import accept_annotator, answer_next_modal, empty_main_window

pytestmark = pytest.mark.gui


@pytest.fixture
def empty_window(qtbot):
    return empty_main_window(qtbot)


def _fill_new_project(folder: Path, media: Path | None = None):
    def respond(dialog: NewProjectDialog) -> None:
        dialog.folder.setText(str(folder))
        if media is not None:
            dialog.media.setText(str(media))
        dialog.ok.click()

    return answer_next_modal(respond, kind=NewProjectDialog)


def _menu_texts(menu) -> list[str]:
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def test_empty_window_offers_new_open_demo_and_a_file_menu(empty_window):
    win = empty_window
    assert isinstance(win.centralWidget(), StartPage)
    (file,) = [a.menu() for a in win.menuBar().actions()]
    texts = _menu_texts(file)
    assert texts[:4] == ["New project…", "Open project…", "Open recent", "Open the demo project"]
    assert {"Import", "Export", "Close project"} <= set(texts)
    assert not win.file_actions.close.isEnabled()
    assert not win.file_actions.imports["folder"].isEnabled()


def test_new_project_close_and_reopen_from_recent(qtbot, empty_window, tmp_path):
    win = empty_window
    root = tmp_path / "study"
    _fill_new_project(root)
    accept_annotator("alice")
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.project is not None, timeout=10_000)
    assert (root / "dyadlab.sqlite").exists() and win.annotator == "alice"
    assert win.file_actions.close.isEnabled()
    file = win.menuBar().actions()[0].menu()
    assert "Import" in _menu_texts(file) and "Switch annotator" in " ".join(_menu_texts(file))

    win.file_actions.close.trigger()
    assert win.project is None and isinstance(win.centralWidget(), StartPage)
    page = win.centralWidget()
    item = page.recent.item(0)
    assert item.text().startswith("study") and item.flags() & Qt.ItemFlag.ItemIsEnabled

    accept_annotator("alice")
    page.recent.itemActivated.emit(item)  # double-click
    qtbot.waitUntil(lambda: win.project is not None, timeout=10_000)
    assert win.project.root.resolve() == root.resolve()


def test_a_moved_project_is_greyed_with_the_reason(qtbot, empty_window, tmp_path):
    win = empty_window
    root = tmp_path / "gone"
    _fill_new_project(root)
    accept_annotator()
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.project is not None, timeout=10_000)
    win.file_actions.close.trigger()
    shutil.rmtree(root)
    from PySide6.QtWidgets import QMenu

    recent = QMenu()
    win.file_actions.fill_recent(recent)
    (action,) = recent.actions()
    assert "folder not found" in action.text() and not action.isEnabled()
    win._show_start_page()
    item = win.centralWidget().recent.item(0)
    assert "folder not found" in item.text() and not item.flags() & Qt.ItemFlag.ItemIsEnabled


def test_new_project_from_a_folder_with_bad_files_names_them_all_and_leaves_nothing(qtbot, empty_window, tmp_path):
    win = empty_window
    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 3.0), Recorder("A", 0.2, 2.0, fps=25)], seed=2)
    (media / "B.mp4").write_bytes(b"")
    (media / "wide.mp4").write_bytes(b"junk")
    root = tmp_path / "from_media"
    shown: list = []
    _fill_new_project(root, media)
    answer_next_modal(lambda box: (shown.append(box.text()), box.accept()), kind=QMessageBox)
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    text = shown[0]
    assert "B.mp4" in text and "wide.mp4" in text
    assert not root.exists() and win.project is None


def test_new_project_from_a_good_folder_opens_with_its_session(qtbot, empty_window, tmp_path):
    win = empty_window
    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 3.0), Recorder("A", 0.2, 2.0, fps=25)], seed=2)
    _fill_new_project(tmp_path / "p", media)
    accept_annotator()
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.project is not None, timeout=20_000)
    assert win.ws.data is not None and win.ws.data.session.name == "pair01"


def test_a_recording_given_to_the_app_offers_a_new_project_importing_its_folder(qtbot, empty_window, tmp_path):
    """The desktop entry runs ``dyadlab gui %f``; a file manager hands it a recording, not a project."""
    win = empty_window
    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 3.0), Recorder("A", 0.2, 2.0, fps=25)], seed=2)
    asked: list[str] = []
    filled: list[tuple[str, str]] = []

    def answer(box: QMessageBox) -> None:
        asked.append(box.text())
        next(b for b in box.buttons() if b.text() == "New project…").click()

    def create(dialog: NewProjectDialog) -> None:
        filled.append((dialog.folder.text(), dialog.media.text()))
        dialog.ok.click()

    answer_next_modal(answer, kind=QMessageBox)
    answer_next_modal(create, kind=NewProjectDialog)
    accept_annotator()
    win.file_actions.open_given(media / "A.mp4")
    qtbot.waitUntil(lambda: win.project is not None, timeout=20_000)
    assert "A.mp4 is a recording, not a DyadLab project" in asked[0] and "2 recordings" in asked[0]
    assert filled == [(str(tmp_path / "media" / "pair01-dyadlab"), str(media))]
    assert win.project.root == tmp_path / "media" / "pair01-dyadlab"
    assert win.ws.data is not None and win.ws.data.session.name == "pair01"


def test_a_project_database_given_to_the_app_opens_its_project(qtbot, empty_window, tmp_path):
    from dyadlab.core.project import DB_NAME, create_project

    create_project(tmp_path / "p").close()
    accept_annotator()
    empty_window.file_actions.open_given(tmp_path / "p" / DB_NAME)
    assert empty_window.project is not None and empty_window.project.root == tmp_path / "p"


def test_demo_project_is_built_once_then_opened(qtbot, empty_window, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    win = empty_window
    monkeypatch.setattr(file_menu, "DEMO_SESSIONS", 1)
    monkeypatch.setattr(file_menu, "DEMO_SECONDS", 5.0)
    QSettings().setValue(file_menu.DEMO_FOLDER_KEY, str(tmp_path / "demo"))
    accept_annotator()
    win.file_actions.demo.trigger()
    assert win.file_actions.task is not None and win.file_actions.task.running
    qtbot.waitUntil(lambda: win.project is not None, timeout=60_000)
    assert (tmp_path / "demo" / "dyadlab.sqlite").exists()
    win.file_actions.close.trigger()
    accept_annotator()
    win.file_actions.demo.trigger()  # already built: opens at once
    assert win.project is not None


def test_building_the_demo_can_be_cancelled_and_leaves_nothing(qtbot, empty_window, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QPushButton

    from dyadlab.app.errors import reporter

    win = empty_window
    monkeypatch.setattr(file_menu, "DEMO_SESSIONS", 2)
    monkeypatch.setattr(file_menu, "DEMO_SECONDS", 30.0)  # long enough to still be building when we cancel
    QSettings().setValue(file_menu.DEMO_FOLDER_KEY, str(tmp_path / "demo"))
    win.file_actions.demo.trigger()
    task = win.file_actions.task
    qtbot.waitUntil(lambda: (tmp_path / "demo").exists() and task.dialog.labelText() != task.dialog.windowTitle(),
                    timeout=30_000)  # under way: it has written something and said what it is doing
    cancel = task.dialog.findChild(QPushButton)
    assert cancel is not None and cancel.text() == "Cancel"
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not task.running, timeout=60_000)
    assert win.project is None
    assert not (tmp_path / "demo").exists()  # a half-built demo would later open as a broken project
    assert reporter.last == "Demo project: cancelled"  # said in the status bar, no error box
    win.file_actions.demo.trigger()  # and it can be built afterwards: not left half-marked as built
    assert win.file_actions.task is not task and win.file_actions.task.running
    win.file_actions.task.cancel()
    qtbot.waitUntil(lambda: not win.file_actions.task.running, timeout=60_000)


def test_import_a_folder_into_the_open_project_is_a_job_and_the_project_is_re_read(qtbot, empty_window, tmp_path,
                                                                                     monkeypatch):
    from dyadlab.app.dialogs import choosers
    from dyadlab.core.jobs.status import FINAL_STATES

    win = empty_window
    first = tmp_path / "media" / "pair01"
    write_scene(first, [Recorder("mix", 0.0, 3.0), Recorder("A", 0.2, 2.0, fps=25)], seed=2)
    second = tmp_path / "more" / "pair02"
    write_scene(second, [Recorder("mix", 0.0, 3.0), Recorder("B", 0.1, 2.0, fps=25)], seed=3)
    _fill_new_project(tmp_path / "p", first)
    accept_annotator()
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.ws is not None and win.ws.data is not None, timeout=20_000)
    monkeypatch.setattr(choosers, "choose_folder", lambda *_a, **_k: str(second))
    before = win.ws
    job_id = win.file_actions.imports["folder"].trigger() or max(j.id for j in win.jobs.list())
    assert win.docks["Jobs"].isVisible()
    qtbot.waitUntil(lambda: win.jobs is not None and win.jobs.get(job_id).state in FINAL_STATES, timeout=60_000)
    assert win.jobs.get(job_id).state == "succeeded", win.jobs.log_tail(job_id)
    qtbot.waitUntil(lambda: win.ws is not None and win.ws is not before, timeout=10_000)  # re-read at the end
    assert len(win._session_ids()) == 2 and win.annotator == "alice"


def test_new_project_offers_to_import_the_rest_when_files_are_bad(qtbot, empty_window, tmp_path):
    win = empty_window
    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 3.0), Recorder("A", 0.2, 2.0, fps=25)], seed=2)
    (media / "B.mp4").write_bytes(b"")
    root = tmp_path / "rest"
    said: list[str] = []

    def report_read(box) -> None:
        said.append(box.text())
        accept_annotator()
        box.accept()

    def import_the_rest(box) -> None:
        said.append(box.text())
        answer_next_modal(report_read, kind=QMessageBox)
        next(b for b in box.buttons() if b.text().startswith("Import the rest")).click()

    _fill_new_project(root, media)
    answer_next_modal(import_the_rest, kind=QMessageBox)
    win.file_actions.new.trigger()
    qtbot.waitUntil(lambda: win.ws is not None and win.ws.data is not None, timeout=30_000)
    assert "B.mp4" in said[0] and "skipped B.mp4" in said[1]
    assert [v.name for v in win.ws.data.views] == ["A"]
