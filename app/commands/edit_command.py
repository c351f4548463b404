"""The one bridge between core edits and Qt's undo stack.

``push_edit`` runs the edit *first* (``Edit.do`` commits or raises). Only an edit that committed is
pushed, so a failed commit (read-only or locked database, a broken rule) is reported and never
appears in the undo history. ``EditCommand`` then only replays: its first ``redo`` (the one
``QUndoStack.push`` makes) is skipped. If a later undo or redo fails to commit, the stack is put back
where the database is, so the history never lies about what is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoCommand

from dyadlab.app.errors import reporter
from dyadlab.core.edits import CompositeEdit, Edit
from dyadlab.core.errors import ConflictError

if TYPE_CHECKING:
    from dyadlab.app.workspace import Workspace

MERGE_ID = 0x0D1AD  # QUndoCommand.id() shared by mergeable commands; merge_key tells passes apart


class EditCommand(QUndoCommand):
    def __init__(self, edit: Edit, workspace: Workspace, merge_key: object | None = None) -> None:
        super().__init__(edit.text)
        self.edit, self.workspace, self.merge_key = edit, workspace, merge_key
        self._skip_redo = True  # push() calls redo(); the edit is already done
        self._skip_undo = False

    def id(self) -> int:
        return MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        """Consecutive chunks of one rating pass become one undo step."""
        if not isinstance(other, EditCommand) or other.merge_key is None or other.merge_key != self.merge_key:
            return False
        self.edit = CompositeEdit(self.edit.text, [self.edit, other.edit])
        return True

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        try:
            self.edit.do(self.workspace.project.store)
        except Exception as exc:  # noqa: BLE001 - reported, and the stack is put back
            reporter.report(exc, f"Could not redo: {self.edit.text}")
            self._skip_undo = True
            QTimer.singleShot(0, self.workspace.undo_stack.undo)
            return
        self.workspace.notify(self.edit.touched())

    def undo(self) -> None:
        if self._skip_undo:
            self._skip_undo = False
            return
        try:
            self.edit.undo(self.workspace.project.store)
        except Exception as exc:  # noqa: BLE001
            reporter.report(exc, f"Could not undo: {self.edit.text}")
            self._skip_redo = True
            QTimer.singleShot(0, self.workspace.undo_stack.redo)
            return
        self.workspace.notify(self.edit.touched())


def push_edit(workspace: Workspace, edit: Edit, merge_key: object | None = None, *,
              on_conflict: Callable[[ConflictError], bool] | None = None) -> bool:
    """Do ``edit`` (commit) and record it for undo; on failure report it and record nothing.

    ``on_conflict`` takes over when someone else changed the segment first (team mode): it decides,
    with the user, what happens instead, and says whether an edit was committed after all.
    """
    try:
        edit.do(workspace.project.store)
    except ConflictError as exc:
        if on_conflict is None:
            reporter.report(exc, f"Could not save: {edit.text}")
            return False
        return on_conflict(exc)
    except Exception as exc:  # noqa: BLE001
        reporter.report(exc, f"Could not save: {edit.text}")
        return False
    workspace.undo_stack.push(EditCommand(edit, workspace, merge_key))
    workspace.notify(edit.touched())
    return True
