"""Editing how a session's files sit in it (offset, participant, crop, channel map) as undoable edits.

The session media dialog and ``dyadlab sync --apply`` change a view's or an audio track's placement;
each change is one edit, so Undo puts the file back where it was and the views re-open at the old time.
"""

from __future__ import annotations

from typing import Any, Literal

from dyadlab.core.edits.base import Edit, EditRefused, Touch
from dyadlab.core.store import UnitOfWork

MediaKind = Literal["view", "audio"]
FIELDS: dict[str, set[str]] = {
    "view": {"offset_us", "participant_id", "crop", "name"},
    "audio": {"offset_us", "channel_participants", "name"},
}


class UpdateMediaItem(Edit):
    """Set some fields of one view (``kind="view"``) or audio track (``kind="audio"``)."""

    def __init__(self, kind: MediaKind, item_id: int, text: str | None = None, **changes: Any) -> None:
        if kind not in FIELDS:
            raise EditRefused(f"a session's media are views or audio tracks, not {kind!r}")
        unknown = set(changes) - FIELDS[kind]
        if unknown:
            raise EditRefused(f"a {kind} has no editable field {sorted(unknown)}")
        if "offset_us" in changes and not isinstance(changes["offset_us"], int):
            raise EditRefused(f"an offset is a whole number of microseconds, got {changes['offset_us']!r}")
        self.kind, self.item_id, self.changes = kind, item_id, changes
        self.text = text or (f"Set {kind} offset" if set(changes) == {"offset_us"} else f"Edit {kind}")
        self.before: dict[str, Any] | None = None

    def _repo(self, tx: UnitOfWork):
        return tx.views if self.kind == "view" else tx.audio

    def apply(self, tx: UnitOfWork) -> None:
        current = self._repo(tx).get(self.item_id)
        if self.before is None:
            self.before = {k: getattr(current, k) for k in self.changes}
        self._repo(tx).update(self.item_id, **self.changes)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.before is not None
        self._repo(tx).update(self.item_id, **self.before)

    def touched(self) -> set[Touch]:
        return {(self.kind, self.item_id)}
