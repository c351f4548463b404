"""Which label file formats DyadLab reads and writes, and the one call each direction for CLI and GUI.

``import_label_file`` picks the reader by the file's suffix (or its first bytes) and imports through
``label_import.import_documents``; ``export_labels`` writes a whole project (or chosen sessions and
annotators) in one format. The GUI's import/export dialogs and ``dyadlab import-labels`` / ``dyadlab
export`` call these, so they cannot drift apart. Which code reads or writes each format, and which suffixes
name it, comes from the registry in ``core.formats``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab.core.errors import DyadLabError, ImportFormatError
from dyadlab.core.formats import EXPORT_FORMATS, IMPORT_FORMATS, LABEL_FORMATS, LabelFormat, load
from dyadlab.core.io.label_files.label_import import ImportReport, LabelDocument, OnExisting, import_documents
from dyadlab.core.io.label_files.tier_mapping import TierTarget, Unmapped
from dyadlab.core.io.label_files.unknown_labels import UnknownLabels

if TYPE_CHECKING:
    from dyadlab.core.project import Project

def detect_format(path: Path) -> str:
    """The import format of ``path``: by suffix, else by its first bytes."""
    path = Path(path)
    for spec in LABEL_FORMATS.values():
        if spec.reader and path.suffix.lower() in spec.suffixes:
            return spec.name
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror}", path=path) from exc
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"PAR1"):
        return "parquet"
    if b"ooTextFile" in text or b"ooBinaryFile" in text or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "textgrid"
    if text.startswith(b"<"):
        return "eaf"
    if b"start_s" in text:
        return "csv"
    raise ImportFormatError("cannot tell the file's format", path=path,
                            hint=f"name it with --format ({', '.join(IMPORT_FORMATS)})")


def read_label_file(path: str | Path, fmt: str = "auto", *, session: str | None = None,
                    tier_mapping: Mapping[str, TierTarget] | None = None,
                    unmapped: Unmapped = "refuse") -> list[LabelDocument]:
    """Parse a label file into documents (one per session it holds); nothing is written.

    ``tier_mapping`` and ``unmapped`` say where the tiers of an ELAN or Praat file go
    (``tier_mapping.apply_tier_mapping``); a table names its tiers in columns and takes neither.
    """
    path = Path(path)
    spec = _label_format(detect_format(path) if fmt == "auto" else fmt, path)
    if spec.reader is None:
        raise ImportFormatError(f"{spec.title} files cannot be imported", path=path,
                                hint=f"one of {', '.join(IMPORT_FORMATS)}")
    if spec.suffix_required and path.suffix.lower() not in spec.suffixes:
        raise ImportFormatError(f"a {spec.title} file must end in {spec.suffixes[0]}", path=path)
    read = load(spec.reader)
    if spec.table:
        if tier_mapping:
            raise ImportFormatError(f"a {spec.title} file names its tiers in columns: --map does not apply",
                                    path=path)
        return read(path, session=session)
    # (only when asked: a reader of files with fixed tier names need not take them)
    options = {"tier_mapping": tier_mapping} if tier_mapping else {}
    if unmapped != "refuse":
        options["unmapped"] = unmapped
    return [read(path, **options)]


def import_label_file(project: Project, path: str | Path, *, fmt: str = "auto", session: str | None = None,
                      on_existing: OnExisting = "error", default_scheme: str | None = None,
                      create_session: bool = True, tier_mapping: Mapping[str, TierTarget] | None = None,
                      unknown: UnknownLabels | None = None) -> ImportReport:
    """Read ``path`` and import it into ``project``, all or nothing (see ``import_documents``);
    ``tier_mapping`` places freely named tiers, ``unknown`` decides about labels outside their schemes."""
    documents = read_label_file(path, fmt, session=session, tier_mapping=tier_mapping)
    if not documents:
        raise ImportFormatError("the file holds no labels", path=path)
    tables = _label_format(detect_format(Path(path)) if fmt == "auto" else fmt, Path(path)).table
    return import_documents(project, documents, session=None if tables else session, on_existing=on_existing,
                            default_scheme=default_scheme, create_session=create_session, unknown=unknown)


def export_labels(project: Project, fmt: str, out_dir: str | Path, *, sessions: Sequence[str] | None = None,
                  annotators: Sequence[str] | None = None, **options: Any) -> list[Path]:
    """Write the project's labels in ``fmt`` to ``out_dir``; returns the files written.

    ``options`` go to the format's exporter (e.g. ``traces="csv"`` for TextGrid, ``frame_of`` for tables,
    ``tier``/``annotator`` for the IEMOCAP text).
    """
    spec = LABEL_FORMATS.get(fmt)
    if spec is None or spec.exporter is None:
        raise DyadLabError(f"unknown export format {fmt!r}", hint=f"one of {', '.join(EXPORT_FORMATS)}")
    if spec.table:
        options["fmt"] = fmt
    return load(spec.exporter)(project, Path(out_dir), sessions=sessions, annotators=annotators, **options)


def _label_format(fmt: str, path: Path) -> LabelFormat:
    spec = LABEL_FORMATS.get(fmt)
    if spec is None:
        raise ImportFormatError(f"unknown label format {fmt!r}", path=path, hint=f"one of {', '.join(IMPORT_FORMATS)}")
    return spec
