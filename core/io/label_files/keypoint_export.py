"""Corrected keypoints out of a project: a long table (CSV / Parquet) and COCO-style keypoints JSON.

Why a separate export: pose and hand corrections are per frame and per named point, which the wide
``keypoints`` table of ``label_files.tables`` (one column per channel) serves poorly for training pose
models. Only keypoints people made are exported — series of human annotators, each frame they corrected
(``keyframe`` = 1) or filled with Interpolate (``keyframe`` = 0); the analysed predictions are not.

Table columns (one row per point placed on a frame; absent points have no row)::

    session, participant, view, annotator, skeleton, frame, time_s, point, x, y, visible, keyframe

``skeleton`` is the series name (``mediapipe-pose``, ``mediapipe-hand left``, ``mediapipe-hand right``),
``frame`` the view's frame number, ``time_s`` its session time from the view's frame index, ``x``/``y``
picture pixels of the view (after its crop, origin top-left), ``visible`` 1 or 0 (placed but occluded).

COCO: one image per (view, frame) with corrections, one category per skeleton (``keypoints`` names and
a 1-based ``skeleton`` edge list), one annotation per (image, skeleton, annotator) with ``keypoints`` as
``[x, y, v] * n`` (v: 0 absent, 1 placed but not visible, 2 visible), ``num_keypoints`` and ``bbox``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab.core.edits.keypoints import KeypointLayout, picture_size, point_names
from dyadlab.core.errors import DyadLabError
from dyadlab.core.labels.snapshot import check_annotators, resolve_sessions
from dyadlab.core.media.view_frame_times import frame_times_us

if TYPE_CHECKING:
    from dyadlab.core.project import Project

COLUMNS = ["session", "participant", "view", "annotator", "skeleton", "frame", "time_s", "point", "x", "y",
           "visible", "keyframe"]
FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "coco"}


def keypoint_table(project: Project, *, sessions: Sequence[str] | None = None,
                   annotators: Sequence[str] | None = None) -> pd.DataFrame:
    """Every corrected (or interpolated) keypoint of human annotators, long format (``COLUMNS``)."""
    parts: list[pd.DataFrame] = []
    with project.store.transaction() as tx:
        check_annotators(tx, annotators)  # a typo would write an empty file as if nobody had corrected any
        people = {a.id: a for a in tx.annotators.list() if a.kind != "model"}
        for session in resolve_sessions(tx, sessions):
            views = {v.id: v for v in tx.views.list(session.id)}
            codes = {p.id: p.code for p in tx.participants.list(session.id)}
            for series in tx.series.list(session.id, kind="keypoints"):
                who = people.get(series.annotator_id)
                view = views.get(series.view_id)
                if who is None or view is None or (annotators is not None and who.name not in annotators):
                    continue
                rows = tx.series.read(series.id)
                frames = np.flatnonzero(~np.isnan(rows[:, -1])) if len(rows) else np.empty(0, np.int64)
                if not len(frames):
                    continue
                names = point_names(series)
                xyv = rows[frames, :-1].reshape(len(frames), len(names), 3)
                f_idx, p_idx = np.nonzero(~np.isnan(xyv[..., 0]) & ~np.isnan(xyv[..., 1]))
                times = frame_times_us(project, view, frames)
                parts.append(pd.DataFrame({
                    "session": session.name, "participant": codes.get(view.participant_id, ""),
                    "view": view.name, "annotator": who.name, "skeleton": series.name,
                    "frame": frames[f_idx].astype(np.int64),
                    "time_s": np.where(times[f_idx] >= 0, times[f_idx] / 1e6, np.nan),
                    "point": np.asarray(names, dtype=object)[p_idx],
                    "x": xyv[f_idx, p_idx, 0].astype(np.float64), "y": xyv[f_idx, p_idx, 1].astype(np.float64),
                    "visible": (xyv[f_idx, p_idx, 2] == 1.0).astype(np.int64),
                    "keyframe": (rows[frames[f_idx], -1] == 1.0).astype(np.int64)}, columns=COLUMNS))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("time_s", "x", "y") else
                                          "int64" if c in ("frame", "visible", "keyframe") else "object")
                             for c in COLUMNS})
    return pd.concat(parts, ignore_index=True)


def coco_document(project: Project, table: pd.DataFrame) -> dict[str, Any]:
    """The COCO-style keypoints document of a ``keypoint_table``."""
    with project.store.transaction() as tx:
        schemes = {s.name: s for s in tx.schemes.list() if s.kind == "keypoints"}
        sizes = {(session.name, v.name): picture_size(v) for session in tx.sessions.list()
                 for v in tx.views.list(session.id)}
        series_scheme = {s.name: s.attributes.get("scheme", s.name) for s in tx.series.list(kind="keypoints")}
    categories, images, annotations = [], {}, []
    category_of: dict[str, int] = {}
    for skeleton in sorted(table["skeleton"].unique()) if len(table) else []:
        scheme = schemes.get(series_scheme.get(skeleton, skeleton))
        if scheme is None:
            raise DyadLabError(f"no keypoint scheme for skeleton {skeleton!r} in the project")
        layout = KeypointLayout.of(scheme)
        category_of[skeleton] = len(categories) + 1
        categories.append({"id": len(categories) + 1, "name": skeleton, "supercategory": "person",
                           "keypoints": list(layout.points), "skeleton": [[a + 1, b + 1] for a, b in layout.edges]})
    group_keys = ["session", "view", "participant", "frame", "annotator", "skeleton"]
    for (session, view, participant, frame, annotator, skeleton), rows in table.groupby(group_keys, sort=True):
        image_key = (session, view, int(frame))
        if image_key not in images:
            width, height = sizes.get((session, view)) or (0, 0)
            images[image_key] = {"id": len(images) + 1, "file_name": f"{session}/{view}/{int(frame):06d}.png",
                                 "width": width, "height": height, "session": session, "view": view,
                                 "participant": participant, "frame": int(frame),
                                 "time_s": None if pd.isna(rows["time_s"].iloc[0]) else float(rows["time_s"].iloc[0])}
        names = categories[category_of[skeleton] - 1]["keypoints"]
        flat = np.zeros((len(names), 3))
        index = {n: i for i, n in enumerate(names)}
        for point, x, y, visible in rows[["point", "x", "y", "visible"]].itertuples(index=False):
            flat[index[point]] = (x, y, 2 if visible else 1)
        placed = flat[flat[:, 2] > 0]
        x0, y0 = placed[:, 0].min(), placed[:, 1].min()
        w, h = placed[:, 0].max() - x0, placed[:, 1].max() - y0
        annotations.append({"id": len(annotations) + 1, "image_id": images[image_key]["id"],
                            "category_id": category_of[skeleton], "keypoints": [round(float(v), 3) for v in flat.ravel()],
                            "num_keypoints": int(len(placed)), "bbox": [float(x0), float(y0), float(w), float(h)],
                            "area": float(w * h), "iscrowd": 0, "annotator": annotator,
                            "keyframe": int(rows["keyframe"].max())})
    return {"info": {"description": "DyadLab corrected keypoints", "version": "1.0"},
            "images": list(images.values()), "categories": categories, "annotations": annotations}


def export_keypoints(project: Project, path: Path, *, fmt: str | None = None, sessions: Sequence[str] | None = None,
                     annotators: Sequence[str] | None = None) -> tuple[Path, int]:
    """Write the corrected keypoints to ``path`` (format by ``fmt`` or the suffix: .csv, .parquet, .json =
    COCO); returns the path and the number of points written. The file is written whole or not at all."""
    path = Path(path)
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in FORMATS.values():
        raise DyadLabError(f"cannot tell the keypoint export format from {path.name!r}", path=path,
                           hint="name the file .csv, .parquet or .json (COCO), or pass the format")
    table = keypoint_table(project, sessions=sessions, annotators=annotators)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    if fmt == "coco":
        partial.write_text(json.dumps(coco_document(project, table), indent=1), encoding="utf-8")
    elif fmt == "parquet":
        table.to_parquet(partial, index=False)
    else:
        table.to_csv(partial, index=False)
    partial.replace(path)
    return path, len(table)
