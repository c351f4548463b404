"""ELAN ``.eaf`` export and import (through pympi-ling), so labels can be edited or reviewed in ELAN.

One EAF per session. What goes where:

* **Tiers** — one per DyadLab tier, named ``PARTICIPANT|TIER|ANNOTATOR`` (``core/labels/naming.py``), with
  ELAN's own ``PARTICIPANT`` and ``ANNOTATOR`` tier attributes set too. Confidences (and scores of
  categorical segments) go to a child tier ``...|confidence`` / ``...|score`` (symbolic association), so
  ELAN shows them under their label.
* **Linguistic types and controlled vocabularies** — each tier's linguistic type is named after its label
  scheme; a categorical scheme's classes become the type's controlled vocabulary (ELAN offers them in a
  drop-down). Dimensional tiers hold the score as text (``repr`` of the float: exact).
* **Media** — every view and audio track becomes a media descriptor: ``MEDIA_URL`` is the absolute
  ``file:`` URL, ``RELATIVE_MEDIA_URL`` the path relative to the EAF file, and ``TIME_ORIGIN`` the view's
  offset in ELAN's sign convention (``TIME_ORIGIN`` is the media time shown at annotation time 0, so it is
  ``−offset``; ELAN itself only handles media that start at or before session time 0).
* **Header properties** (``dyadlab.*``) keep what ELAN has no place for: the session's name, duration,
  group and participants, annotator kinds, tier kinds that differ from their scheme's, and each media
  item's exact µs offset, name, participant and fps (used when the import creates the session).

Times are whole milliseconds in EAF: a round trip keeps times to the millisecond (a segment shorter than
1 ms is written 1 ms long). Labels are read back through ``core/io/label_files/label_import.py`` — the same
validation and all-or-nothing write as every other format.
"""

from __future__ import annotations

import json
import mimetypes
import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlparse

from dyadlab.core.atomic_write import write_text_atomically
from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.label_import import (
    ImportReport,
    LabelDocument,
    MediaLink,
    OnExisting,
    SourceSegment,
    SourceTier,
    import_documents,
)
from dyadlab.core.io.label_files.source_names import export_names, read_source_names
from dyadlab.core.io.label_files.tier_mapping import TierTarget, Unmapped, apply_tier_mapping
from dyadlab.core.io.times import checked_us
from dyadlab.core.labels.naming import TierKey, parse_tier_name, safe_filename
from dyadlab.core.labels.snapshot import SessionLabels, read_project_labels
from dyadlab.core.model import MAX_TIME_US

if TYPE_CHECKING:
    from dyadlab.core.project import Project

NUMBER_TYPE = "dyadlab-number"  # linguistic type of companion (confidence / score) tiers
LANGUAGE = ("und", "http://cdb.iso.org/lg/CDB-00130975-001", "undetermined (und)")
PROP_SESSION = "dyadlab.session"
PROP_SESSION_INFO = "dyadlab.session-info"
PROP_MEDIA = "dyadlab.media"
PROP_ANNOTATORS = "dyadlab.annotators"
PROP_TIER_KINDS = "dyadlab.tier-kinds"
PROP_TIER_KEYS = "dyadlab.tier-keys"  # {tier name: PARTICIPANT|TIER|ANNOTATOR} of tiers exported under another name


# -- export ------------------------------------------------------------------------------------------


def _ms(us: int) -> int:
    return int(round(us / 1000))


def _media_descriptor(project_root: Path, out_dir: Path, stored_path: str, offset_us: int) -> dict[str, Any]:
    stored = Path(stored_path)
    absolute = Path(os.path.normpath(stored if stored.is_absolute() else project_root.resolve() / stored))
    relative = Path(os.path.relpath(absolute, out_dir.resolve())).as_posix()
    if not relative.startswith("../"):
        relative = "./" + relative
    return {"MEDIA_URL": absolute.as_uri(), "RELATIVE_MEDIA_URL": quote(relative),
            "MIME_TYPE": mimetypes.guess_type(absolute.name)[0] or "unknown",
            "TIME_ORIGIN": str(-_ms(offset_us)) if offset_us else None}


def _add_numbers(eaf: Any, parent: str, child_key: TierKey, pairs: list[tuple[str, float | None]]) -> None:
    """Child tier of symbolic associations: one number per parent annotation (None: no child)."""
    eaf.add_tier(child_key.format(), ling=NUMBER_TYPE, parent=parent)
    # pympi 1.71's add_ref_annotation searches the parent by time (quadratic); we know the parent ids.
    for parent_aid, number in pairs:
        if number is None:
            continue
        aid = eaf.generate_annotation_id()
        eaf.annotations[aid] = child_key.format()
        eaf.tiers[child_key.format()][1][aid] = (parent_aid, repr(float(number)), None, None)


def build_eaf(labels: SessionLabels, project_root: Path, out_dir: Path,
              source_names: Mapping[int, tuple[str, str]] | None = None) -> Any:
    """A ``pympi.Elan.Eaf`` holding one session's tiers, media and DyadLab properties.

    ``source_names`` (``source_names.read_source_names``) gives tiers imported from freely named tiers
    their names back; the header's ``dyadlab.tier-keys`` says which key each such name stands for.
    """
    from pympi.Elan import Eaf

    for tier in labels.tiers:
        tier.require_no_overlaps(labels.session.name, "ELAN")
    eaf = Eaf(author="DyadLab")
    eaf.remove_tier("default")
    eaf.remove_linguistic_type("default-lt")
    eaf.properties = [(PROP_SESSION, labels.session.name), (PROP_SESSION_INFO, json.dumps(
        {"duration_us": labels.session.duration_us, "group": labels.session.group,
         "participants": [p.code for p in labels.participants]}))]
    media_props = []
    for item, kind in [*((v, "view") for v in labels.views), *((a, "audio") for a in labels.audio)]:
        eaf.media_descriptors.append(_media_descriptor(project_root, out_dir, item.path, item.offset_us))
        media_props.append({"kind": kind, "name": item.name, "offset_us": item.offset_us,
                            "participant": labels.code(getattr(item, "participant_id", None)),
                            "fps": getattr(item, "fps", None)})
    eaf.properties.append((PROP_MEDIA, json.dumps(media_props)))
    eaf.properties.append((PROP_ANNOTATORS, json.dumps({t.annotator.name: t.annotator.kind for t in labels.tiers})))
    names = export_names(list(labels.tiers), dict(source_names or {}))
    eaf.properties.append((PROP_TIER_KINDS, json.dumps(
        {names.get(t.tier.id, t.key.format()): t.tier.kind for t in labels.tiers if t.tier.kind != t.scheme.kind})))
    if names:
        eaf.properties.append((PROP_TIER_KEYS, json.dumps(
            {names[t.tier.id]: t.key.format() for t in labels.tiers if t.tier.id in names})))
    eaf.add_linguistic_type(NUMBER_TYPE, param_dict={
        "LINGUISTIC_TYPE_ID": NUMBER_TYPE, "TIME_ALIGNABLE": "false", "GRAPHIC_REFERENCES": "false",
        "CONSTRAINTS": "Symbolic_Association"})
    for scheme in {t.scheme.name: t.scheme for t in labels.tiers}.values():
        params = {"LINGUISTIC_TYPE_ID": scheme.name, "TIME_ALIGNABLE": "true", "GRAPHIC_REFERENCES": "false"}
        if scheme.kind == "categorical":
            if LANGUAGE[0] not in eaf.languages:
                eaf.add_language(*LANGUAGE)
            eaf.add_controlled_vocabulary(scheme.name)
            for i, cls in enumerate(scheme.definition.get("classes", [])):
                eaf.add_cv_entry(scheme.name, f"cveid_{i}", [(cls["name"], LANGUAGE[0], cls.get("description"))])
            params["CONTROLLED_VOCABULARY_REF"] = scheme.name
        eaf.add_linguistic_type(scheme.name, param_dict=params)
    for tier in labels.tiers:
        name = names.get(tier.tier.id, tier.key.format())
        eaf.add_tier(name, ling=tier.scheme.name, part=tier.key.participant, ann=tier.key.annotator)
        ids = []
        for seg in tier.segments:
            start = _ms(seg.start_us)
            eaf.add_annotation(name, start, max(_ms(seg.end_us), start + 1), tier.text_of(seg))
            ids.append(f"a{eaf.maxaid}")  # the id pympi just gave the annotation
        for extra, numbers in tier.companions().items():
            _add_numbers(eaf, name, tier.key.with_extra(extra), list(zip(ids, numbers, strict=True)))
    eaf.properties.append(("lastUsedAnnotation", eaf.maxaid))
    return eaf


def write_eaf(labels: SessionLabels, path: Path, project_root: Path,
              source_names: Mapping[int, tuple[str, str]] | None = None) -> Path:
    """Write one session to ``path`` (atomically: a reader never sees half a file)."""
    from pympi.Elan import to_string

    path = Path(path)
    text = to_string(build_eaf(labels, project_root, path.parent, source_names))
    return write_text_atomically(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + text)


def export_eaf(project: Project, out_dir: Path, *, sessions: Sequence[str] | None = None,
               annotators: Sequence[str] | None = None, tier_names: Sequence[str] | None = None) -> list[Path]:
    """One ``<session>.eaf`` per session in ``out_dir``; returns the files written."""
    out_dir = Path(out_dir)
    names = read_source_names(project)
    return [write_eaf(labels, out_dir / f"{safe_filename(labels.session.name)}.eaf", project.root, names)
            for labels in read_project_labels(project, sessions=sessions, annotators=annotators,
                                              tier_names=tier_names)]


# -- import ------------------------------------------------------------------------------------------


def _json_property(path: Path, props: dict[str, str], name: str, expected: type) -> Any:
    if name not in props:
        return expected()
    try:
        value = json.loads(props[name] or "")
    except ValueError as exc:
        raise ImportFormatError(f"header property {name!r} is not valid JSON ({exc})", path=path) from None
    if not isinstance(value, expected):
        raise ImportFormatError(f"header property {name!r} must be a JSON {expected.__name__}", path=path)
    return value


def _parse_xml(path: Path) -> None:
    """Well-formedness check with a line number (pympi only says 'unable to parse')."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror}", path=path) from exc
    try:
        root = ET.fromstring(data)
    except LookupError as exc:  # the XML declaration names an unknown encoding
        raise ImportFormatError(f"the XML declaration names an unknown encoding ({exc})", path=path) from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]  # expat's words, without its own "line X, column Y"
        raise ImportFormatError(f"not well-formed XML at column {column + 1} ({reason})", path=path, line=line,
                                hint="is the file truncated or not UTF-8?") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise ImportFormatError(f"not an ELAN file: the root element is <{root.tag}>, not <ANNOTATION_DOCUMENT>",
                                path=path)


def _load(path: Path) -> Any:
    from pympi.Elan import Eaf

    _parse_xml(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Eaf(str(path), suppress_version_warning=True)
    except Exception as exc:  # pympi reports a missing attribute or element as whatever Python raised
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        raise ImportFormatError(f"not a valid ELAN document ({detail})", path=path,
                                hint="open and save it in ELAN to repair it") from None


def _media_links(path: Path, eaf: Any, props: dict[str, str]) -> list[MediaLink]:
    extra = _json_property(path, props, PROP_MEDIA, list)
    links = []
    for i, desc in enumerate(eaf.media_descriptors):
        where = f"MEDIA_DESCRIPTOR #{i + 1}"
        url = desc.get("RELATIVE_MEDIA_URL") or desc.get("MEDIA_URL")
        if not url:
            raise ImportFormatError(f"{where} has no MEDIA_URL", path=path)
        parsed = urlparse(url)
        if parsed.scheme == "file":
            media = Path(unquote(parsed.path))
        elif parsed.scheme:
            media = Path(unquote(url))
        else:
            media = Path(unquote(url))
            media = media if media.is_absolute() else path.parent / media
        try:
            offset_us = -int(desc.get("TIME_ORIGIN") or 0) * 1000
        except ValueError:
            raise ImportFormatError(f"{where}: TIME_ORIGIN {desc.get('TIME_ORIGIN')!r} is not whole milliseconds",
                                    path=path) from None
        if "\x00" in str(media) or len(str(media)) > 4096:
            raise ImportFormatError(f"{where}: the media URL is not a usable file path", path=path)
        link = MediaLink(path=os.path.normpath(media), offset_us=offset_us)
        info = extra[i] if i < len(extra) and isinstance(extra[i], dict) else {}
        if isinstance(info.get("offset_us"), int) and not isinstance(info.get("offset_us"), bool):
            link.offset_us = info["offset_us"]
        if info.get("kind") in ("view", "audio"):
            link.kind = info["kind"]
        if isinstance(info.get("name"), str) and info["name"]:
            link.name = info["name"][:200]
        if isinstance(info.get("participant"), str):
            link.participant = info["participant"]
        if isinstance(info.get("fps"), int | float) and not isinstance(info.get("fps"), bool) and info["fps"] > 0:
            link.fps = float(info["fps"])
        checked_us(link.offset_us, "time origin", path=path, where=where)
        links.append(link)
    return links


def _aligned_segments(path: Path, eaf: Any, tier_id: str, align: dict) -> list[SourceSegment]:
    segments = []
    for aid, (ts1, ts2, value, _svg) in align.items():
        where = f"tier {tier_id!r}, annotation {aid}"
        times = []
        for ts in (ts1, ts2):
            if ts not in eaf.timeslots:
                raise ImportFormatError(f"{where}: refers to a time slot {ts!r} that does not exist", path=path)
            if eaf.timeslots[ts] is None:
                raise ImportFormatError(f"{where}: time slot {ts!r} has no time value (unaligned)", path=path,
                                        hint="align the annotation in ELAN")
            times.append(checked_us(int(eaf.timeslots[ts]) * 1000, f"time slot {ts!r}", path=path, where=where))
        segments.append(SourceSegment(times[0], times[1], value, where=where))
    return segments


def _ref_segments(path: Path, eaf: Any, tier_id: str, ref: dict, parent: dict) -> list[SourceSegment]:
    """A companion tier's values, timed by the parent annotations they refer to."""
    segments = []
    for aid, (parent_aid, value, _prev, _svg) in ref.items():
        where = f"tier {tier_id!r}, annotation {aid}"
        if parent_aid not in parent:
            raise ImportFormatError(f"{where}: refers to annotation {parent_aid!r}, which is not on the parent tier",
                                    path=path)
        (seg,) = _aligned_segments(path, eaf, tier_id, {aid: parent[parent_aid]})
        segments.append(SourceSegment(seg.start_us, seg.end_us, value, where=where))
    return segments


def read_eaf(path: str | Path, *, tier_mapping: Mapping[str, TierTarget | TierKey | None] | None = None,
             skip_unmapped: bool = False, unmapped: Unmapped | None = None) -> LabelDocument:
    """Parse an EAF into a ``LabelDocument`` (no project needed; nothing is written).

    A tier's name must follow ``PARTICIPANT|TIER|ANNOTATOR`` unless ``tier_mapping`` maps it (see
    ``tier_mapping.apply_tier_mapping``); with ``skip_unmapped`` other tiers are skipped (and listed in the
    document's notes) instead of refused, with ``unmapped="keep"`` they are kept without a key.
    """
    path = Path(path)
    eaf = _load(path)
    props: dict[str, str] = {}
    for name, value in eaf.properties:
        props[str(name)] = "" if value is None else str(value)
    dyadlab_file = PROP_SESSION in props
    annotator_kinds = {str(k): str(v) for k, v in _json_property(path, props, PROP_ANNOTATORS, dict).items()
                       if isinstance(v, str) and v in ("human", "gold", "model", "corpus")}
    tier_kinds = _json_property(path, props, PROP_TIER_KINDS, dict)
    tier_keys = _json_property(path, props, PROP_TIER_KEYS, dict)
    doc = LabelDocument(path=path, session=props.get(PROP_SESSION) or path.stem, tiers=[],
                        media=_media_links(path, eaf, props), annotator_kinds=annotator_kinds)
    info = _json_property(path, props, PROP_SESSION_INFO, dict)
    duration = info.get("duration_us")
    if isinstance(duration, int) and not isinstance(duration, bool) and 0 < duration <= MAX_TIME_US:
        doc.duration_us = duration
    if isinstance(info.get("group"), str):
        doc.group = info["group"][:200]
    participants = info.get("participants")
    if isinstance(participants, list):
        doc.participants = [p for p in participants if isinstance(p, str) and p]
    for tier_id, (align, ref, attrib, _ordinal) in sorted(eaf.tiers.items(), key=lambda item: item[1][3]):
        where = f"tier {tier_id!r}"
        # a tier DyadLab exported under the name it was imported with says its key in the header
        key = parse_tier_name(tier_keys[tier_id]) if isinstance(tier_keys.get(tier_id), str) else None
        key = key or parse_tier_name(tier_id)
        if ref:
            parent_id = attrib.get("PARENT_REF")
            if parent_id not in eaf.tiers:
                raise ImportFormatError(f"{where}: its parent tier {parent_id!r} does not exist", path=path)
            segments = _ref_segments(path, eaf, tier_id, ref, eaf.tiers[parent_id][0])
        else:
            segments = _aligned_segments(path, eaf, tier_id, align)
        ling = attrib.get("LINGUISTIC_TYPE_REF")
        kind = tier_kinds.get(tier_id) if isinstance(tier_kinds.get(tier_id), str) else None
        doc.tiers.append(SourceTier(key=key, segments=segments, where=where, kind=kind, name=tier_id,
                                    scheme=ling if dyadlab_file and ling else None, dependent=bool(ref),
                                    participant_hint=attrib.get("PARTICIPANT"),
                                    annotator_hint=attrib.get("ANNOTATOR")))
    return apply_tier_mapping(doc, tier_mapping, unmapped or ("skip" if skip_unmapped else "refuse"))


def import_eaf(project: Project, path: str | Path, *, session: str | None = None, on_existing: OnExisting = "error",
               default_scheme: str | None = None,
               tier_mapping: Mapping[str, TierTarget | TierKey | None] | None = None,
               skip_unmapped: bool = False, create_session: bool = True) -> ImportReport:
    """Read an EAF and import it (all or nothing); see ``label_import.import_documents`` for the options."""
    doc = read_eaf(path, tier_mapping=tier_mapping, skip_unmapped=skip_unmapped)
    return import_documents(project, [doc], session=session, on_existing=on_existing,
                            default_scheme=default_scheme, create_session=create_session)
