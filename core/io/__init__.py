"""Importers and exporters: bringing corpora into a project, all or nothing.

``run_import`` is the one entry point the CLI and the GUI call; it picks the importer for a format from
the registry in ``core.formats``:

- ``iemocap`` (``core.io.corpora.iemocap``): the IEMOCAP release, one session per dialog;
- ``udiva`` (``core.io.corpora.udiva``): UDIVA recordings, one session per (session, task);
- ``folder`` (``core.io.corpora.folder``): a folder of the user's own recordings, with an optional segments CSV.

Every importer reads and checks the whole input first (``ImportFormatError``, ``MediaError`` or
``LabelSchemeError`` naming the file and line), then writes everything in a single transaction, so a
failed import leaves the project exactly as it was. Each module's docstring states the layout it reads.
Every time and metadata integer a reader takes from a file goes through ``core.io.times`` (finite, within
±``core.model.MAX_TIME_US``), so a damaged number is an ``ImportFormatError`` rather than an overflow.
"""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.formats import CORPUS_FORMATS, load
from dyadlab.core.io.corpora.folder import import_folder
from dyadlab.core.io.corpora.iemocap import import_iemocap
from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.io.corpora.udiva import import_udiva
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project

FORMATS = tuple(CORPUS_FORMATS)


def run_import(fmt: str, project: Project, source: Path, *, sessions: list[str] | None = None,
               split_layout: str | None = None, segments_csv: Path | None = None,
               progress: ProgressCallback | None = None, replace: bool = False) -> ImportReport:
    """Import ``source`` in format ``fmt`` into ``project``; options that do not apply to it only warn.

    ``replace=True`` deletes sessions of the same names first (in the same transaction); without it,
    re-importing a session the project already has is an error and nothing is written.
    """
    spec = CORPUS_FORMATS.get(fmt)
    if spec is None:
        raise ImportFormatError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    given = {"split_layout": split_layout, "segments_csv": segments_csv}
    report = load(spec.importer)(project, Path(source), sessions=sessions, replace=replace, progress=progress,
                                 **{option: given[option] for option in spec.options})
    for option, value in given.items():
        if value not in (None, "") and option not in spec.options:
            takers = ", ".join(name for name, f in CORPUS_FORMATS.items() if option in f.options)
            report.warn(f"--{option.replace('_', '-')} applies to {takers} imports only; ignored")
    return report


__all__ = ["FORMATS", "ImportReport", "import_folder", "import_iemocap", "import_udiva", "run_import"]
