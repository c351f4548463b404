"""``dyadlab evaluate PROJECT --model ID``: score a registered model on a project's labelled sessions.

The scoring itself is the trainer's (``trainer.evaluation``: same data path and metrics as training); this
module only reads the command line and prints the report. By default the model is scored on the sessions of
its own test groups, with the labels it was trained on; ``--sessions``, ``--annotator`` and ``--tier``
choose others.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "evaluate"
HELP = "score a registered model on a project's sessions: WA/UA/F1 per frame and utterance, confusion matrix"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--model", type=int, required=True, metavar="ID", help="registry id (see `dyadlab models`)")
    p.add_argument("--sessions", nargs="+", metavar="SESSION",
                   help="session names (default: the sessions of the model's test groups)")
    p.add_argument("--annotator", help="whose labels to score against (default: those the model learned)")
    p.add_argument("--tier", help="the categorical tier holding them (default: the model's)")
    p.add_argument("--audio-frames", choices=["speech", "all"],
                   help="score audio inputs where the participant speaks, or on every frame (default: as trained)")
    p.add_argument("--batch-size", type=int, default=256, help="frames per prediction batch (default 256)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def run(args: argparse.Namespace) -> int:
    import torch

    from dyadlab.trainer.evaluation import evaluate_model, format_report

    if args.threads:
        torch.set_num_threads(args.threads)
    evaluation = evaluate_model(args.project, args.model, sessions=args.sessions, annotator=args.annotator,
                                tier=args.tier, audio_frames=args.audio_frames, batch_size=args.batch_size)
    print(evaluation.heading() + "\n")
    print(format_report(evaluation.result))
    return 0
