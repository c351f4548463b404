"""Errors in the GUI are caught, logged and shown; they never kill the app in the middle of an edit.

Three nets: ``guarded`` wraps slots and event handlers that run user actions; ``ErrorReporter.report``
is what they (and the undo commands) call; ``install_excepthook`` catches whatever still escapes
into Qt's event loop. A ``DyadLabError`` is the user's to fix (locked database, bad file) and is shown
as a plain message; anything else is a bug and is shown with its traceback and logged. The message
box is non-modal (``open()``), so a failing slot never blocks the event loop or a test.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtWidgets import QMessageBox, QWidget

from dyadlab.core.errors import DyadLabError

log = logging.getLogger("dyadlab.app")
F = TypeVar("F", bound=Callable[..., Any])


class ErrorReporter:
    """Shows errors to the user; remembers the last few for the status bar and for tests."""

    def __init__(self) -> None:
        self.parent: QWidget | None = None
        self.history: list[str] = []
        self.show_dialogs = True
        self._box: QMessageBox | None = None
        self.status: Callable[[str], None] | None = None  # the main window's status bar

    def notice(self, text: str) -> None:
        """A refusal the user just needs to read (status bar, no dialog): 'select a segment first'."""
        log.info("%s", text)
        self.history = [*self.history[-19:], text]
        if self.status is not None:
            self.status(text)

    @property
    def last(self) -> str | None:
        return self.history[-1] if self.history else None

    def report(self, exc: BaseException, title: str = "DyadLab") -> None:
        from dyadlab.core.edits import EditRefused  # here, not at import: keeps start-up light

        if isinstance(exc, EditRefused):
            self.notice(f"{title}: {exc}")
            return
        if isinstance(exc, DyadLabError):
            log.warning("%s: %s", title, exc)
            text, details = str(exc), None
        else:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            log.error("%s: unexpected error\n%s", title, details)
            text = f"Unexpected error: {type(exc).__name__}: {exc}\n\nYour saved work is safe; the action was not completed."
        self.history = [*self.history[-19:], text]
        if self.show_dialogs and self.parent is not None:
            self._show(title, text, details)

    def _show(self, title: str, text: str, details: str | None) -> None:
        if self.dialog is not None:
            self._box.close()
        if not _alive(self.parent):
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.parent)
        if details:
            box.setDetailedText(details)
        box.setObjectName("ErrorDialog")
        box.open()
        self._box = box

    @property
    def dialog(self) -> QMessageBox | None:
        """The error message box while it is open."""
        return self._box if _alive(self._box) and self._box.isVisible() else None


def _alive(widget: QWidget | None) -> bool:
    """False for None and for a widget whose C++ side Qt already deleted (a closed window)."""
    return widget is not None and shiboken6.isValid(widget)


reporter = ErrorReporter()


# What ``guarded`` copies from the function it wraps: all that ``functools.wraps`` copies but ``__doc__``.
# The slot is often a PySide method, whose docstring PySide builds on first read from its signature
# database; the first such read in a process loads that database (~0.1 s of opening a project).
WRAPPER_ASSIGNMENTS = tuple(name for name in functools.WRAPPER_ASSIGNMENTS if name != "__doc__")


def guarded(title: str) -> Callable[[F], F]:
    """Decorator for slots: an exception is reported (logged + shown) instead of escaping to Qt."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn, assigned=WRAPPER_ASSIGNMENTS)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - this is the net
                reporter.report(exc, title)
                return None

        return inner  # type: ignore[return-value]

    return wrap


def install_excepthook() -> None:
    """Route exceptions that escape into the Qt event loop to the reporter (the app keeps running)."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        reporter.report(exc.with_traceback(tb), "Unexpected error")

    sys.excepthook = hook
