"""Editing a participant's attributes (role, age, gender, speaker, free fields) as an undoable edit."""

from __future__ import annotations

from typing import Any

from dyadlab.core.edits.base import Edit, EditRefused, Touch
from dyadlab.core.store import UnitOfWork

FIELDS = ("role", "age", "gender", "speaker", "attributes")


class UpdateParticipant(Edit):
    """Set some of a participant's fields; ``attributes`` (free fields) is replaced as a whole dict."""

    def __init__(self, participant_id: int, text: str = "Edit participant", **changes: Any) -> None:
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise EditRefused(f"a participant has no editable field {sorted(unknown)}")
        if "age" in changes and changes["age"] is not None:
            age = changes["age"]
            if not isinstance(age, int) or not 0 <= age < 150:
                raise EditRefused(f"age must be a whole number of years between 0 and 149, got {age!r}")
        self.participant_id, self.changes, self.text = participant_id, changes, text
        self.before: dict[str, Any] | None = None

    def apply(self, tx: UnitOfWork) -> None:
        current = tx.participants.get(self.participant_id)
        if self.before is None:
            self.before = {k: getattr(current, k) for k in self.changes}
        tx.participants.update(self.participant_id, **self.changes)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.before is not None
        tx.participants.update(self.participant_id, **self.before)

    def touched(self) -> set[Touch]:
        return {("participant", self.participant_id)}
