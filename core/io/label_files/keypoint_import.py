"""Corrected keypoints into a project from a long table (CSV / Parquet): the format ``keypoint_export`` writes.

Why: corrections made elsewhere (another DyadLab project, a script, a tool that writes the same columns)
come back as the importing annotator's own keypoint series, so they show, export and undo like any other.
The whole file is checked before anything is written — a session, view, skeleton or point that does not
exist, a frame past the view's end, a position that is not a number or lies outside the view's picture —
and any problem stops the import with the file, the line and the fix named; nothing is written then.
Everything is written as one edit (one transaction).

Columns: ``session, view, skeleton, frame, point, x, y`` required; ``visible`` (1, or 0 placed but
occluded; default 1) and ``keyframe`` (1 corrected, 0 interpolated; default 1) optional; others ignored.
A frame the annotator already has keeps its other points; the imported points replace theirs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab.core.edits.base import CompositeEdit
from dyadlab.core.edits.keypoints import KeypointLayout, ensure_keypoint_series, picture_size, skeletons_of
from dyadlab.core.edits.series import WriteSeriesFrames
from dyadlab.core.errors import ImportFormatError

if TYPE_CHECKING:
    from dyadlab.core.project import Project

REQUIRED = ["session", "view", "skeleton", "frame", "point", "x", "y"]
MAX_PROBLEMS = 10


def _read(path: Path) -> tuple[pd.DataFrame, int]:
    """The table and the line of its first row (CSV: 2, after the header; Parquet: rows count from 1)."""
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path), 1
        return pd.read_csv(path, dtype={"session": str, "view": str, "skeleton": str, "point": str}), 2
    except FileNotFoundError:
        raise ImportFormatError("file not found", path=path) from None
    except Exception as exc:  # pandas and pyarrow raise many types for an unreadable file
        raise ImportFormatError(f"not a readable keypoint table ({type(exc).__name__}: {exc})", path=path) from None


def import_keypoints(project: Project, path: Path, *, annotator: str) -> int:
    """Import the keypoints of ``path`` as ``annotator``'s (all or nothing); returns the number of points."""
    path = Path(path)
    table, first_line = _read(path)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ImportFormatError(f"missing column(s) {', '.join(missing)}", path=path,
                                hint=f"a keypoint table has the columns {', '.join(REQUIRED)} (visible, keyframe "
                                     "optional), as `dyadlab export-keypoints` writes them")
    with project.store.transaction() as tx:
        sessions = {s.name: s for s in tx.sessions.list()}
        views = {(s.name, v.name): v for s in sessions.values() for v in tx.views.list(s.id)}
        skeletons = {s.name: s for s in skeletons_of(tx.schemes.list())}
        who = tx.annotators.ensure(annotator)
    problems: list[str] = []
    points: dict[tuple[Any, ...], dict[int, list[tuple[int, float, float, float, float]]]] = defaultdict(dict)
    for i, row in enumerate(table.itertuples(index=False)):
        cells = row._asdict()
        line = first_line + i
        problem = _check(cells, sessions, views, skeletons)
        if problem:
            problems.append(f"line {line}: {problem}")
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        view, skeleton = views[(str(cells["session"]), str(cells["view"]))], skeletons[str(cells["skeleton"])]
        visible = 1.0 if _number(cells.get("visible", 1), 1.0) != 0 else 0.0
        keyframe = 1.0 if _number(cells.get("keyframe", 1), 1.0) != 0 else 0.0
        at = skeleton.layout.points.index(str(cells["point"]))
        frames = points[(view.id, skeleton.name)]
        frames.setdefault(int(cells["frame"]), []).append((at, float(cells["x"]), float(cells["y"]), visible, keyframe))
    if problems:
        raise ImportFormatError("; ".join(problems) + ("; …" if len(problems) >= MAX_PROBLEMS else ""), path=path,
                                hint="fix these rows; nothing was imported")
    edits = []
    by_id = {v.id: v for v in views.values()}
    for (view_id, name), frames in points.items():
        skeleton = skeletons[name]
        series = ensure_keypoint_series(project.store, by_id[view_id], skeleton.scheme, annotator_id=who.id,
                                        skeleton=skeleton)
        with project.store.transaction() as tx:
            for frame, placed in sorted(frames.items()):
                row = tx.series.read(series.id, frame, frame + 1)[0].copy()
                if not KeypointLayout.is_labelled(row):
                    row[:] = np.nan
                for at, x, y, visible, keyframe in placed:
                    row[3 * at:3 * at + 3] = (x, y, visible)
                    row[-1] = max(keyframe, 0.0 if np.isnan(row[-1]) else row[-1])
                edits.append(WriteSeriesFrames(series.id, frame, row[None], annotator_id=who.id,
                                               text="Import keypoints"))
    CompositeEdit(f"Import keypoints from {path.name}", edits).do(project.store)
    return int(sum(len(p) for frames in points.values() for p in frames.values()))


def _number(value: Any, default: float) -> float:
    """A cell as a float: ``default`` when empty, NaN when not a number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _check(cells: dict[str, Any], sessions: dict, views: dict, skeletons: dict) -> str | None:
    """What is wrong with one row (None: nothing)."""
    session, view_name, name, point = (str(cells[c]) for c in ("session", "view", "skeleton", "point"))
    if session not in sessions:
        return f"no session {session!r} in the project"
    view = views.get((session, view_name))
    if view is None:
        return f"session {session!r} has no view {view_name!r}"
    skeleton = skeletons.get(name)
    if skeleton is None:
        return f"unknown skeleton {name!r} (known: {', '.join(sorted(skeletons))})"
    if point not in skeleton.layout.points:
        return f"skeleton {name!r} has no point {point!r}"
    frame = _number(cells["frame"], math.nan)
    if not math.isfinite(frame) or frame != int(frame) or frame < 0:
        return f"frame {cells['frame']!r} is not a frame number"
    if view.frame_count and frame >= view.frame_count:
        return f"frame {int(frame)} is past the end of view {view_name!r} ({view.frame_count} frames)"
    x, y = _number(cells["x"], math.nan), _number(cells["y"], math.nan)
    if not (math.isfinite(x) and math.isfinite(y)):
        return f"point {point!r} has no position ({cells['x']!r}, {cells['y']!r})"
    size = picture_size(view)
    if size is not None and not (0 <= x < size[0] and 0 <= y < size[1]):
        return (f"point {point!r} at ({x:.1f}, {y:.1f}) on frame {int(frame)} is outside the {size[0]}×{size[1]} "
                f"picture of view {view_name!r}")
    for flag in ("visible", "keyframe"):
        if flag in cells and _number(cells[flag], 1.0) not in (0.0, 1.0):
            return f"{flag} is {cells[flag]!r}, not 0 or 1"
    return None
