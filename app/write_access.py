"""What the window offers to change: the rule table the team server enforces, asked before a control is shown.

Why: on a team project the server refuses any write the account's role does not allow
(``core/store/server_rules.py``), so a control that could only end in "the database server refused this
change" is greyed out instead, its tooltip saying why and which role may. The answer is the same rule
table the server holds (``roles.why_not`` over ``core/store/rules.py``).

On a SQLite project (one user, one file) DyadLab guards only annotation itself (``roles.require`` on
tiers, which ``Workspace.can_edit`` asks); the project's structure — participants, session media, label
schemes — stays editable by whoever opens the file, as before team mode. A window that browses read-only
offers no change anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from dyadlab.core.store.roles import why_not
from dyadlab.core.store.rules import Op

if TYPE_CHECKING:
    from dyadlab.app.workspace import Workspace

def refusal(ws: Workspace, table: str, op: Op = Op.UPDATE, *, columns: Iterable[str] | None = None) -> str | None:
    """None when the user may ``op`` rows of ``table`` (changing ``columns``), else why not, for a tooltip."""
    if ws.annotator.id >= 0 and not ws.project.store.is_server:
        return None  # SQLite: the structure is the file's user's; a browsing window (id < 0) writes nothing
    return why_not(ws.annotator, table, op, columns=columns)


def can_write(ws: Workspace, table: str, op: Op = Op.UPDATE, *, columns: Iterable[str] | None = None) -> bool:
    return refusal(ws, table, op, columns=columns) is None


def can_edit_schemes(ws: Workspace) -> bool:
    """Whether the user may add or change label schemes (team server: admins; SQLite: whoever edits)."""
    return can_write(ws, "label_schemes", Op.UPDATE) and can_write(ws, "label_schemes", Op.INSERT)


def offer(controls: Iterable[QWidget | QAction], why: str | None, tooltip: str = "") -> None:
    """Enable ``controls`` when ``why`` is None, else grey them out with ``why`` as their tooltip (``tooltip``:
    what they show when enabled)."""
    for control in controls:
        control.setEnabled(why is None)
        control.setToolTip(tooltip if why is None else f"Not allowed: {why}")
