"""Creating a project by importing into it, without leaving a half-made project behind when that fails.

``run_import`` is all or nothing inside an existing project (one transaction). Importing into a folder
that is not a project yet first has to create it — and when the import then fails (a zero-byte video, a
bad label file), the user used to be left with an empty project folder that opened with no guidance.
``import_creating_project`` removes what it created in that case: the folder itself when it did not
exist, else the database and cache it added to the existing folder. The CLI's ``dyadlab import`` and
the GUI's File ▸ Import (a job running that command) both end here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dyadlab.core.io.report import ImportReport
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import CACHE_DIR, DB_NAME, create_project
from dyadlab.core.store.server import read_database_url


def is_project(root: Path) -> bool:
    return (root / DB_NAME).exists() or read_database_url(root) is not None


def import_creating_project(fmt: str, root: Path, source: Path, *, progress: ProgressCallback | None = None,
                            **options) -> ImportReport:
    """Import ``source`` (format ``fmt``) into the project at ``root``, creating it when missing.

    ``options`` are ``run_import``'s (sessions, split_layout, segments_csv, replace). On any failure the
    error is raised and nothing this call created is left on disk.
    """
    from dyadlab.core.io import run_import

    root = Path(root)
    existed, was_project = root.exists(), is_project(root)
    before = set(root.iterdir()) if existed and not was_project else set()
    project = create_project(root, exist_ok=True)
    try:
        with project:
            return run_import(fmt, project, Path(source), progress=progress, **options)
    except BaseException:
        if not was_project:
            _remove_new_project(root, existed, before)
        raise


def _remove_new_project(root: Path, existed: bool, before: set[Path]) -> None:
    if not existed:
        shutil.rmtree(root, ignore_errors=True)
        return
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", CACHE_DIR):
        path = root / name
        if path in before:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
