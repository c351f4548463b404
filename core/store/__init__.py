"""The project store: the only package that speaks SQL.

``Store`` owns the engine; ``Store.transaction()`` hands out a ``UnitOfWork`` whose repositories share
one database transaction, committed when the ``with`` block ends (and rolled back if it raises), so an
import or an edit is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dyadlab.core.errors import DyadLabError, StoreError
from dyadlab.core.store.database import ensure_schema, make_engine
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
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker


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


def _describe_db_error(exc: DBAPIError, where: str) -> str:
    msg = str(exc.orig) if exc.orig is not None else str(exc)
    low = msg.lower()
    if "readonly" in low or "read-only" in low:
        return f"the project database is read-only ({msg}); nothing was saved"
    if "locked" in low:
        return f"the project database is locked by another program ({msg}); nothing was saved"
    if "disk" in low and ("full" in low or "i/o" in low):
        return f"the disk is full or failing ({msg}); nothing was saved"
    return f"database error in {where}: {msg}"


class Store:
    """A project's database (SQLite file or PostgreSQL URL), schema-checked and migrated on open."""

    def __init__(self, url: str, *, sqlite_file: Path | None = None, migrate: bool = True) -> None:
        self.url = url
        self.sqlite_file = sqlite_file
        self.engine: Engine = make_engine(url)
        if migrate:
            try:
                self.revision = ensure_schema(self.engine, backup_dir_file=sqlite_file)
            except OperationalError as exc:
                self.engine.dispose()
                raise StoreError(_describe_db_error(exc, "opening"), path=sqlite_file or url) from exc
            except BaseException:
                self.engine.dispose()
                raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_sqlite(cls, db_file: Path) -> Store:
        return cls(f"sqlite:///{db_file}", sqlite_file=db_file)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One unit of work: commits on normal exit, rolls back (and re-raises) on error."""
        orm = self._sessions()
        try:
            yield UnitOfWork(orm)
            orm.commit()
        except DyadLabError:
            orm.rollback()
            raise
        except DBAPIError as exc:
            orm.rollback()
            raise StoreError(_describe_db_error(exc, "a transaction"), path=self.sqlite_file or self.url) from exc
        except BaseException:
            orm.rollback()
            raise
        finally:
            orm.close()

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Store", "UnitOfWork"]
