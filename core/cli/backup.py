"""``dyadlab backup PROJECT``: a consistent copy of a project's database, made now.

Why: DyadLab backs the database up by itself before every schema migration, but a user also wants one on
demand — before a bulk import with ``--replace``, a gold-standard merge, or handing the laptop in for
repair. The copy goes through SQLite's online backup API (``core.store.database.backup_sqlite``), so it is
consistent even while the GUI has the project open and is writing (uncommitted edits are not in it). It
lands next to the migration backups, as ``<project>/backups/dyadlab-<timestamp>-<label>.sqlite``, and is
checked with ``PRAGMA quick_check`` before the command reports success. To restore, close DyadLab and copy
the file over ``<project>/dyadlab.sqlite``.

``backup_project`` is the same operation for the GUI (a "Back up now" action) and scripts.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

NAME = "backup"
HELP = "copy the project's database to PROJECT/backups/ now (consistent even while the project is open)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--label", default="manual",
                   help="word added to the backup's file name (default: manual), e.g. before-merge")


def backup_project(root: str | Path, label: str = "manual") -> Path:
    """Back up the SQLite database of the project at ``root``; returns the backup file.

    Raises ProjectError when ``root`` is not a project on a SQLite file (a team project's database lives
    on its server: back that up with ``pg_dump``), StoreError when the copy cannot be written or is not
    sound (nothing is left behind then).
    """
    from dyadlab.core.errors import ProjectError, StoreError
    from dyadlab.core.project import DB_NAME
    from dyadlab.core.store.database import backup_sqlite
    from dyadlab.core.store.server import SETTINGS_FILE, read_database_url

    root = Path(root)
    if not root.is_dir():
        raise ProjectError("no such project folder", path=root)
    if read_database_url(root) is not None:
        raise ProjectError(f"this is a team project: its database is on the server named in {SETTINGS_FILE}",
                           path=root, hint="back the server database up with pg_dump")
    db = root / DB_NAME
    if not db.is_file():
        raise ProjectError(f"not a DyadLab project (no {DB_NAME})", path=root)
    word = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.") or "manual"
    try:
        target = backup_sqlite(db, word)
    except OSError as exc:  # backups/ cannot be created (read-only folder, a file of that name, disk full)
        raise StoreError(f"could not write the backup: {exc.strerror or exc}; nothing was changed",
                         path=root / "backups") from exc
    problem = _check(target)
    if problem is not None:
        target.unlink(missing_ok=True)
        raise StoreError(f"the backup copy is not sound ({problem}); it was removed", path=target,
                         hint="check the disk, then try again")
    return target


def _check(copy: Path) -> str | None:
    import sqlite3  # here, not at the top: every `dyadlab` call imports this module to build its parser

    try:
        con = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            result = [row[0] for row in con.execute("PRAGMA quick_check")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if result == ["ok"] else "; ".join(result[:3])


def run(args: argparse.Namespace) -> int:
    target = backup_project(args.project, args.label)
    print(f"backed up {args.project / 'dyadlab.sqlite'} to {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0
