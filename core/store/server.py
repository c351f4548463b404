"""Team mode: a project whose database lives on a PostgreSQL server instead of its SQLite file.

Why a separate module: the project folder is what annotators share, copy and mail around, so the only thing
it may say about the server is *where* it is. ``project.toml`` in the folder holds
``database = "postgresql+psycopg://user@host:port/db"``; a URL carrying a password is refused when it is
saved *and* when it is read, so a secret can never travel with a project. The password comes from where
PostgreSQL users already keep it: libpq itself reads ``PGPASSWORD`` and ``~/.pgpass`` (or ``PGPASSFILE``);
when neither has one and the optional ``keyring`` package is installed, the desktop keyring is asked
(service ``dyadlab``, user name ``user@host:port/db``), in memory only.

It also turns the server's terse errors (refused connection, bad password, dropped connection) into
messages that say what happened to the user's edit and what to do.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dyadlab.core.errors import ProjectError

SETTINGS_FILE = "project.toml"
KEYRING_SERVICE = "dyadlab"
DRIVER = "postgresql+psycopg"
_WHERE_TO_PUT_PASSWORDS = ("put the password in ~/.pgpass (a line host:port:database:user:password, "
                           "file mode 0600) or in the PGPASSWORD environment variable")


def is_server_url(url: str | URL) -> bool:
    """True for a PostgreSQL URL (any driver spelling), False for SQLite and anything else."""
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False


def check_server_url(url: str, *, where: Path | None = None) -> str:
    """``url`` normalised to the psycopg 3 driver; a ProjectError when it is unusable or holds a password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # make_url raises ValueError for a non-numeric port
        raise ProjectError(f"{url!r} is not a database URL", path=where,
                           hint=f"write it as {DRIVER}://user@host:port/database") from exc
    if parsed.get_backend_name() != "postgresql":
        raise ProjectError(f"team mode needs a PostgreSQL URL, not {parsed.drivername!r}", path=where,
                           hint=f"write it as {DRIVER}://user@host:port/database")
    if parsed.password is not None or "password" in parsed.query:
        raise ProjectError(
            "the database URL contains a password; DyadLab never stores passwords in a project folder",
            path=where, hint=f"remove it from the URL and {_WHERE_TO_PUT_PASSWORDS}")
    if not parsed.database:
        raise ProjectError("the database URL names no database", path=where,
                           hint=f"write it as {DRIVER}://user@host:port/database")
    return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)


def describe(url: str | URL) -> str:
    """A server database as a person reads it (never with a password): ``PostgreSQL db on host:port as user``."""
    parsed = make_url(url)
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    user = f" as {parsed.username}" if parsed.username else ""
    return f"PostgreSQL database {parsed.database!r} on {host}{user}"


# -- project.toml --------------------------------------------------------------------------------------

def _read_settings(root: Path) -> dict[str, Any]:
    file = root / SETTINGS_FILE
    if not file.is_file():
        return {}
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read the project settings: {exc}", path=file) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"the project settings are not valid TOML ({exc})", path=file) from exc


def read_database_url(root: str | Path) -> str | None:
    """The server URL a project folder names in ``project.toml``, or None for a project on its SQLite file."""
    root = Path(root)
    value = _read_settings(root).get("database")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProjectError("'database' must be a URL string", path=root / SETTINGS_FILE)
    return check_server_url(value, where=root / SETTINGS_FILE)


def save_database_url(root: str | Path, url: str | None) -> Path:
    """Point a project folder at a server (``url``) or back at its SQLite file (None); other settings stay.

    Refuses a URL with a password before anything is written.
    """
    import tomli_w

    root = Path(root)
    file = root / SETTINGS_FILE
    settings = _read_settings(root)
    if url is None:
        settings.pop("database", None)
    else:
        settings["database"] = check_server_url(url, where=file)
    try:
        if settings:
            file.write_text("# DyadLab project settings. Never put a password here: DyadLab reads it from\n"
                            "# ~/.pgpass, PGPASSWORD or the desktop keyring.\n" + tomli_w.dumps(settings),
                            encoding="utf-8")
        else:
            file.unlink(missing_ok=True)
    except OSError as exc:
        raise ProjectError(f"cannot write the project settings: {exc.strerror}", path=file) from exc
    return file


# -- credentials ---------------------------------------------------------------------------------------

def keyring_password(url: URL) -> str | None:
    """The password the desktop keyring holds for this server database, or None (also without ``keyring``)."""
    try:
        import keyring  # optional: not a dependency
    except ImportError:
        return None
    account = f"{url.username}@{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    try:
        return keyring.get_password(KEYRING_SERVICE, account)
    except Exception:  # a locked or absent keyring backend is the same as no entry
        return None


def install_keyring_fallback(engine: Engine) -> None:
    """When libpq finds no password (no PGPASSWORD, no ~/.pgpass line), retry with the keyring's one."""
    url = engine.url

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as exc:
            if "no password supplied" not in str(exc) or "password" in cparams:
                raise
            password = keyring_password(url)
            if password is None:
                raise
            return dialect.connect(*cargs, **{**cparams, "password": password})


# -- errors --------------------------------------------------------------------------------------------

_UNREACHABLE = ("connection refused", "could not connect", "is the server running", "timeout expired",
                "could not translate host name", "no route to host", "network is unreachable")
_LOST = ("server closed the connection", "terminating connection", "consuming input failed",
         "connection is closed", "connection is bad", "connection is lost", "ssl syscall error",
         "the database system is shutting down", "the database system is starting up")


def describe_server_error(orig: BaseException | None, message: str, *, phase: str) -> str | None:
    """A user-facing explanation of a PostgreSQL driver error, or None when it is not a server problem.

    ``phase`` is ``"opening"``, ``"a transaction"`` or ``"the commit"``: a connection lost during the
    commit may or may not have saved the change, and the message must not claim either.
    """
    sqlstate = getattr(orig, "sqlstate", None) or ""
    message = " ".join(message.split())  # libpq's messages span lines with tabs
    low = message.lower()
    if phase == "opening":
        lost_tail = "the database was not opened"
    elif phase == "the commit":
        lost_tail = ("the server may or may not have saved this change before the connection dropped; "
                     "reopen the project to check")
    else:
        lost_tail = "nothing was saved"
    if sqlstate == "28P01" or "password authentication failed" in low:
        return f"the database server refused the password ({message}); {_WHERE_TO_PUT_PASSWORDS}"
    if "no password supplied" in low:
        return (f"the database server asks for a password and none was found ({message}); "
                f"{_WHERE_TO_PUT_PASSWORDS}, or store it in the desktop keyring")
    if sqlstate == "28000" or "no pg_hba.conf entry" in low or ("role" in low and "does not exist" in low):
        return f"the database server does not let this user in ({message}); ask its administrator for an account"
    if sqlstate == "3D000" or ("database" in low and "does not exist" in low):
        return (f"the database does not exist on the server ({message}); create it (createdb) or correct "
                f"the URL in {SETTINGS_FILE}")
    if sqlstate == "22001" or "value too long" in low:
        return f"a value is too long for its database column ({message}); nothing was saved"
    if sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"} or any(m in low for m in _LOST):
        return (f"lost the connection to the database server ({message}); {lost_tail} — "
                "check that the server is running and reachable, then try again")
    if any(m in low for m in _UNREACHABLE):
        return (f"cannot reach the database server ({message}); {lost_tail} — "
                "check that the server is running and reachable, then try again")
    return None
