"""The project store: the only package that speaks SQL.

``Store`` owns the engine; ``Store.transaction()`` hands out a ``UnitOfWork`` whose repositories share
one database transaction, committed when the ``with`` block ends (and rolled back if it raises), so an
import or an edit is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dyadlab.core.errors import DyadLabError, StoreError
from dyadlab.core.store.database import ensure_schema, lock_for_writing, make_engine
from dyadlab.core.store.repositories import (
    AnnotatorRepository,
    AudioTrackRepository,
    JobRepository,
    LabelSchemeRepository,
    ModelRepository,
    ParticipantRepository,
    SegmentRepository,
    SessionRepository,
    SettingsRepository,
    TierRepository,
    UtteranceRepository,
    ViewRepository,
)
from dyadlab.core.store.series import SeriesRepository
from dyadlab.core.store.server import describe, describe_server_error, is_server_url


class UnitOfWork:
    """All repositories bound to one ORM session (one transaction)."""

    def __init__(self, orm: OrmSession) -> None:
        self.orm = orm
        self.settings = SettingsRepository(orm)
        self.sessions = SessionRepository(orm)
        self.participants = ParticipantRepository(orm)
        self.views = ViewRepository(orm)
        self.audio = AudioTrackRepository(orm)
        self.schemes = LabelSchemeRepository(orm)
        self.annotators = AnnotatorRepository(orm)
        self.tiers = TierRepository(orm)
        self.segments = SegmentRepository(orm)
        self.utterances = UtteranceRepository(orm)
        self.models = ModelRepository(orm)
        self.series = SeriesRepository(orm)
        self.jobs = JobRepository(orm)

    def lock_for_writing(self, key: int) -> None:
        """Serialise this transaction's check-then-write with other clients' (``database.lock_for_writing``)."""
        lock_for_writing(self.orm.connection(), key)


def _describe_db_error(exc: DBAPIError, where: str, *, server_phase: str | None = None) -> str:
    msg = str(exc.orig) if exc.orig is not None else str(exc)
    if server_phase is not None:  # team mode: say what happened to the edit and what to do
        described = describe_server_error(exc.orig, msg, phase=server_phase)
        if described is not None:
            return described
    low = msg.lower()
    if "readonly" in low or "read-only" in low:
        return f"the project database is read-only ({msg}); nothing was saved"
    if "locked" in low:
        return f"the project database is locked by another program ({msg}); nothing was saved"
    if "disk" in low and ("full" in low or "i/o" in low):
        return f"the disk is full or failing ({msg}); nothing was saved"
    return f"database error in {where}: {msg}"


INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of a grant or row-level security refusal


def _server_refusal(exc: Exception, where: str | Path, *, changed_nothing: bool = False) -> DyadLabError:
    """A team server's refusal (``server_rules``) as the AccessDenied that DyadLab's own checks raise."""
    from dyadlab.core.store.roles import AccessDenied  # roles imports this package

    if changed_nothing:
        problem = ("the database server changed no row for this edit: your role may not write it (or someone "
                   "deleted it meanwhile); nothing was saved")
    else:
        msg = " ".join(str(getattr(exc, "orig", exc)).split("\n")[0].split())
        problem = f"the database server refused this change ({msg}); nothing was saved"
    return AccessDenied(problem, path=where,
                        hint="your account's role does not allow it; `dyadlab info PROJECT` shows who you are "
                             "connected as, an admin can change your role")


class Store:
    """A project's database (SQLite file or PostgreSQL URL), schema-checked and migrated on open."""

    def __init__(self, url: str, *, sqlite_file: Path | None = None, migrate: bool = True) -> None:
        self.url = url
        self.sqlite_file = sqlite_file
        self.is_server = is_server_url(url)
        # Where errors say the database is: never a URL's password, and no Path() mangling of "//".
        self._where: str | Path = sqlite_file or (describe(url) if self.is_server else url)
        self.engine: Engine = make_engine(url)
        if migrate:
            try:
                self.revision = ensure_schema(self.engine, backup_dir_file=sqlite_file)
            except OperationalError as exc:
                self.engine.dispose()
                raise StoreError(_describe_db_error(exc, "opening", server_phase=self._server_phase("opening")),
                                 path=self._where) from exc
            except BaseException:
                self.engine.dispose()
                raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _server_phase(self, phase: str) -> str | None:
        return phase if self.is_server else None

    @classmethod
    def for_sqlite(cls, db_file: Path) -> Store:
        return cls(f"sqlite:///{db_file}", sqlite_file=db_file)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One unit of work: commits on normal exit, rolls back (and re-raises) on error."""
        orm = self._sessions()
        phase = "a transaction"
        try:
            yield UnitOfWork(orm)
            phase = "the commit"
            orm.commit()
        except DyadLabError:
            orm.rollback()
            raise
        except StaleDataError as exc:
            orm.rollback()
            if not self.is_server:
                raise
            # Row-level security makes a refused UPDATE or DELETE match no row instead of failing.
            raise _server_refusal(exc, self._where, changed_nothing=True) from exc
        except DBAPIError as exc:
            orm.rollback()
            if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                raise _server_refusal(exc, self._where) from exc
            raise StoreError(_describe_db_error(exc, "a transaction", server_phase=self._server_phase(phase)),
                             path=self._where) from exc
        except BaseException:
            orm.rollback()
            raise
        finally:
            orm.close()

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Store", "UnitOfWork"]
