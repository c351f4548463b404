"""``dyadlab infer PROJECT --model ID``: run a registered model over whole sessions and cache the results.

Why a command: predicting every frame of a corpus takes minutes to hours and belongs on a shell (or a
bigger machine with a GPU) rather than in a playback session; afterwards the player, the inspector and
model-assisted labelling read the prediction cache instantly. This module parses arguments, draws the
progress bar and prints a summary; the work is ``core.inference.predictions.PredictionCache``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.engine.cli_options import add_engine_arguments

NAME = "infer"
HELP = "run a registered model on sessions: cache per-frame and utterance predictions, export them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--model", type=int, required=True, metavar="ID",
                   help="registered model id (see `dyadlab models PROJECT`)")
    p.add_argument("--sessions", nargs="+", metavar="SESSION", help="session names or ids (default: all)")
    p.add_argument("--export", type=Path, metavar="FILE",
                   help="also write long-format probabilities to FILE (.csv or .parquet)")
    p.add_argument("--per", choices=("frame", "utterance"), default="frame",
                   help="--export one row per frame x class (default), or per utterance x class (the mean of "
                        "the utterance's frame probabilities)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument("--recompute", action="store_true", help="drop this model's cached predictions first")
    p.add_argument("--no-utterances", dest="utterances", action="store_false",
                   help="do not write utterance-level segments on the model's tier")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_engine_arguments(p)


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.cli.proxy import _sigterm_as_interrupt
    from dyadlab.core.engine import open_engine
    from dyadlab.core.engine.cli_options import engine_spec, print_job_script
    from dyadlab.core.features.pipeline import select_sessions
    from dyadlab.core.inference.batch import fill_sessions
    from dyadlab.core.inference.export import check_export_path, export_predictions
    from dyadlab.core.inference.predictions import PredictionCache
    from dyadlab.core.native_log import native_stderr_to_log
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.project import open_project

    if print_job_script(args):
        return 0
    if args.export:  # refused before the model runs over every session (minutes), not after
        check_export_path(args.export, args.per)
    spec = engine_spec(args)
    # face inputs run MediaPipe: its native log lines go to the log file, not the terminal
    with _sigterm_as_interrupt(), native_stderr_to_log(), open_project(args.project) as project, \
            PredictionCache(project, args.model, device=args.device) as cache, \
            open_engine(spec, project_root=project.root) as engine:
        with project.store.transaction() as tx:
            sessions = select_sessions(tx.sessions.list(), args.sessions)
        runner = cache.runner  # load (and check) the model before any work starts
        where = runner.loaded.device if engine.in_process else f"{engine.description} (device {args.device})"
        print(f"{cache.label} on {where}: {len(sessions)} session(s)")
        if args.recompute:
            for session in sessions:
                cache.clear(session.id)
        computed = segments = 0
        if engine.in_process:
            for session in sessions:
                with cli_progress(session.name, enabled=not args.quiet) as progress:
                    computed += cache.fill(session.id, progress=progress)
        else:
            with cli_progress("frames", enabled=not args.quiet) as progress:
                computed = fill_sessions(cache, [s.id for s in sessions], engine, device=args.device,
                                         progress=progress)
        if args.utterances:
            for session in sessions:
                segments += len(cache.utterances(session.id))
        print(f"{computed} frames computed (the rest were cached); {segments} utterance segments on tier "
              f"model:{cache.record.name}")
        if args.export:
            path = export_predictions(cache, [s.id for s in sessions], args.export, per=args.per)
            print(f"exported per-{args.per} probabilities to {path}")
    return 0
