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
import tempfile
from pathlib import Path

from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import CACHE_DIR, DB_NAME, create_project
from dyadlab.core.store.server import read_database_url


def is_project(root: Path) -> bool:
    return (root / DB_NAME).exists() or read_database_url(root) is not None


def bad_files(exc: BaseException) -> list[tuple[Path, str]]:
    """(file, what is wrong) for each bad *file* an import error names; [] when it is not about files
    (then skipping cannot help: a bad layout, a bad label row)."""
    from dyadlab.core.errors import MediaError
    from dyadlab.core.io.corpora.folder import BadFilesError

    errors = exc.errors if isinstance(exc, BadFilesError) else [exc] if isinstance(exc, MediaError) else []
    found = [(e.path, str(e)) for e in errors if getattr(e, "path", None) is not None]
    if len(found) != len(errors) or any(not path.is_file() for path, _ in found):
        return []
    return found


def import_creating_project(fmt: str, root: Path, source: Path, *, progress: ProgressCallback | None = None,
                            skip_bad: bool = False, **options) -> ImportReport:
    """Import ``source`` (format ``fmt``) into the project at ``root``, creating it when missing.

    ``options`` are ``run_import``'s (sessions, split_layout, segments_csv, replace). On any failure the
    error is raised and nothing this call created is left on disk. ``skip_bad`` (folder imports): when
    the only problem is bad media files, import the rest and list each skipped file and why in the report.
    """
    try:
        return _import_once(fmt, root, source, progress=progress, **options)
    except Exception as exc:
        bad = bad_files(exc) if skip_bad and fmt == "folder" else []
        if not bad:
            raise
    with tempfile.TemporaryDirectory(prefix="dyadlab-import-") as tmp:
        mirror = _mirror_without(Path(source), {path.resolve() for path, _ in bad}, Path(tmp))
        report = _import_once(fmt, root, mirror, progress=progress, **options)
    report.source = Path(source)
    for path, why in bad:
        report.warn(f"skipped {path.name}: {why}")
    return report


def _mirror_without(source: Path, skip: set[Path], tmp: Path) -> Path:
    """``source`` again under ``tmp`` (same folder names, so the same session names), as links to its
    files, leaving out ``skip``. The store keeps resolved paths (``Project.relative_media_path``), so what
    is imported points at the real files, not at the links."""
    mirror = tmp / source.name
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.resolve() not in skip:
            link = mirror / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
    mirror.mkdir(exist_ok=True)
    return mirror


def _import_once(fmt: str, root: Path, source: Path, *, progress: ProgressCallback | None = None,
                 **options) -> ImportReport:
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
