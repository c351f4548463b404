"""Praat TextGrid export and import, so labels can be checked against the waveform in Praat.

Export (one ``<session>.TextGrid`` per session, Praat's long text format, UTF-8):

* one **interval tier** per DyadLab tier, named ``PARTICIPANT|TIER|ANNOTATOR`` (``core/labels/naming.py``).
  Praat needs intervals to tile the tier from ``xmin`` to ``xmax``, so gaps between segments are written as
  empty intervals. Dimensional tiers hold the score as text (``repr``: exact). Confidences (and scores of
  categorical segments) go to a parallel interval tier ``...|confidence`` / ``...|score`` with the same
  boundaries. A segment without a value cannot be told from a gap in Praat and is lost.
* **continuous traces** (series of kind "trace") as **point tiers**, one per channel, named
  ``PARTICIPANT|SERIES[:CHANNEL]|SOURCE``, or as a separate ``<session>.traces.csv`` (``traces="csv"``).
* times are written as exact decimals of the stored microseconds, so a round trip is exact.

Import reads Praat's long and short text formats (UTF-8, or UTF-16 with a byte-order mark) with a small
tokenizer of our own rather than pympi's: it reports the line of every problem, and pympi 1.71 reads
Praat's ``1e-06`` as 6 s, needs a UTF-16 file's encoding named and leaves quotes in tier names unescaped
(``docs/formats.md``; ``tests/core/interop/test_textgrid_vs_pympi.py`` fails if pympi catches up).
Interval tiers become segments (empty intervals are gaps); point tiers are skipped and noted. Validation and
the all-or-nothing write are ``core/io/label_files/label_import.py``'s, shared with the other formats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dyadlab.core.atomic_write import write_text_atomically
from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.label_import import (
    ImportReport,
    LabelDocument,
    OnExisting,
    SourceSegment,
    SourceTier,
    import_documents,
)
from dyadlab.core.io.label_files.source_names import export_names, read_source_names
from dyadlab.core.io.label_files.tier_mapping import TierTarget, Unmapped, apply_tier_mapping
from dyadlab.core.labels.naming import TierKey, parse_tier_name, safe_filename
from dyadlab.core.labels.snapshot import (
    SeriesData,
    SessionLabels,
    TierLabels,
    read_project_labels,
    read_series_data,
)
from dyadlab.core.labels.timeline import TimeOf
from dyadlab.core.model import TimeRangeError, seconds_to_us

if TYPE_CHECKING:
    from dyadlab.core.project import Project

TraceMode = Literal["points", "csv", "none"]


# -- export ------------------------------------------------------------------------------------------


def seconds_text(us: int) -> str:
    """Exact decimal seconds of a µs time ("12.5", "0.000001")."""
    sign = "-" if us < 0 else ""
    whole, frac = divmod(abs(us), 1_000_000)
    return f"{sign}{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _intervals(segments: Sequence[tuple[int, int, str]], end_us: int) -> list[tuple[int, int, str]]:
    """Labelled spans plus empty intervals filling every gap from 0 to ``end_us``."""
    out, cursor = [], 0
    for start, end, text in segments:
        if start > cursor:
            out.append((cursor, start, ""))
        out.append((start, end, text))
        cursor = end
    if cursor < end_us:
        out.append((cursor, end_us, ""))
    return out


def _interval_tier(name: str, spans: list[tuple[int, int, str]], end_us: int) -> list[str]:
    intervals = _intervals(spans, end_us)
    lines = ['        class = "IntervalTier"', f"        name = {_quote(name)}", "        xmin = 0",
             f"        xmax = {seconds_text(end_us)}", f"        intervals: size = {len(intervals)}"]
    for i, (start, end, text) in enumerate(intervals, 1):
        lines += [f"        intervals [{i}]:", f"            xmin = {seconds_text(start)}",
                  f"            xmax = {seconds_text(end)}", f"            text = {_quote(text)}"]
    return lines


def _point_tier(name: str, points: list[tuple[int, str]], end_us: int) -> list[str]:
    lines = ['        class = "TextTier"', f"        name = {_quote(name)}", "        xmin = 0",
             f"        xmax = {seconds_text(end_us)}", f"        points: size = {len(points)}"]
    for i, (t, mark) in enumerate(points, 1):
        lines += [f"        points [{i}]:", f"            number = {seconds_text(t)}",
                  f"            mark = {_quote(mark)}"]
    return lines


def _tier_spans(tier: TierLabels, session: str) -> dict[str, list[tuple[int, int, str]]]:
    """Main and companion spans of one tier, keyed by the companion name ("" for the main tier)."""
    tier.require_no_overlaps(session, "Praat")
    spans = {"": [(s.start_us, s.end_us, tier.text_of(s)) for s in tier.segments]}
    for extra, numbers in tier.companions().items():
        spans[extra] = [(s.start_us, s.end_us, "" if n is None else repr(float(n)))
                        for s, n in zip(tier.segments, numbers, strict=True)]
    return spans


def _trace_points(data: SeriesData) -> list[tuple[str, list[tuple[int, str]]]]:
    tiers = []
    for c, channel in enumerate(data.series.channels):
        name = data.series.name if len(data.series.channels) == 1 else f"{data.series.name}:{channel}"
        key = TierKey(data.participant_code, name, data.source)
        points = [(int(t), repr(float(v))) for t, v in zip(data.times_us.tolist(), data.values[:, c].tolist(),
                                                            strict=True) if not math.isnan(v)]
        tiers.append((key.format(), points))
    return tiers


def textgrid_text(labels: SessionLabels, traces: Sequence[SeriesData] = (),
                  source_names: Mapping[int, tuple[str, str]] | None = None) -> str:
    """The long-format TextGrid text of one session (label tiers, then trace point tiers); ``source_names``
    gives tiers imported from freely named tiers their names back (``source_names.py``)."""
    blocks: list[tuple[str, list[str]]] = []
    trace_tiers = [t for data in traces for t in _trace_points(data)]
    end_us = max([labels.end_us(), *(p[0] + 1 for _, pts in trace_tiers for p in pts[-1:])])
    names = export_names(list(labels.tiers), dict(source_names or {}))
    for tier in labels.tiers:
        for extra, spans in _tier_spans(tier, labels.session.name).items():
            name = tier.key.with_extra(extra).format() if extra else names.get(tier.tier.id, tier.key.format())
            blocks.append((name, _interval_tier(name, spans, end_us)))
    for name, points in trace_tiers:
        blocks.append((name, _point_tier(name, points, end_us)))
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0",
             f"xmax = {seconds_text(end_us)}", "tiers? <exists>" if blocks else "tiers? <absent>"]
    if blocks:
        lines += [f"size = {len(blocks)}", "item []:"]
        for i, (_name, body) in enumerate(blocks, 1):
            lines.append(f"    item [{i}]:")
            lines += body
    return "\n".join(lines) + "\n"


def write_textgrid(labels: SessionLabels, path: Path, traces: Sequence[SeriesData] = (),
                   source_names: Mapping[int, tuple[str, str]] | None = None) -> Path:
    return write_text_atomically(path, textgrid_text(labels, traces, source_names))


def export_textgrid(project: Project, out_dir: Path, *, sessions: Sequence[str] | None = None,
                    annotators: Sequence[str] | None = None, tier_names: Sequence[str] | None = None,
                    traces: TraceMode = "points", time_of: TimeOf | None = None) -> list[Path]:
    """One ``<session>.TextGrid`` per session (plus ``<session>.traces.csv`` with ``traces="csv"``)."""
    from dyadlab.core.io.label_files.tables import series_table, write_table

    out_dir = Path(out_dir)
    written = []
    names = read_source_names(project)
    for labels in read_project_labels(project, sessions=sessions, annotators=annotators, tier_names=tier_names):
        series = [] if traces == "none" else read_series_data(project, labels, kind="trace", time_of=time_of)
        stem = safe_filename(labels.session.name)
        written.append(write_textgrid(labels, out_dir / f"{stem}.TextGrid", series if traces == "points" else (),
                                      names))
        if traces == "csv" and series:
            written.append(write_table(series_table(series, labels.session.name), out_dir / f"{stem}.traces.csv"))
    return written


# -- import ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "str" | "num" | "flag"
    text: str
    line: int


_TOKEN = re.compile(r'''
    (?P<str>"(?:[^"]|"")*")
  | (?P<open>")
  | (?P<flag><[A-Za-z]*>)
  | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*\??)
  | (?P<skip>\s+|\[[^\]\n]*\]|![^\n]*|[=:?])
''', re.VERBOSE)
# The labels of Praat's long text format; any other bare word is an error (a value where a number goes).
_LABELS = {"File", "type", "Object", "class", "xmin", "xmax", "tiers?", "size", "item", "intervals", "points",
           "text", "name", "number", "mark"}


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"ooBinaryFile"):
        raise ImportFormatError("binary TextGrid files are not supported", path=path,
                                hint="in Praat: Save as text file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec, data = "utf-16", data
    else:
        codec, data = "utf-8", data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1 if codec == "utf-8" else None
        raise ImportFormatError(f"not {codec.upper()} text (byte {exc.start})", path=path, line=line,
                                hint="save the TextGrid as UTF-8") from None


def _tokenize(path: Path, text: str) -> list[_Token]:
    tokens, pos, line = [], 0, 1
    multiline: int | None = None  # where the last text spanning several lines began
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ImportFormatError(f"unexpected character {text[pos]!r}", path=path, line=line)
        kind = m.lastgroup
        if kind == "open":
            where = f"; the text opened on line {multiline} runs on to here" if multiline else ""
            raise ImportFormatError(f"a quoted text is never closed{where}", path=path, line=line,
                                    hint="is a quote missing, or the file truncated?")
        if kind == "word" and m.group() not in _LABELS:
            raise ImportFormatError(f"unexpected {m.group()!r}", path=path, line=line,
                                    hint="a number or a quoted text should be here")
        if kind == "str":
            if "\n" in m.group():
                multiline = line
            tokens.append(_Token("str", m.group()[1:-1].replace('""', '"'), line))
        elif kind in ("num", "flag"):
            tokens.append(_Token(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return tokens


class _Reader:
    def __init__(self, path: Path, tokens: list[_Token]) -> None:
        self.path, self.tokens, self.i = path, tokens, 0

    def line(self) -> int | None:
        if self.i < len(self.tokens):
            return self.tokens[self.i].line
        return self.tokens[-1].line if self.tokens else None

    def fail(self, message: str) -> ImportFormatError:
        return ImportFormatError(message, path=self.path, line=self.line())

    def next(self, kind: str, what: str) -> _Token:
        if self.i >= len(self.tokens):
            raise self.fail(f"the file ends where {what} should be (truncated?)")
        token = self.tokens[self.i]
        if token.kind != kind:
            expected = {"str": "a quoted text", "num": "a number", "flag": "<exists> or <absent>"}[kind]
            raise self.fail(f"expected {expected} ({what}), found {token.text!r}")
        self.i += 1
        return token

    def text(self, what: str) -> str:
        return self.next("str", what).text

    def seconds(self, what: str) -> float:
        value = float(self.next("num", what).text)
        try:
            seconds_to_us(value)
        except TimeRangeError:
            self.i -= 1
            raise self.fail(f"{what} {self.tokens[self.i].text} is out of range") from None
        return value

    def count(self, what: str, per_item: int) -> int:
        token = self.next("num", what)
        if not re.fullmatch(r"\+?\d+", token.text):
            self.i -= 1
            raise self.fail(f"{what} must be a whole number, found {token.text!r}")
        n = int(token.text)
        if n * per_item > len(self.tokens) - self.i:
            self.i -= 1
            raise self.fail(f"{what} says {n}, but the file is too short for that (truncated?)")
        return n


def _read_tier(r: _Reader, doc: LabelDocument, index: int) -> None:
    line = r.line()
    cls = r.text(f"tier {index} class")
    if cls not in ("IntervalTier", "TextTier"):
        r.i -= 1
        raise r.fail(f"tier {index}: unknown tier class {cls!r} (IntervalTier or TextTier)")
    name = r.text(f"tier {index} name")
    where = f"tier {index} {name!r}"
    r.seconds(f"{where} xmin")
    r.seconds(f"{where} xmax")
    if cls == "TextTier":
        for j in range(r.count(f"{where} number of points", 2)):
            r.seconds(f"{where} point {j + 1} time")
            r.text(f"{where} point {j + 1} mark")
        doc.notes.append(f"skipped point tier {name!r} (point tiers are not imported)")
        return
    n = r.count(f"{where} number of intervals", 3)
    segments: list[SourceSegment] = []
    previous_end: float | None = None
    for j in range(1, n + 1):
        line_j = r.line()
        start = r.seconds(f"{where} interval {j} xmin")
        end = r.seconds(f"{where} interval {j} xmax")
        label = r.text(f"{where} interval {j} text")
        here = f"{where}, interval {j}"
        if end < start:
            raise ImportFormatError(f"{here}: ends ({end:g} s) before it starts ({start:g} s)", path=doc.path,
                                    line=line_j)
        if previous_end is not None and start < previous_end:
            raise ImportFormatError(f"{here}: overlaps the previous interval (starts at {start:g} s, the previous "
                                    f"one ends at {previous_end:g} s)", path=doc.path, line=line_j)
        previous_end = end
        if label.strip():
            # in range: _Reader.seconds checked both with seconds_to_us
            segments.append(SourceSegment(seconds_to_us(start), seconds_to_us(end), label.strip(), where=here,
                                          line=line_j))
    doc.tiers.append(SourceTier(key=parse_tier_name(name), segments=segments, where=where, line=line, name=name))


def read_textgrid(path: str | Path, *, tier_mapping: Mapping[str, TierTarget | TierKey | None] | None = None,
                  skip_unmapped: bool = False, unmapped: Unmapped | None = None) -> LabelDocument:
    """Parse a TextGrid into a ``LabelDocument`` for the session named like the file (``S1.TextGrid``).

    Tier names are resolved as in ``read_eaf`` (``tier_mapping.apply_tier_mapping``).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror}", path=path) from exc
    r = _Reader(path, _tokenize(path, _decode(path, data)))
    if r.text("file type") != "ooTextFile":
        r.i -= 1
        raise r.fail('not a Praat text file (it should start with File type = "ooTextFile")')
    if r.text("object class") != "TextGrid":
        r.i -= 1
        raise r.fail("not a TextGrid (object class should be \"TextGrid\")")
    r.seconds("xmin")
    r.seconds("xmax")
    doc = LabelDocument(path=path, session=path.stem, tiers=[])
    exists = r.next("flag", "tiers?")
    if exists.text == "<exists>":
        for i in range(1, r.count("number of tiers", 5) + 1):
            _read_tier(r, doc, i)
    elif exists.text != "<absent>":
        r.i -= 1
        raise r.fail(f"expected <exists> or <absent>, found {exists.text}")
    if r.i < len(r.tokens):
        raise r.fail(f"unexpected {r.tokens[r.i].text!r} after the last tier")
    return apply_tier_mapping(doc, tier_mapping, unmapped or ("skip" if skip_unmapped else "refuse"))


def import_textgrid(project: Project, path: str | Path, *, session: str | None = None,
                    on_existing: OnExisting = "error", default_scheme: str | None = None,
                    tier_mapping: Mapping[str, TierTarget | TierKey | None] | None = None, skip_unmapped: bool = False,
                    create_session: bool = True) -> ImportReport:
    """Read a TextGrid and import it (all or nothing); see ``label_import.import_documents``."""
    doc = read_textgrid(path, tier_mapping=tier_mapping, skip_unmapped=skip_unmapped)
    return import_documents(project, [doc], session=session, on_existing=on_existing,
                            default_scheme=default_scheme, create_session=create_session)
