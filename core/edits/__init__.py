"""Undoable, self-committing edits of annotations (segments, traces, keypoints, participants).

See ``base.py`` for the contract: ``do(store)``/``undo(store)`` each commit one transaction or raise
and change nothing. The GUI pushes these through one QUndoStack; scripts and tests call them directly.
"""

from dyadlab.core.edits.base import CompositeEdit, Edit, EditRefused, Touch
from dyadlab.core.edits.participants import UpdateParticipant
from dyadlab.core.edits.segments import (
    CreateSegment,
    DeleteSegment,
    UpdateSegment,
    free_gap,
    merge_segments,
    split_segment,
)
from dyadlab.core.edits.series import WriteSeriesFrames
from dyadlab.core.edits.tiers import ensure_annotator, ensure_annotator_tiers, tier_progress

__all__ = ["CompositeEdit", "CreateSegment", "DeleteSegment", "Edit", "EditRefused", "Touch", "UpdateParticipant",
           "UpdateSegment", "WriteSeriesFrames", "ensure_annotator", "ensure_annotator_tiers", "free_gap",
           "merge_segments", "split_segment", "tier_progress"]
