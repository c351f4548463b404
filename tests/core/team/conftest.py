"""A throwaway PostgreSQL server for team-mode tests, and fixtures that run a test on both backends.

Why a real server and not a mock: team mode is about what only a server does — row locks, concurrent
transactions, NOTIFY, passwords, a server that goes away mid-session. The session fixture runs
``initdb`` and ``pg_ctl`` in a temp dir (as the ``postgres`` user when the tests run as root, since
PostgreSQL refuses to run as root), listens on 127.0.0.1 only, on a free port, requires a password over
TCP (so credential errors are the real ones), and always stops the server and deletes its files, also
when a test fails. Passwords reach the client the way they will for users: through a ``PGPASSFILE``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

APP_USER = "annotator_app"  # an ordinary (non-superuser) login: team mode must not need more
SUPERUSER = "postgres"


def _postgres_bindir() -> Path | None:
    candidates = []
    if (which := shutil.which("pg_ctl")) is not None:
        candidates.append(Path(which).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running throwaway cluster: URLs for fresh databases, and stop/start for outage tests."""

    bindir: Path
    base: Path
    port: int
    superuser_password: str
    app_password: str
    run_as: list[str]
    host: str = "127.0.0.1"
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def _pg_ctl(self, *args: str) -> None:
        cmd = [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:] if (self.base / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args[:1])} failed: {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        options = (f"-k {self.base} -h {self.host} -p {self.port} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=60")
        self._pg_ctl("-l", str(self.base / "server.log"), "-w", "-t", "30", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-t", "30", "-m", mode, "stop")

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The server is stopped inside the block and running again after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def url(self, database: str, user: str = APP_USER) -> str:
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{database}"

    def unreachable_url(self) -> str:
        """A URL on this host where no server listens."""
        return f"postgresql+psycopg://{APP_USER}@{self.host}:{_free_port()}/dyadlab"

    def _admin(self):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, password=self.superuser_password,
                               dbname="postgres", autocommit=True)

    def admin_sql(self, sql: str) -> None:
        with self._admin() as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        """A new database owned by the app user, empty or a copy of ``template``; returns its URL."""
        name = f"dyadlab_t{next(self._counter)}"
        clone = f' TEMPLATE "{template}"' if template else ""
        self.admin_sql(f'CREATE DATABASE "{name}" OWNER {APP_USER}{clone}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the server is marked ``postgres``, whether it asks for it directly or not."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[team]')")
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
                    "install Debian's 'postgresql' package (make setup does)")
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the test server")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and 'runuser' is missing, so the test server cannot run as 'postgres'")
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="dyadlab-pg-"))
    saved_env = {k: os.environ.get(k) for k in ("PGPASSFILE", "PGPASSWORD")}
    server: PostgresServer | None = None
    started = False
    try:
        if run_as:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        superuser_password = secrets.token_hex(12)
        app_password = secrets.token_hex(12)
        pwfile = base / "superuser.pw"
        pwfile.write_text(superuser_password)
        if run_as:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        initdb = subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(base / "data"), "-U", SUPERUSER,
                                 f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                                 "-E", "UTF8", "--no-locale"], capture_output=True, text=True, timeout=120)
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()}")
        pwfile.unlink()
        for attempt in range(3):  # the free port may be taken between finding it and binding it
            server = PostgresServer(bindir, base, _free_port(), superuser_password, app_password, run_as)
            try:
                server.start()
                started = True
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        assert server is not None
        server.admin_sql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{app_password}'")
        # The client finds its password as a user's would: in a pgpass file (mode 0600), never in a URL.
        pgpass = base / "client.pgpass"
        pgpass.write_text(f"{server.host}:{server.port}:*:{APP_USER}:{app_password}\n")
        pgpass.chmod(0o600)
        os.environ["PGPASSFILE"] = str(pgpass)
        os.environ.pop("PGPASSWORD", None)
        yield server
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if started and server is not None:
            with contextlib.suppress(Exception):
                server.stop("immediate")  # a throwaway cluster: no need for a clean shutdown
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def server_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def project_template(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server database holding a new project (migrated, shipped schemes installed), cloned per test.

    Cloning (CREATE DATABASE ... TEMPLATE) is much faster than migrating a database for every test; the
    migrations themselves still run here and in every test that starts from ``server_url``.
    """
    from dyadlab.core.project import create_project

    url = postgres_server.create_database()
    create_project(tmp_path_factory.mktemp("template") / "project", database=url).close()
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where one test's project database lives, on each backend in turn: a SQLite file in the test's
    ``project`` folder, or a PostgreSQL database already holding a new project's schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'project' / 'dyadlab.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database(template=request.getfixturevalue("project_template"))
    yield url
    server.drop_database(url)


@pytest.fixture
def project(store_url: str, tmp_path: Path):
    """A new project (shipped label schemes installed) whose database is ``store_url``."""
    from dyadlab.core.project import create_project

    database = None if store_url.startswith("sqlite") else store_url
    p = create_project(tmp_path / "project", database=database)
    assert p.store.url == store_url
    yield p
    p.close()


@dataclass
class TeamProject:
    """A team project on the test server as a lab sets one up: an owner login (CREATEROLE, owns the tables)
    and one account per role made with ``add_account``, each a real login with its own password."""

    server: PostgresServer
    database: str
    owner: str
    logins: dict[str, str]  # who → login: "admin", "reviewer", "annotator", "colleague" (a second annotator)
    passwords: dict[str, str]
    project: Any = None
    made: list[str] = field(default_factory=list)  # logins a test created: dropped with the project

    def password(self, login: str) -> str:
        """A new password for a login a test is about to create (and a pgpass line for it)."""
        self.passwords[login] = secrets.token_hex(10)
        self.made.append(login)
        add_login_password(login, self.passwords[login])
        return self.passwords[login]

    def url(self, login: str) -> str:
        return self.server.url(self.database, user=login)

    def connect(self, login: str):
        """A plain psycopg connection as ``login`` (no DyadLab code), password from the pgpass file."""
        import psycopg

        return psycopg.connect(host=self.server.host, port=self.server.port, user=login, dbname=self.database)


def add_login_password(login: str, password: str) -> None:
    """Let the client find ``login``'s password the way users' clients do: a line in the pgpass file."""
    with open(os.environ["PGPASSFILE"], "a", encoding="utf-8") as pgpass:
        pgpass.write(f"127.0.0.1:*:*:{login}:{password}\n")


@pytest.fixture(scope="session")
def team(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamProject]:
    """One team project for the test session (creating roles and migrating is the slow part), dropped at the
    end with the login and group roles it made (roles are server-wide). Tests that use it add their own
    sessions (named after the test module) and give back any account they change."""
    from dyadlab.core.project import create_project
    from dyadlab.core.store.accounts import add_account

    tag = secrets.token_hex(3)
    owner = f"lab_owner_{tag}"
    passwords = {owner: secrets.token_hex(10)}
    postgres_server.admin_sql(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD '{passwords[owner]}'")
    add_login_password(owner, passwords[owner])
    database = f"dyadlab_team_{tag}"
    postgres_server.admin_sql(f'CREATE DATABASE "{database}" OWNER {owner}')
    logins = {"admin": f"adm_{tag}", "reviewer": f"rev_{tag}", "annotator": f"ann_{tag}", "colleague": f"bob_{tag}"}
    team = TeamProject(postgres_server, database, owner, logins, passwords)
    try:
        team.project = create_project(tmp_path_factory.mktemp("team") / "project", database=team.url(owner))
        for who, login in logins.items():
            passwords[login] = secrets.token_hex(10)
            add_account(team.project.store, login, "annotator" if who == "colleague" else who,
                        password=passwords[login])
            add_login_password(login, passwords[login])
        yield team
    finally:
        if team.project is not None:
            team.project.close()
        postgres_server.admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        groups = [f"dyadlab_{database}_{role}" for role in ("annotator", "reviewer", "admin")]
        for role in [*logins.values(), *team.made, *groups, owner]:
            postgres_server.admin_sql(f'DROP ROLE IF EXISTS "{role}"')
