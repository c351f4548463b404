"""Store benchmark: bulk per-frame writes and 10 s window reads, against raw sqlite3 in the same run.

Goals (issue "Foundation"): writing 1M per-frame rows through DyadLab's store takes at most 1.5x the
time of raw ``sqlite3.executemany`` of the same rows (4 class probabilities per frame, composite primary
key, WAL, one transaction); reading a 10 s window (250 frames at 25 fps) takes under 20 ms.

Run: ``python bench/store.py [--frames 1000000] [--reads 200]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def raw_sqlite_write(db: Path, values: np.ndarray) -> float:
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE pred (series_id INTEGER, frame INTEGER, p0 REAL, p1 REAL, p2 REAL, p3 REAL, "
                "PRIMARY KEY (series_id, frame))")
    rows = [(1, i, *map(float, v)) for i, v in enumerate(values)]  # built outside the timing
    t0 = time.perf_counter()
    with con:
        con.executemany("INSERT INTO pred VALUES (?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def raw_sqlite_reads(db: Path, n_frames: int, window: int, starts: list[int]) -> list[float]:
    con = sqlite3.connect(db)
    out = []
    for s in starts:
        t0 = time.perf_counter()
        rows = con.execute("SELECT p0, p1, p2, p3 FROM pred WHERE series_id = 1 AND frame >= ? AND frame < ? "
                           "ORDER BY frame", (s, s + window)).fetchall()
        np.asarray(rows, dtype=np.float32)
        out.append(time.perf_counter() - t0)
    con.close()
    return out


def dyadlab_write(root: Path, values: np.ndarray) -> tuple[float, object, int]:
    from dyadlab.core.project import create_project

    project = create_project(root)
    with project.store.transaction() as tx:
        session = tx.sessions.add("bench")
        series = tx.series.add("prediction", session.id, "bench-model", ["neutral", "happy", "sad", "angry"])
    t0 = time.perf_counter()
    with project.store.transaction() as tx:
        tx.series.write(series.id, values)
    return time.perf_counter() - t0, project, series.id


def dyadlab_reads(project, series_id: int, window: int, starts: list[int]) -> list[float]:
    out = []
    for s in starts:
        t0 = time.perf_counter()
        with project.store.transaction() as tx:
            got = tx.series.read(series_id, s, s + window)
        out.append(time.perf_counter() - t0)
        assert got.shape == (window, 4)
    return out


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--reads", type=int, default=200)
    ap.add_argument("--window-frames", type=int, default=250, help="10 s at 25 fps")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    values = rng.random((args.frames, 4), dtype=np.float32)
    starts = rng.integers(0, args.frames - args.window_frames, size=args.reads).tolist()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw_w = raw_sqlite_write(tmp / "raw.sqlite", values)
        raw_r = raw_sqlite_reads(tmp / "raw.sqlite", args.frames, args.window_frames, starts)
        our_w, project, series_id = dyadlab_write(tmp / "project", values)
        our_r = dyadlab_reads(project, series_id, args.window_frames, starts)
        with project.store.transaction() as tx:  # the data really is there
            np.testing.assert_array_equal(tx.series.read(series_id, 0, 1000), values[:1000])
        project.close()

    print(f"{'measure':44s} {'raw sqlite3':>12s} {'dyadlab':>12s} {'ratio':>8s}  goal")
    print(f"{f'write {args.frames} frames x 4 floats (s)':44s} {raw_w:12.3f} {our_w:12.3f} "
          f"{our_w / raw_w:8.3f}  ratio <= 1.5")
    print(f"{f'read {args.window_frames}-frame window p50 (ms)':44s} {pct(raw_r, 50):12.3f} "
          f"{pct(our_r, 50):12.3f} {pct(our_r, 50) / pct(raw_r, 50):8.3f}")
    print(f"{f'read {args.window_frames}-frame window p95 (ms)':44s} {pct(raw_r, 95):12.3f} "
          f"{pct(our_r, 95):12.3f} {pct(our_r, 95) / pct(raw_r, 95):8.3f}  p95 < 20 ms")
    ok = our_w / raw_w <= 1.5 and pct(our_r, 95) < 20.0
    print(f"write ratio {our_w / raw_w:.3f}; window read p95 {pct(our_r, 95):.2f} ms; mean "
          f"{statistics.mean(our_r) * 1000:.2f} ms -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
