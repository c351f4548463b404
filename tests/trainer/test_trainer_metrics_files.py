"""``metrics.csv`` is replaced whole or not at all, like every file DyadLab writes (``core.atomic_write``)."""

from __future__ import annotations

import csv
import os

import pytest

from dyadlab.trainer.metrics import write_results

FOLD = {"fold": "Session1", "frame": {"n": 10, "wa": 0.5, "ua": 0.5, "macro_f1": 0.5}}


def test_a_write_that_fails_midway_leaves_the_previous_table_and_no_temporary_file(tmp_path, monkeypatch) -> None:
    write_results(tmp_path, [FOLD])
    before = (tmp_path / "metrics.csv").read_bytes()

    real_writerows = csv.DictWriter.writerows

    def disk_full(self, rows):  # the first row goes out, then the disk is full
        real_writerows(self, list(rows)[:1])
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(csv.DictWriter, "writerows", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_results(tmp_path, [FOLD, {**FOLD, "fold": "Session2"}])
    assert (tmp_path / "metrics.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv", "metrics.json"]
    assert [row["fold"] for row in csv.DictReader((tmp_path / "metrics.csv").open())][0] == "Session1"
