"""A DyadLab project: a folder holding ``dyadlab.sqlite``, a ``cache/`` dir and (usually) the media.

Media paths are stored relative to the project folder so a project can be moved or shared as a whole.
Opening a project checks the schema version (refusing a newer one, migrating an older one after a
backup) and installs the shipped label schemes that are missing. In team mode the folder holds a
``project.toml`` naming a PostgreSQL server instead of the SQLite file (see ``core/store/server.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dyadlab.core.errors import ProjectError
from dyadlab.core.inference.builtin import install_builtin_models
from dyadlab.core.labels import install_default_schemes
from dyadlab.core.labels.schemes import SCHEMES_LOCK_KEY
from dyadlab.core.store import Store, UnitOfWork
from dyadlab.core.store.server import check_server_url, read_database_url, save_database_url

DB_NAME = "dyadlab.sqlite"
CACHE_DIR = "cache"
# rewritten (core.features.cache.note_change) whenever an analysis result is finished or removed, by any
# process: a window watches this one file instead of the cache tree (here, so watching imports no numpy)
ANALYSIS_MARKER = f"{CACHE_DIR}/features/.changed"


@dataclass
class Project:
    """An open project. ``store`` is the only way to its data; ``close()`` releases the database."""

    root: Path
    store: Store
    cache_dir: Path = field(init=False)
    notices: list[str] = field(default_factory=list)  # what the user should know about this open

    def __post_init__(self) -> None:
        self.cache_dir = self.root / CACHE_DIR

    @property
    def db_file(self) -> Path:
        return self.root / DB_NAME

    @property
    def analysis_marker(self) -> Path:
        return self.root / ANALYSIS_MARKER

    def media_path(self, stored: str) -> Path:
        """Absolute path of a media file referenced in the store."""
        p = Path(stored)
        return p if p.is_absolute() else self.root / p

    def relative_media_path(self, path: str | Path) -> str:
        """What to store for ``path``: relative to the project root when inside it, else absolute."""
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(p)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def create_project(root: str | Path, *, name: str | None = None, exist_ok: bool = False,
                   database: str | None = None) -> Project:
    """Create a new project folder (or open it when ``exist_ok`` and it is already a project).

    ``database``: a PostgreSQL URL without a password (team mode). The folder then names the server in
    ``project.toml`` instead of holding ``dyadlab.sqlite``; a server database that already holds a
    project is joined, keeping its name.
    """
    root = Path(root)
    if database is not None:
        database = check_server_url(database)  # a password is refused before anything is created
    if (root / DB_NAME).exists() or read_database_url(root) is not None:
        if exist_ok:
            return open_project(root)
        raise ProjectError("a DyadLab project already exists here", path=root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / CACHE_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"cannot create the project folder: {exc.strerror}", path=root) from exc
    store = Store.for_sqlite(root / DB_NAME) if database is None else Store(database)
    try:
        with store.transaction() as tx:
            _name_new_project(tx, root, name, joining=exist_ok or database is not None)
            install_default_schemes(tx)
            install_builtin_models(tx)
    except BaseException:
        store.close()
        raise
    if database is not None:
        save_database_url(root, database)  # only once the server answered and holds the schema
    return Project(root=root, store=store)


def _name_new_project(tx: UnitOfWork, root: Path, name: str | None, *, joining: bool) -> None:
    """Give the new project its name, unless another client created the project first.

    Another process may have created the same project between the "is there a project here?" check and
    now (two ``dyadlab`` processes on a shared folder, a team creating projects on one server). Checking and
    naming hold the write lock, so exactly one of them names it; the others join it, keeping that name
    (``joining``: ``exist_ok``, or a server database, which a new folder always joins), or are refused as
    if the project had been there from the start.
    """
    tx.lock_for_writing(SCHEMES_LOCK_KEY)  # the same lock the shipped schemes are added under: one critical section
    if tx.settings.get("name") is None:
        tx.settings.set("name", name or root.resolve().name)
    elif not joining:
        raise ProjectError("a DyadLab project already exists here", path=root,
                           hint="another program created it at the same moment; open it instead")


def open_project(root: str | Path) -> Project:
    """Open an existing project folder; the error names the folder and what is wrong."""
    root = Path(root)
    db = root / DB_NAME
    if not root.is_dir():
        raise ProjectError("no such project folder", path=root, hint="create one with `dyadlab demo` or `dyadlab import`")
    server = read_database_url(root)
    if server is not None:
        store, writable = Store(server), True
    else:
        if not db.is_file():
            raise ProjectError(f"not a DyadLab project (no {DB_NAME})", path=root)
        if not os.access(db, os.R_OK):
            raise ProjectError("the project database is not readable", path=db)
        store = Store.for_sqlite(db)
        writable = os.access(db, os.W_OK) and os.access(root, os.W_OK)
    notices = _install_shipped(store) if writable else []
    if server is not None:
        notices += _rule_drift(store)
    (root / CACHE_DIR).mkdir(exist_ok=True) if os.access(root, os.W_OK) else None
    return Project(root=root, store=store, notices=notices)


def _rule_drift(store: Store) -> list[str]:
    """A notice when the team server enforces other rules than the ones this DyadLab greys its controls by
    (its rules were installed by another DyadLab version, or changed by hand): a control left enabled may be
    refused when used, so the user is told once at open, and who can bring the rules up to date."""
    from dyadlab.core.store.accounts import connected_account

    account = connected_account(store)
    if account is None or account.rules_match:
        return []
    return [f"The team server's access rules are not this DyadLab's: {account.rules_line()}."]


def _install_shipped(store: Store) -> list[str]:
    """Add the label schemes and models this DyadLab ships that the project lacks (none, usually).

    On a team server only the owner and admins may add schemes and models; an annotator or reviewer who
    upgraded DyadLab before them still opens the project (its tiers use the schemes it has), and is told
    why the new ones are missing. Any other error is the open's error."""
    from dyadlab.core.store.roles import AccessDenied

    try:
        with store.transaction() as tx:
            install_default_schemes(tx)
            install_builtin_models(tx)
    except AccessDenied:
        if not store.is_server:
            raise
        return ["This DyadLab ships label schemes or models the project does not have yet, and your role may "
                "not add them: the project owner or an admin must open it once with this DyadLab version. "
                "Until then the project opens without them."]
    return []
