"""Answer the modal dialogs a menu action opens (annotator name, new project form, message boxes).

A modal dialog runs its own event loop inside the action that opened it, so a test cannot click it after
triggering the action: ``answer_next_modal`` arms a timer that waits for the next modal dialog to appear and
hands it to ``respond`` (which fills fields and accepts it). The timer stops once it has answered.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget


def answer_next_modal(respond: Callable[[QWidget], None], *, kind: type | None = None,
                      seen: list | None = None) -> QTimer:
    timer = QTimer(QApplication.instance())
    timer.setInterval(20)
    answered = [] if seen is None else seen

    def check() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or (kind is not None and not isinstance(dialog, kind)):
            return
        timer.stop()
        timer.deleteLater()
        answered.append(dialog)
        try:
            respond(dialog)
        except BaseException:
            dialog.close()  # a failing answer must not leave the test waiting on a modal dialog forever
            raise

    timer.timeout.connect(check)
    timer.start()
    return timer


def accept_annotator(name: str = "alice") -> QTimer:
    from dyadlab.app.dialogs.annotator_dialog import AnnotatorDialog

    def respond(dialog: QWidget) -> None:
        dialog.name.setCurrentText(name)
        dialog.accept()

    return answer_next_modal(respond, kind=AnnotatorDialog)


def empty_main_window(qtbot, size: tuple[int, int] = (1500, 950)):
    """A main window with no project (the start page), shown; pytest-qt closes it after the test."""
    from dyadlab.app.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win
