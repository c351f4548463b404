"""Which label file formats DyadLab reads and writes, and the one call each direction for CLI and GUI.

``import_label_file`` picks the reader by the file's suffix (or its first bytes) and imports through
``label_import.import_documents``; ``export_labels`` writes a whole project (or chosen sessions and
annotators) in one format. The GUI's import/export dialogs and ``dyadlab import-labels`` / ``dyadlab
export`` call these, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab.core.errors import DyadLabError, ImportFormatError
from dyadlab.core.io.label_import import ImportReport, LabelDocument, OnExisting, import_documents
from dyadlab.core.label_format_names import EXPORT_FORMATS, IMPORT_FORMATS

if TYPE_CHECKING:
    from dyadlab.core.project import Project

_SUFFIXES = {".eaf": "eaf", ".textgrid": "textgrid", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path: Path) -> str:
    """The import format of ``path``: by suffix, else by its first bytes."""
    path = Path(path)
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
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


def read_label_file(path: str | Path, fmt: str = "auto", *, session: str | None = None) -> list[LabelDocument]:
    """Parse a label file into documents (one per session it holds); nothing is written."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "eaf":
        from dyadlab.core.io.eaf import read_eaf

        return [read_eaf(path)]
    if fmt == "textgrid":
        from dyadlab.core.io.textgrid import read_textgrid

        return [read_textgrid(path)]
    if fmt in ("csv", "parquet"):
        from dyadlab.core.io.tables import read_segments_table

        if fmt == "parquet" and path.suffix.lower() not in (".parquet", ".pq"):
            raise ImportFormatError("a Parquet file must end in .parquet", path=path)
        return read_segments_table(path, session=session)
    raise ImportFormatError(f"unknown label format {fmt!r}", path=path, hint=f"one of {', '.join(IMPORT_FORMATS)}")


def import_label_file(project: Project, path: str | Path, *, fmt: str = "auto", session: str | None = None,
                      on_existing: OnExisting = "error", default_scheme: str | None = None,
                      create_session: bool = True) -> ImportReport:
    """Read ``path`` and import it into ``project``, all or nothing (see ``import_documents``)."""
    documents = read_label_file(path, fmt, session=session)
    if not documents:
        raise ImportFormatError("the file holds no labels", path=path)
    tables = fmt in ("csv", "parquet") or (fmt == "auto" and detect_format(Path(path)) in ("csv", "parquet"))
    return import_documents(project, documents, session=None if tables else session, on_existing=on_existing,
                            default_scheme=default_scheme, create_session=create_session)


def export_labels(project: Project, fmt: str, out_dir: str | Path, *, sessions: Sequence[str] | None = None,
                  annotators: Sequence[str] | None = None, **options: Any) -> list[Path]:
    """Write the project's labels in ``fmt`` to ``out_dir``; returns the files written.

    ``options`` go to the format's exporter (e.g. ``traces="csv"`` for TextGrid, ``frame_of`` for tables,
    ``tier``/``annotator`` for the IEMOCAP text).
    """
    out_dir = Path(out_dir)
    if fmt == "eaf":
        from dyadlab.core.io.eaf import export_eaf

        return export_eaf(project, out_dir, sessions=sessions, annotators=annotators, **options)
    if fmt == "textgrid":
        from dyadlab.core.io.textgrid import export_textgrid

        return export_textgrid(project, out_dir, sessions=sessions, annotators=annotators, **options)
    if fmt in ("csv", "parquet"):
        from dyadlab.core.io.tables import export_tables

        return export_tables(project, out_dir, fmt=fmt, sessions=sessions, annotators=annotators, **options)
    if fmt == "iemocap":
        from dyadlab.core.io.emo_export import export_emo_evaluation

        return export_emo_evaluation(project, out_dir, sessions=sessions, annotators=annotators, **options)
    raise DyadLabError(f"unknown export format {fmt!r}", hint=f"one of {', '.join(EXPORT_FORMATS)}")
