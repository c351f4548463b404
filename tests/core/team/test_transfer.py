"""``dyadlab db migrate``: a project goes to the server and comes back with every row identical."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from dyadlab.core import create_project, open_project
from dyadlab.core.cli.main import main
from dyadlab.core.errors import ProjectError, StoreError
from dyadlab.core.model import CropRect
from dyadlab.core.store import Store, transfer
from dyadlab.core.store.schema import Base
from dyadlab.core.store.server import SETTINGS_FILE, read_database_url
from dyadlab.core.store.transfer import migrate_project, table_checks


def _fill_every_table(project) -> None:
    """A small project with rows in every table and awkward values: unicode, NULLs, JSON, blobs, big ints."""
    with project.store.transaction() as tx:
        tx.settings.set("ui", {"zoom": 1.25, "hidden": [2, 3]})
        gold = tx.annotators.ensure("gold", kind="gold")
        anna = tx.annotators.ensure("anna")
        scheme = tx.schemes.by_name("emotion-4class")
        for n in range(2):
            s = tx.sessions.add(f"dyad-{n}", group="Session1", duration_us=36 * 10**9,
                                attributes={"lang": "de", "note": "Grüße ✓"})
            a = tx.participants.add(s.id, "A", age=31, gender="female", speaker=f"spk{n}")
            b = tx.participants.add(s.id, "B", attributes={"big5": [0.1, 0.9, None]})
            v = tx.views.add(s.id, "left", "media/left.mp4", participant_id=a.id, crop=CropRect(0, 0, 360, 480),
                             offset_us=-40_000, fps=29.97, frame_count=359, duration_us=12 * 10**6)
            tx.audio.add(s.id, "mix", "media/mix.wav", sample_rate=16000, channels=2,
                         channel_participants=[a.id, None])
            for who, tier_owner, read_only in ((a, anna, False), (b, gold, True)):
                tier = tx.tiers.add(s.id, "emotion", scheme_id=scheme.id, annotator_id=tier_owner.id,
                                    kind="categorical", participant_id=who.id, read_only=read_only)
                for i in range(40):
                    tx.segments.add(tier.id, i * 300_000, i * 300_000 + 250_000, ["happy", "sad", None][i % 3],
                                    annotator_id=tier_owner.id, score=i / 7 if i % 2 else None,
                                    provenance={"source": "test", "i": i})
            tx.utterances.add(s.id, "utt-1", 0, 2_000_000, participant_id=a.id, text="Entschuldigung, äh…")
            series = tx.series.add("prediction", s.id, "model-x", ["neutral", "happy"], participant_id=a.id,
                                   view_id=v.id)
            tx.series.write(series.id, np.random.default_rng(n).random((2500, 2), dtype=np.float32))
        tx.models.add("model-x", "1.0", "video", path="models/x.pt", scheme_id=scheme.id,
                      config={"lr": 1e-4}, metrics={"uar": 0.61})
        tx.jobs.add("train", {"epochs": 3}, log_path="jobs/1.log")


def _rows(store: Store) -> dict[str, list[tuple]]:
    with store.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}


def _count(url: str) -> int:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables)
    finally:
        store.close()


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    with create_project(tmp_path / "lab", name="Lab study") as project:
        _fill_every_table(project)
    return tmp_path / "lab"


def test_sqlite_to_server_and_back_keeps_every_row(lab: Path, tmp_path: Path, server_url: str, capsys) -> None:
    with open_project(lab) as project:
        original_rows, original_checks = _rows(project.store), table_checks(project.store)
    assert all(c.rows for c in original_checks), "the fixture must fill every table"

    # To the server, through the command line, and make the project use it.
    assert main(["db", "migrate", str(lab), "--to", server_url, "--switch"]) == 0
    out, err = capsys.readouterr()
    assert "verified" in out and "segments" in out and "migrate" in err  # report, and the progress bar
    assert read_database_url(lab) == server_url and not (lab / "dyadlab.sqlite").exists()
    assert list((lab / "backups").glob("*before-switch-to-server*.sqlite"))
    with open_project(lab) as project:
        assert project.store.is_server and table_checks(project.store) == original_checks
        with project.store.transaction() as tx:  # ids copied explicitly: the sequences moved past them
            s = tx.sessions.add("dyad-new")
            seg = tx.segments.add(1, 0, 5, "sad", annotator_id=1)
        assert s.id == 3 and seg.id == 161
        with project.store.transaction() as tx:
            tx.segments.delete(seg.id)
            tx.sessions.delete(s.id)

    # Back to a new SQLite project folder ...
    progress = []
    report = migrate_project(lab, str(tmp_path / "home"), progress=lambda d, t, m: progress.append((d, t)))
    assert progress[-1][0] == progress[-1][1] == 2 * report.rows
    with open_project(tmp_path / "home") as home:
        assert _rows(home.store) == original_rows

    # ... and home into its own folder, which then uses its SQLite file again.
    migrate_project(lab, str(lab), switch=True)
    assert read_database_url(lab) is None and not (lab / SETTINGS_FILE).exists()
    with open_project(lab) as project:
        assert not project.store.is_server and _rows(project.store) == original_rows


def test_copy_into_a_database_that_holds_data_is_refused(lab: Path, tmp_path: Path, server_url: str) -> None:
    create_project(tmp_path / "other", database=server_url).close()
    before = _count(server_url)
    with pytest.raises(StoreError, match="already holds data"):
        migrate_project(lab, server_url)
    assert _count(server_url) == before


def test_a_copy_that_does_not_verify_is_rolled_back_entirely(lab: Path, tmp_path: Path, server_url: str,
                                                             monkeypatch) -> None:
    honest = transfer._read_back

    def tampered(*args):  # as if one value had changed on its way into the target
        checks = list(honest(*args))
        checks[-1] = transfer.TableCheck(checks[-1].table, checks[-1].rows, "0" * 64)
        return tuple(checks)

    monkeypatch.setattr(transfer, "_read_back", tampered)
    with pytest.raises(StoreError, match="differs from the source, so nothing was written"):
        migrate_project(lab, server_url, switch=True)
    assert _count(server_url) == 0 and read_database_url(lab) is None
    target = tmp_path / "copy.sqlite"
    with pytest.raises(StoreError, match="differs from the source"):
        migrate_project(lab, f"sqlite:///{target}")
    assert not target.exists()


def test_bad_targets_are_refused_before_anything_is_copied(lab: Path, tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="contains a password"):
        migrate_project(lab, "postgresql+psycopg://anna:s3cret@127.0.0.1:5432/dyads")
    with pytest.raises(ProjectError, match="project's own database file"):
        migrate_project(lab, str(lab))
    with pytest.raises(ProjectError, match="--switch needs a server URL"):
        migrate_project(lab, str(tmp_path / "elsewhere"), switch=True)
    create_project(tmp_path / "taken").close()
    with pytest.raises(ProjectError, match="already exists"):
        migrate_project(lab, str(tmp_path / "taken"))


def test_a_value_sqlite_kept_but_the_server_cannot_stops_the_copy_cleanly(lab: Path, server_url: str) -> None:
    with open_project(lab) as project, project.store.transaction() as tx:
        tx.segments.update(1, value="x" * 300)  # SQLite does not enforce VARCHAR(200); PostgreSQL does
    with pytest.raises(StoreError, match="copying failed, so nothing was written: value too long"):
        migrate_project(lab, server_url)
    assert _count(server_url) == 0
