"""Edits: every change a user makes to the annotations, as an object that can do and undo itself.

SLEAP models each user action as a command class; we add undo. ``Edit.do(store)`` and
``Edit.undo(store)`` each run in one store transaction and commit before they return, so a
successful edit is already on disk (autosave *is* the commit) and a failed one leaves the database as
it was and raises (``StoreError`` for a locked/read-only database, ``EditRefused`` for a broken rule).
An edit whose ``do`` raised is spent: build a new one. Qt-free on purpose: the GUI wraps edits in
QUndoCommands (``app/commands``), while tests, notebooks and scripts call them directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from dyadlab.core.errors import DyadLabError
from dyadlab.core.store import Store, UnitOfWork

#: What an edit changed, for observers to refresh: ("segments", tier_id), ("series", series_id),
#: ("participant", participant_id).
Touch = tuple[str, int]


class EditRefused(DyadLabError):
    """The edit breaks a rule (read-only tier, another annotator's tier, overlap, unknown value)."""


class Edit(ABC):
    """One undoable change. Subclasses implement ``apply``/``revert`` against an open unit of work."""

    text: str = "Edit"

    def do(self, store: Store) -> None:
        """Apply and commit; raises (and changes nothing) on failure."""
        with store.transaction() as tx:
            self.apply(tx)

    def undo(self, store: Store) -> None:
        """Revert and commit; raises (and changes nothing) on failure."""
        with store.transaction() as tx:
            self.revert(tx)

    @abstractmethod
    def apply(self, tx: UnitOfWork) -> None: ...

    @abstractmethod
    def revert(self, tx: UnitOfWork) -> None: ...

    @abstractmethod
    def touched(self) -> set[Touch]: ...

    def retry(self, versions: Mapping[int, int]) -> Edit:
        """A fresh edit making the same change against the segment versions now stored (``versions``:
        segment id → version), for "apply mine" after a conflict. Edits that cannot conflict refuse."""
        raise EditRefused(f"{self.text!r} cannot be applied again on top of someone else's change")


class CompositeEdit(Edit):
    """Several edits as one transaction and one undo step (split, merge, a whole rating pass)."""

    def __init__(self, text: str, edits: Sequence[Edit]) -> None:
        self.text = text
        self.edits = list(edits)

    def apply(self, tx: UnitOfWork) -> None:
        for edit in self.edits:
            edit.apply(tx)

    def revert(self, tx: UnitOfWork) -> None:
        for edit in reversed(self.edits):
            edit.revert(tx)

    def touched(self) -> set[Touch]:
        return set().union(*(e.touched() for e in self.edits)) if self.edits else set()

    def retry(self, versions: Mapping[int, int]) -> Edit:
        return CompositeEdit(self.text, [e.retry(versions) for e in self.edits])
