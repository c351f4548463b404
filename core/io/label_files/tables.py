"""CSV and Parquet tables of labels, traces, keypoints and predictions — for pandas, R and training elsewhere.

Segments are one row each, in long format::

    session, participant, tier, annotator, scheme, start_s, end_s, start_frame, end_frame, value, score, confidence, kind

``participant`` is empty for a session-level tier; ``kind`` is the tier's kind (categorical, dimensional,
continuous, transcript) so a round trip keeps it. ``start_s``/``end_s`` are session seconds (exact to the
µs: floats written with their shortest round-tripping text). ``start_frame``/``end_frame`` are frames of the
participant's view (else the first wide view; empty with none): the frames are found by a ``frame_of(view,
t_us)`` hook — pass one built on the frame index when you have it; the default rounds by the view's
nominal fps (``core/labels/timeline.py``), and ``end_frame`` is exclusive.

Series (kind "trace", "keypoints", "prediction") are one row per stored frame, wide: ``session, participant,
series, kind, source, frame, time_s`` then one column per channel (predictions: one per class).

A per-frame label matrix per session (frames × participants, the class index or -1) goes to ``.npz``.

Segment tables import back (``read_segments_table``) through the same validation as ELAN and Praat files.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.label_import import (
    ImportReport,
    LabelDocument,
    OnExisting,
    SourceSegment,
    SourceTier,
    import_documents,
)
from dyadlab.core.io.times import time_us
from dyadlab.core.labels.naming import SESSION_LEVEL, TierKey, safe_filename
from dyadlab.core.labels.snapshot import SeriesData, SessionLabels, read_project_labels, read_series_data
from dyadlab.core.labels.timeline import (
    FrameOf,
    TimeOf,
    frame_units,
    nominal_frame_of,
    nominal_time_of,
    values_at,
)

if TYPE_CHECKING:
    from dyadlab.core.project import Project

SEGMENT_COLUMNS = ["session", "participant", "tier", "annotator", "scheme", "start_s", "end_s", "start_frame",
                   "end_frame", "value", "score", "confidence", "kind"]
REQUIRED_COLUMNS = ["session", "participant", "tier", "annotator", "start_s", "end_s", "value"]
OPTIONAL_COLUMNS = ["scheme", "start_frame", "end_frame", "score", "confidence", "kind"]
SERIES_KINDS = ("trace", "keypoints", "prediction")
TableFormat = Literal["csv", "parquet"]
DEFAULT_MATRIX_STEP_US = 40_000


# -- export ------------------------------------------------------------------------------------------


def segments_table(sessions: Sequence[SessionLabels], *, frame_of: FrameOf | None = None) -> pd.DataFrame:
    """All segments of the given session snapshots as one long table (columns ``SEGMENT_COLUMNS``)."""
    frame_of = frame_of or nominal_frame_of
    rows: list[dict[str, Any]] = []
    for labels in sessions:
        for tier in labels.tiers:
            view = labels.view_for(tier.tier.participant_id)
            for seg in tier.segments:
                rows.append({
                    "session": labels.session.name, "participant": tier.key.participant, "tier": tier.key.tier,
                    "annotator": tier.key.annotator, "scheme": tier.scheme.name,
                    "start_s": seg.start_us / 1e6, "end_s": seg.end_us / 1e6,
                    "start_frame": frame_of(view, seg.start_us) if view else None,
                    "end_frame": frame_of(view, seg.end_us) if view else None,
                    "value": seg.value, "score": seg.score, "confidence": seg.confidence, "kind": tier.tier.kind})
    table = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    for col in ("start_frame", "end_frame"):
        table[col] = table[col].astype("Int64")
    for col in ("score", "confidence", "start_s", "end_s"):
        table[col] = table[col].astype("float64")
    for col in ("session", "participant", "tier", "annotator", "scheme", "value", "kind"):
        table[col] = table[col].astype("object")
    return table


def series_table(data: Sequence[SeriesData], session: str | None = None) -> pd.DataFrame:
    """Stored frames of the given series, wide (one column per channel; NaN where a series lacks one)."""
    frames = []
    for d in data:
        block = pd.DataFrame(d.values, columns=list(d.series.channels))
        block.insert(0, "time_s", d.times_us / 1e6 if d.times_us is not None else np.nan)
        block.insert(0, "frame", d.frames)
        for i, (col, value) in enumerate([("session", session), ("participant", d.participant_code),
                                           ("series", d.series.name), ("kind", d.series.kind),
                                           ("source", d.source)]):
            block.insert(i, col, value)
        frames.append(block)
    if not frames:
        return pd.DataFrame(columns=["session", "participant", "series", "kind", "source", "frame", "time_s"])
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class LabelMatrix:
    """Per-frame class index of every participant: ``labels[frame, participant]``, -1 where unlabelled."""

    session: str
    tier: str
    annotator: str
    times_us: np.ndarray
    participants: tuple[str, ...]
    classes: tuple[str, ...]
    labels: np.ndarray

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, labels=self.labels, times_s=self.times_us / 1e6, participants=np.array(self.participants),
                 classes=np.array(self.classes), session=self.session, tier=self.tier, annotator=self.annotator)
        return path


def _matrix_times(labels: SessionLabels, step_us: int | None, time_of: TimeOf) -> np.ndarray:
    """Frame times: the session's reference view's frames (wide view first), else a fixed-step grid."""
    end = labels.end_us()
    if step_us is None:
        views = sorted((v for v in labels.views if v.fps), key=lambda v: (v.participant_id is not None, v.id))
        if views:
            view = views[0]
            n = view.frame_count or max(0, math.ceil((end - view.offset_us) * view.fps / 1e6))
            times = [time_of(view, k) for k in range(n)]
            if all(t is not None for t in times):
                return np.array(times, dtype=np.int64)
        step_us = DEFAULT_MATRIX_STEP_US
    return frame_units(end, step_us).starts_us


def label_matrix(labels: SessionLabels, *, tier: str, annotator: str, step_us: int | None = None,
                 time_of: TimeOf | None = None) -> LabelMatrix | None:
    """Frames × participants class indices for one categorical tier name and annotator (None: no such tier).

    Frames are those of the session's reference view (first wide view, else first view with an fps) at
    the times ``time_of`` gives (default: nominal fps), or a fixed ``step_us`` grid; a frame's label is the
    one covering its start time. Session-level tiers are not included.
    """
    tiers = [t for t in labels.tiers if t.key.tier == tier and t.key.annotator == annotator
             and t.key.participant is not None and t.scheme.kind == "categorical" and t.tier.kind == "categorical"]
    if not tiers:
        return None
    classes = tuple(tiers[0].scheme.classes)
    index = {c: i for i, c in enumerate(classes)}
    times = _matrix_times(labels, step_us, time_of or nominal_time_of)
    participants = tuple(p.code for p in labels.participants)
    out = np.full((times.shape[0], len(participants)), -1, dtype=np.int16)
    for t in tiers:
        column = participants.index(t.key.participant)
        values = values_at(t.segments, times)
        out[:, column] = [index.get(v, -1) if v is not None else -1 for v in values]
    return LabelMatrix(labels.session.name, tier, annotator, times, participants, classes, out)


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` as CSV or Parquet, by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
    return path


def export_tables(project: Project, out_dir: Path, *, fmt: TableFormat = "csv", sessions: Sequence[str] | None = None,
                  annotators: Sequence[str] | None = None, tier_names: Sequence[str] | None = None,
                  frame_of: FrameOf | None = None, time_of: TimeOf | None = None) -> list[Path]:
    """``segments``, ``traces``, ``keypoints`` and ``predictions`` tables (those with rows) and label matrices."""
    out_dir = Path(out_dir)
    snapshots = read_project_labels(project, sessions=sessions, annotators=annotators, tier_names=tier_names)
    written = [write_table(segments_table(snapshots, frame_of=frame_of), out_dir / f"segments.{fmt}")]
    for kind in SERIES_KINDS:
        parts = [series_table(read_series_data(project, labels, kind=kind, time_of=time_of), labels.session.name)
                 for labels in snapshots]
        parts = [p for p in parts if len(p)]
        if parts:
            plural = kind if kind.endswith("s") else f"{kind}s"
            written.append(write_table(pd.concat(parts, ignore_index=True), out_dir / f"{plural}.{fmt}"))
    for labels in snapshots:
        pairs = sorted({(t.key.tier, t.key.annotator) for t in labels.tiers if t.tier.kind == "categorical"})
        for tier, annotator in pairs:
            matrix = label_matrix(labels, tier=tier, annotator=annotator, time_of=time_of)
            if matrix is not None:
                name = ".".join(safe_filename(x) for x in (labels.session.name, tier, annotator))
                written.append(matrix.save(out_dir / "label_matrices" / f"{name}.npz"))
    return written


# -- import ------------------------------------------------------------------------------------------


Rows = Iterator[tuple[str, int | None, dict[str, Any]]]  # (where, line, cells)


def _csv_rows(path: Path) -> tuple[list[str], Rows]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text (byte {exc.start})", path=path, hint="save the table as UTF-8") from None
    if "\x00" in text:
        raise ImportFormatError("the file contains NUL characters (is it a spreadsheet, not CSV?)", path=path)
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFormatError("the file is empty", path=path) from None
    except csv.Error as exc:
        raise ImportFormatError(f"unreadable CSV header ({exc})", path=path, line=1) from None

    def rows() -> Rows:
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFormatError(f"unreadable CSV ({exc})", path=path, line=line) from None
            if not fields:
                continue
            if len(fields) != len(header):
                raise ImportFormatError(f"row has {len(fields)} fields, the header has {len(header)}", path=path,
                                        line=line, hint="is the file truncated, or a field not quoted?")
            yield "row", line, dict(zip([h.strip() for h in header], fields, strict=True))

    return [h.strip() for h in header], rows()


def _parquet_rows(path: Path) -> tuple[list[str], Rows]:
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...) for a damaged file
        raise ImportFormatError(f"not a readable Parquet file ({type(exc).__name__}: {exc})", path=path) from None
    try:
        records = table.to_dict(orient="records")  # strings are decoded lazily, here
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"a text cell is not valid UTF-8 ({exc.reason} at byte {exc.start})",
                                path=path) from None
    return [str(c) for c in table.columns], ((f"row {i + 1}", None, r) for i, r in enumerate(records))


def _missing(raw: Any) -> bool:
    return raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw)) or \
        (isinstance(raw, str) and raw.strip() == "")


def _text(raw: Any, doc: LabelDocument, column: str, where: str, line: int | None) -> str | None:
    if _missing(raw):
        return None
    if isinstance(raw, int | np.integer) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, str):
        raise ImportFormatError(f"{where}: column {column!r} must be text, found {raw!r}", path=doc.path, line=line)
    return raw.strip()


def _number(raw: Any, doc: LabelDocument, column: str, where: str, line: int | None) -> float | None:
    if _missing(raw):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | np.integer | np.floating):
        raise ImportFormatError(f"{where}: column {column!r} must be a number, found {raw!r}", path=doc.path, line=line)
    try:
        number = float(raw)
    except ValueError:
        raise ImportFormatError(f"{where}: column {column!r} must be a number, found {raw!r}", path=doc.path,
                                line=line) from None
    if not math.isfinite(number):
        raise ImportFormatError(f"{where}: column {column!r} is not a finite number ({raw!r})", path=doc.path, line=line)
    return number


def _time_us(raw: Any, doc: LabelDocument, column: str, where: str, line: int | None) -> int:
    seconds = _number(raw, doc, column, where, line)
    if seconds is None:
        raise ImportFormatError(f"{where}: column {column!r} is empty", path=doc.path, line=line)
    return time_us(seconds, column, path=doc.path, line=line, where=where)


def read_segments_table(path: str | Path, *, session: str | None = None) -> list[LabelDocument]:
    """Parse a segments table (CSV or Parquet, by suffix) into one ``LabelDocument`` per session.

    ``session`` picks that session's rows when the table has several, or names the session of a table
    holding only one.
    """
    path = Path(path)
    header, rows = _parquet_rows(path) if path.suffix.lower() in (".parquet", ".pq") else _csv_rows(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing or len(set(header)) != len(header):
        problem = f"missing column(s) {', '.join(missing)}" if missing else "a column name appears twice"
        raise ImportFormatError(f"not a DyadLab segments table: {problem}; the file has: {', '.join(header)}",
                                path=path, hint=f"a segments table's columns: {', '.join(SEGMENT_COLUMNS)}")
    docs: dict[str, LabelDocument] = {}
    tiers: dict[tuple[str, TierKey], SourceTier] = {}
    for where, line, row in rows:
        probe = LabelDocument(path=path, session=None, tiers=[])
        name = _text(row["session"], probe, "session", where, line)
        tier_name = _text(row["tier"], probe, "tier", where, line)
        annotator = _text(row["annotator"], probe, "annotator", where, line)
        if not name or not tier_name or not annotator:
            raise ImportFormatError(f"{where}: session, tier and annotator must not be empty", path=path, line=line)
        participant = _text(row["participant"], probe, "participant", where, line)
        doc = docs.setdefault(name, LabelDocument(path=path, session=name, tiers=[]))
        key = TierKey(None if participant in (None, SESSION_LEVEL) else participant, tier_name, annotator)
        scheme = _text(row.get("scheme"), doc, "scheme", where, line)
        kind = _text(row.get("kind"), doc, "kind", where, line)
        tier = tiers.get((name, key))
        if tier is None:
            tier = tiers[(name, key)] = SourceTier(key=key, segments=[], scheme=scheme, kind=kind,
                                                   where=f"tier {key.format()!r}", line=line)
            doc.tiers.append(tier)
        elif (scheme or tier.scheme) and scheme != tier.scheme:
            earlier = f"line {tier.line}" if tier.line is not None else "an earlier row"
            raise ImportFormatError(f"{where}: tier {key.format()!r} has scheme {scheme or 'none'!r} here but "
                                    f"{tier.scheme or 'none'!r} on {earlier}", path=path, line=line)
        tier.segments.append(SourceSegment(
            start_us=_time_us(row["start_s"], doc, "start_s", where, line),
            end_us=_time_us(row["end_s"], doc, "end_s", where, line),
            value=_text(row["value"], doc, "value", where, line),
            score=_number(row.get("score"), doc, "score", where, line),
            confidence=_number(row.get("confidence"), doc, "confidence", where, line), where=where, line=line))
    if session is not None and session not in docs:
        if len(docs) > 1:
            raise ImportFormatError(f"the table holds sessions {', '.join(sorted(docs))}, not {session!r}", path=path)
        for doc in docs.values():
            doc.session = session
    elif session is not None:
        docs = {session: docs[session]}
    return list(docs.values())


def import_table(project: Project, path: str | Path, *, session: str | None = None,
                 on_existing: OnExisting = "error", default_scheme: str | None = None,
                 create_session: bool = True) -> ImportReport:
    """Read a segments table and import every session in it, all or nothing."""
    docs = read_segments_table(path, session=session)
    if not docs:
        raise ImportFormatError("the table holds no segments", path=path)
    return import_documents(project, docs, on_existing=on_existing, default_scheme=default_scheme,
                            create_session=create_session)
