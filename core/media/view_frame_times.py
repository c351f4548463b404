"""Session times of frames of a view, for code that has no open ``SessionMedia`` (exports, timeline marks).

Frames are the view's own frame numbers; their times come from the view file's frame index (cached
next to the project, the same cache the player uses), never from ``frame × fps``. When the file cannot
be indexed (missing, unreadable) the view's nominal fps is the fallback, as for the other exports.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.labels.timeline import nominal_time_of
from dyadlab.core.model import View

if TYPE_CHECKING:
    from dyadlab.core.project import Project

log = logging.getLogger(__name__)


def frame_times_us(project: Project, view: View, frames: np.ndarray) -> np.ndarray:
    """Session time (µs, int64) of each of ``frames``; -1 where a frame has no known time."""
    from dyadlab.core.media.frame_index import FrameIndex
    from dyadlab.core.media.session_media import INDEX_CACHE

    frames = np.asarray(frames, dtype=np.int64)
    try:
        index = FrameIndex.load_or_build(project.media_path(view.path), Path(project.cache_dir) / INDEX_CACHE)
        pts = np.asarray(index.pts_us, dtype=np.int64)
        inside = (frames >= 0) & (frames < len(pts))
        return np.where(inside, pts[np.clip(frames, 0, max(len(pts) - 1, 0))] + view.offset_us, -1)
    except Exception as exc:  # noqa: BLE001 - any media problem: fall back to the nominal frame rate
        log.info("frame times of view %s by nominal fps (%s)", view.name, exc)
        times = [nominal_time_of(view, int(f)) for f in frames]
        return np.array([-1 if t is None else t for t in times], dtype=np.int64)
