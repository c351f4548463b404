"""Importers and exporters: bringing corpora into a project, all or nothing.

``run_import`` is the one entry point the CLI and the GUI call; it picks the importer for a format:

- ``iemocap`` (``core.io.iemocap``): the IEMOCAP release, one session per dialog;
- ``udiva`` (``core.io.udiva``): UDIVA recordings, one session per (session, task);
- ``folder`` (``core.io.folder``): a folder of the user's own recordings, with an optional segments CSV.

Every importer reads and checks the whole input first (``ImportFormatError``, ``MediaError`` or
``LabelSchemeError`` naming the file and line), then writes everything in a single transaction, so a
failed import leaves the project exactly as it was. Each module's docstring states the layout it reads.
Every time and metadata integer a reader takes from a file goes through ``core.io.times`` (finite, within
±``core.model.MAX_TIME_US``), so a damaged number is an ``ImportFormatError`` rather than an overflow.
"""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.folder import import_folder
from dyadlab.core.io.iemocap import import_iemocap
from dyadlab.core.io.report import ImportReport
from dyadlab.core.io.udiva import import_udiva
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project

FORMATS = ("iemocap", "udiva", "folder")


def run_import(fmt: str, project: Project, source: Path, *, sessions: list[str] | None = None,
               split_layout: str | None = None, segments_csv: Path | None = None,
               progress: ProgressCallback | None = None, replace: bool = False) -> ImportReport:
    """Import ``source`` in format ``fmt`` into ``project``; options that do not apply to it only warn.

    ``replace=True`` deletes sessions of the same names first (in the same transaction); without it,
    re-importing a session the project already has is an error and nothing is written.
    """
    source = Path(source)
    if fmt == "iemocap":
        report = import_iemocap(project, source, sessions=sessions, split_layout=split_layout, replace=replace,
                                progress=progress)
    elif fmt == "udiva":
        report = import_udiva(project, source, sessions=sessions, replace=replace, progress=progress)
    elif fmt == "folder":
        report = import_folder(project, source, sessions=sessions, segments_csv=segments_csv, replace=replace,
                               progress=progress)
    else:
        raise ImportFormatError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if split_layout and fmt != "iemocap":
        report.warn("--split-layout applies to iemocap only; ignored")
    if segments_csv is not None and fmt != "folder":
        report.warn("--segments-csv applies to folder imports only; ignored")
    return report


__all__ = ["FORMATS", "ImportReport", "import_folder", "import_iemocap", "import_udiva", "run_import"]
