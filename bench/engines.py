"""Engine benchmark (issue 22): what running analysis on Dask costs here, and how it spreads on many workers.

1. Throughput, ratios in one run on this machine: the same demo session (faces + audio, cold cache) analysed
   in this process, on a Dask LocalCluster of 1 worker and of 2 workers. Goal: at equal cores (in-process vs
   1 worker) the engine's overhead is ≤ 10 %; the three caches are identical (chunk files byte for byte).
   The cluster's start-up is reported apart (a corpus run pays it once).
2. A simulated multi-node run: a LocalCluster standing in for N workers runs items whose cost follows a
   delay model (``SIM_S_PER_MEDIA_MIN`` seconds per minute of media, a sleep) over a corpus of unequal
   session lengths, once as one item per (session, participant) and once cut into 60 s time-chunks, both
   through ``DaskEngine.run``: makespan, the share of worker time busy, and items per worker.

Run: ``python bench/engines.py [--seconds 30] [--sim-workers 8]`` (``bench/analyze.py --engines`` too).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SIM_SESSIONS_MIN = (30, 10, 5, 5, 3, 2, 2, 1)  # session lengths in minutes (two participants each)
SIM_S_PER_MEDIA_MIN = 0.5  # delay model: seconds of work per minute of one participant's media
SIM_CHUNK_MIN = 1  # time-chunk length of the chunked plan (CHUNK_FRAMES at 25 fps)


def _chunk_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "cache" / "features").rglob("*.dlc"))}


def throughput(seconds: float, chunk_frames: int | None = None) -> list[dict[str, Any]]:
    """One demo session analysed on each engine (fresh copies, cold cache); rows of measurements."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.engine import EngineSpec, open_engine
    from dyadlab.core.features import analyze_project
    from dyadlab.core.project import open_project

    params = {"faces": {"chunk_frames": chunk_frames}} if chunk_frames else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-engines-") as tmp:
        source = Path(tmp) / "source"
        generate_demo(source, sessions=1, seconds=seconds, seed=11).close()
        for name, spec in (("in-process", EngineSpec()), ("LocalCluster 1 worker", EngineSpec("local-cluster", 1)),
                           ("LocalCluster 2 workers", EngineSpec("local-cluster", 2))):
            root = Path(tmp) / name.replace(" ", "_")
            shutil.copytree(source, root)
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            with open_project(root) as project, open_engine(spec) as engine:
                started = 0.0
                if not engine.in_process:
                    engine.client  # noqa: B018 - start the cluster now, to time it apart
                    started = time.perf_counter() - t0
                t1 = time.perf_counter()
                summary = analyze_project(project, what=("faces", "audio"), params=params, engine=engine)
                run = time.perf_counter() - t1
            rows.append({"engine": name, "start_s": started, "run_s": run, "load": load,
                         "cpu_s": sum(r.stats.get("cpu_s", 0.0) for r in summary.results),
                         "failed": len(summary.failed), "digest": _chunk_digest(root),
                         "media_s": 2 * seconds})
    return rows


def _sim_item(payload: tuple[float, str], progress: Any) -> tuple[float, float]:
    """A stand-in work item: sleeps its modelled cost; returns (start, end) on the monotonic clock."""
    cost, _ = payload
    start = time.monotonic()
    time.sleep(cost)
    progress(1, 1, "")
    return start, time.monotonic()


def simulate(workers: int) -> dict[str, dict[str, Any]]:
    """Makespan, busy share and items per worker of the unchunked and the chunked plan on ``workers``."""
    from distributed import Client, LocalCluster

    from dyadlab.core.engine.base import WorkItem
    from dyadlab.core.engine.dask_engine import DaskEngine

    plans: dict[str, list[WorkItem]] = {"one item per participant": [], "60 s time-chunks": []}
    for s, minutes in enumerate(SIM_SESSIONS_MIN):
        for who in "AB":
            plans["one item per participant"].append(
                WorkItem(f"s{s}{who}", f"s{s}/{who}", (minutes * SIM_S_PER_MEDIA_MIN, f"s{s}{who}")))
            for c in range(0, minutes, SIM_CHUNK_MIN):
                span = min(SIM_CHUNK_MIN, minutes - c)
                plans["60 s time-chunks"].append(
                    WorkItem(f"s{s}{who}c{c}", f"s{s}/{who} {c}'", (span * SIM_S_PER_MEDIA_MIN, f"s{s}{who}c{c}")))
    out = {}
    # threads of one process stand in for the nodes' workers: the items sleep, so nothing competes for the CPU
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None)
    with DaskEngine(Client(cluster), cluster=cluster, description=f"{workers} simulated workers") as engine:
        for name, items in plans.items():
            spans: dict[str, list[tuple[float, float]]] = {}

            def done(item: WorkItem, outcome: Any, spans: dict = spans) -> None:
                spans.setdefault(outcome.worker, []).append(outcome.value)

            t0 = time.perf_counter()
            engine.run(_sim_item, items, on_done=done)
            makespan = time.perf_counter() - t0
            work = sum(payload[0] for payload in (i.payload for i in items))
            busy = [sum(b - a for a, b in s) for s in spans.values()]
            counts = [len(s) for s in spans.values()]
            out[name] = {"items": len(items), "makespan_s": makespan, "ideal_s": work / workers,
                         "busy_share": sum(busy) / (workers * makespan), "workers_used": len(spans),
                         "items_min": min(counts), "items_max": max(counts),
                         "busy_min_s": min(busy), "busy_max_s": max(busy)}
    return out


def report(rows: list[dict[str, Any]] | None, sim: dict[str, dict[str, Any]] | None, sim_workers: int) -> bool:
    """Print the tables; True when the goals hold."""
    ok = True
    if rows:
        base = rows[0]
        print(f"# engines: 1 demo session, 2 participants × {base['media_s'] / 2:g} s, faces + audio, cold cache, "
              f"{os.cpu_count()} CPUs; load average at each start in the table")
        print(f"{'engine':<24} {'start s':>8} {'run s':>7} {'×RT':>6} {'CPU s':>7} {'run / in-process':>17} "
              f"{'load':>5}  same cache")
        for r in rows:
            same = r["digest"] == base["digest"] and bool(r["digest"])
            ok &= same and not r["failed"]
            print(f"{r['engine']:<24} {r['start_s']:>8.1f} {r['run_s']:>7.1f} {r['media_s'] / r['run_s']:>6.2f} "
                  f"{r['cpu_s']:>7.1f} {r['run_s'] / base['run_s']:>16.2f}× {r['load']:>5.1f}  "
                  f"{'yes' if same else 'NO'} ({len(r['digest'])} chunk files)")
            for name in sorted(k for k in base["digest"] if r["digest"].get(k) != base["digest"][k]):
                print(f"{'':<24} differs: {name}")
        one = rows[1]
        overhead = one["run_s"] / base["run_s"] - 1
        ok &= overhead <= 0.10
        print(f"{'engine overhead at equal cores (1 worker vs in-process)':<60} {100 * overhead:>6.1f} %  goal ≤ 10 %")
        print(f"{'speed-up of 2 workers over in-process':<60} {base['run_s'] / rows[2]['run_s']:>6.2f}×")
    if sim:
        print()
        print(f"# simulated multi-node run: {sim_workers} workers, sessions of {', '.join(map(str, SIM_SESSIONS_MIN))} "
              f"min × 2 participants, {SIM_S_PER_MEDIA_MIN} s of work per media minute (sleep)")
        print(f"{'plan':<26} {'items':>6} {'makespan s':>11} {'ideal s':>8} {'busy':>6} {'workers':>8} "
              f"{'items/worker':>13} {'busy s/worker':>14}")
        for name, s in sim.items():
            print(f"{name:<26} {s['items']:>6} {s['makespan_s']:>11.2f} {s['ideal_s']:>8.2f} "
                  f"{100 * s['busy_share']:>5.0f}% {s['workers_used']:>8} {s['items_min']:>6}–{s['items_max']:<6} "
                  f"{s['busy_min_s']:>6.2f}–{s['busy_max_s']:<6.2f}")
        chunked = sim["60 s time-chunks"]
        ok &= chunked["workers_used"] == sim_workers and chunked["busy_share"] >= 0.8
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="demo session length (default 30)")
    parser.add_argument("--chunk-frames", type=int, default=None,
                        help="faces time-chunk length in frames (default: the analysis default, 1500)")
    parser.add_argument("--sim-workers", type=int, default=8, help="workers of the simulated run (default 8)")
    parser.add_argument("--only", choices=("throughput", "simulation"), help="run one part only")
    args = parser.parse_args()
    rows = throughput(args.seconds, args.chunk_frames) if args.only != "simulation" else None
    sim = simulate(args.sim_workers) if args.only != "throughput" else None
    return 0 if report(rows, sim, args.sim_workers) else 1


if __name__ == "__main__":
    raise SystemExit(main())
