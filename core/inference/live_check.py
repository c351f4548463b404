"""Play a session's frames through the live worker, as playback does, and keep what it delivers.

Why: the live overlay is the first thing an annotator sees of a model, and it runs in whatever install they
have — the desktop bundle runs it through ONNX Runtime without torch. ``make package-test`` runs this module
inside the bundle (``dyadlab -m dyadlab.core.inference.live_check PROJECT --model ID --out FILE.npz``) and
compares the probabilities with torch's; on any install it says which runtime each model got and how fast
the worker answered. Each frame is asked for once and waited for (none skipped), without the prediction
cache, so every probability was computed live.

The ``.npz`` holds, per model id M and participant id P: ``m{M}_p{P}_frames`` (view frames), ``_probs``
(float32 ``[n, C]``, NaN where no prediction) and ``_valid``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def play_live(project: Any, session_id: int, model_ids: list[int], *, step: int = 1,
              limit: int | None = None, process: bool = True) -> tuple[dict[tuple[int, int], dict[str, np.ndarray]],
                                                                     dict[str, Any]]:
    """Ask the live worker for every ``step``-th frame of the session's first participant; returns per
    (model, participant) the frames, probabilities and validity, and the worker's runtimes and speed. With
    ``process`` (the default, as the window runs it) the worker runs in its own process
    (``live_process.ProcessLiveWorker``: in the bundle, a spawn of the bundled executable), else on a thread."""
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.live import LiveInferenceWorker
    from dyadlab.core.inference.live_process import ProcessLiveWorker

    results: list[Any] = []
    errors: list[str] = []
    provider = InputProvider(project)
    with project.store.transaction() as tx:
        first = tx.participants.list(session_id)[0].id
    times = provider.timeline(session_id, first).times_us[::step][:limit]
    options: dict[str, Any] = {"on_result": results.append, "use_cache": False, "backfill_after_s": None,
                               "on_error": lambda mid, msg: errors.append(f"model {mid}: {msg}")}
    worker: Any = (ProcessLiveWorker(project, session_id, model_ids, **options) if process else
                   LiveInferenceWorker(project, session_id, model_ids, provider=provider, **options))
    started = time.perf_counter()
    with worker:
        for t_us in times:
            worker.submit(int(t_us))
            if not worker.wait_idle(120):
                raise RuntimeError("the live worker did not answer within 120 s")
    elapsed = time.perf_counter() - started
    provider.close()
    if errors:
        raise RuntimeError("; ".join(errors))
    rows: dict[tuple[int, int], list[tuple[int, np.ndarray | None]]] = {}
    for result in results:
        for p in result.predictions:
            if p.frame is not None:
                rows.setdefault((p.model_id, p.participant_id), []).append((p.frame, p.probs))
    out = {}
    for key, got in rows.items():
        n_classes = next((len(probs) for _, probs in got if probs is not None), 1)
        probs = np.array([np.full(n_classes, np.nan, np.float32) if pr is None else pr for _, pr in got], np.float32)
        out[key] = {"frames": np.array([f for f, _ in got], np.int64), "probs": probs,
                    "valid": np.array([pr is not None for _, pr in got])}
    return out, {"runtimes": dict(worker.runtimes), "requests": len(times), "answered": len(results),
                 "seconds": elapsed}


def main(argv: list[str] | None = None) -> int:
    from dyadlab.core.native_log import native_stderr_to_log
    from dyadlab.core.project import open_project

    p = argparse.ArgumentParser(prog="dyadlab -m dyadlab.core.inference.live_check", description=__doc__.split("\n")[0])
    p.add_argument("project", type=Path)
    p.add_argument("--model", type=int, action="append", required=True, metavar="ID", help="registered model id")
    p.add_argument("--session", help="session name (default: the first)")
    p.add_argument("--step", type=int, default=1, help="ask for every STEP-th frame")
    p.add_argument("--limit", type=int, help="at most this many requests")
    p.add_argument("--out", type=Path, help=".npz file for the probabilities")
    p.add_argument("--thread", action="store_true", help="run the worker on a thread, not in its own process")
    args = p.parse_args(argv)
    with native_stderr_to_log(), open_project(args.project) as project:
        with project.store.transaction() as tx:
            sessions = tx.sessions.list()
        session = next((s for s in sessions if args.session in (None, s.name)), None)
        if session is None:
            print(f"no session {args.session!r} in {args.project}", file=sys.stderr)
            return 2
        rows, info = play_live(project, session.id, args.model, step=args.step, limit=args.limit,
                               process=not args.thread)
    if args.out:
        np.savez(args.out, **{f"m{m}_p{pid}_{k}": v for (m, pid), d in rows.items() for k, v in d.items()})
    for model_id in args.model:
        valid = sum(int(d["valid"].sum()) for (m, _), d in rows.items() if m == model_id)
        print(f"model {model_id}: {info['runtimes'].get(model_id, '?')}, {valid} predictions "
              f"({'thread' if args.thread else 'own process'})")
    print(f"{info['answered']} of {info['requests']} requests answered in {info['seconds']:.1f} s "
          f"({info['answered'] / max(info['seconds'], 1e-9):.1f} steps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
