"""``dyadlab queue PROJECT --model ID``: the stretches worth labelling next, best first, and why.

The same queue the "Next to label" panel shows (``core.active.queue.build_queue``), for a shell or a script:
rank, session, participant, time span, the model's proposed label, the score and the reasons.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dyadlab.core import model
    from dyadlab.core.active.ranking import Weights
    from dyadlab.core.project import Project

NAME = "queue"
HELP = "rank unlabelled stretches by what labelling them is worth (uncertainty, disagreement, spread)"
NEW_ANNOTATOR_ID = -1  # an annotator the project does not have: no segment or skip is theirs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--model", type=int, required=True, metavar="ID",
                   help="registered model id (see `dyadlab models PROJECT`)")
    p.add_argument("--compare", type=int, nargs="+", default=[], metavar="ID",
                   help="other models (another modality, or a second model) whose disagreement counts")
    p.add_argument("--annotator", default=None,
                   help="whose queue: their labels and skips are left out (default: someone new, with nothing "
                        "labelled yet; a query adds no annotator to the project)")
    p.add_argument("--tier", default="emotion", help="tier name to label (default: emotion)")
    p.add_argument("--sessions", nargs="+", metavar="SESSION", help="session names or ids (default: all)")
    p.add_argument("--participant", metavar="CODE", help="only this participant (its code, e.g. A)")
    p.add_argument("--measure", choices=("entropy", "margin"), default="entropy", help="uncertainty measure")
    p.add_argument("--diversity", type=float, default=0.6, help="0 (none) to 1: how much a pick nearby counts")
    p.add_argument("--spacing", type=float, default=10.0, metavar="S", help="reach of the diversity penalty (s)")
    p.add_argument("--balance", type=float, default=1.0,
                   help="how much earlier picks proposing the same class hold a stretch back (0: not)")
    p.add_argument("--novelty", type=float, default=1.0,
                   help="weight of how unlike anything labelled a stretch sounds (eGeMAPS distance; 0: off)")
    p.add_argument("--density", type=float, default=1.0,
                   help="exponent of how typical of the unlabelled stretches one sounds (0: off)")
    p.add_argument("--per-speaker", action=argparse.BooleanOptionalAction, default=True,
                   help="measure novelty and density on each participant's features standardised per session "
                        "(default: a new emotion counts, not a new voice); --no-per-speaker: on the raw eGeMAPS")
    p.add_argument("--window", type=float, default=3.0, metavar="S",
                   help="window length for participants without utterances (s)")
    p.add_argument("--top", type=int, default=20, metavar="N", help="how many entries to print (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per entry instead of a table")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.active.queue import build_queue
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.features.pipeline import select_sessions
    from dyadlab.core.project import open_project

    weights = ranking_weights(args)
    if args.model in args.compare:  # a model against itself: a disagreement term that is always zero
        raise DyadLabError(f"--compare {args.model} is the queued model itself (--model {args.model}): compare it "
                           "with another model (`dyadlab models PROJECT` lists them)")
    with open_project(args.project) as project:
        with project.store.transaction() as tx:
            sessions = select_sessions(tx.sessions.list(), args.sessions)
            names = {s.id: s.name for s in sessions}
            codes = {p.id: p.code for s in sessions for p in tx.participants.list(s.id)}
            tiers = {t.name for s in sessions for t in tx.tiers.list(s.id) if t.kind == "categorical"}
        if args.tier not in tiers:  # a typo ranked every stretch for a tier nobody could label
            raise DyadLabError(f"no categorical tier {args.tier!r} in {args.project}",
                               hint=f"tiers: {', '.join(sorted(tiers)) or 'none'}")
        participant = None
        if args.participant is not None:
            found = [pid for pid, code in codes.items() if code == args.participant]
            if not found:
                raise DyadLabError(f"no participant {args.participant!r} in {args.project}",
                                   hint=f"participants: {', '.join(sorted(set(codes.values())))}")
            participant = found  # the participant with that code in each session
        who = _annotator(project, args.annotator)
        items = build_queue(project, args.model, who, tier=args.tier, sessions=list(names), participants=participant,
                            compare=args.compare, weights=weights, window_s=args.window, limit=args.top)
    for item in items:
        s = item.entry.stretch
        row = {"rank": item.entry.rank + 1, "session": names[s.session_id], "participant": codes[s.participant_id],
               "start_s": s.start_us / 1e6, "end_s": s.end_us / 1e6, "proposed": s.proposed,
               "score": round(item.entry.score, 4), "why": item.why}
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['rank']:>4}  {row['session']:<12} {row['participant']:<4} {row['start_s']:8.2f}–"
                  f"{row['end_s']:<8.2f} {row['proposed']:<10} {row['score']:.3f}  {row['why']}")
    if not args.json:
        whose = f"annotator {who.name!r}" if who.id != NEW_ANNOTATOR_ID else (
            f"annotator {args.annotator!r}: nothing labelled yet" if args.annotator else "a new annotator: nothing "
            "labelled yet")
        print(f"{len(items)} entries shown (model {args.model}, tier {args.tier!r}, {whose})")
    return 0


# option: the ``Weights`` field it sets
WEIGHT_OPTIONS = {"--diversity": "diversity", "--spacing": "spacing_s", "--balance": "balance",
                  "--novelty": "novelty", "--density": "density"}


def ranking_weights(args: argparse.Namespace) -> Weights:
    """The ranking's settings from the command line (its defaults are ``Weights()``'s, the panel's), each
    checked against its range first: one error line naming the option (``--diversity -1`` was a traceback)."""
    from dyadlab.core.active.ranking import Weights, weight_problem
    from dyadlab.core.errors import DyadLabError

    for option, name in WEIGHT_OPTIONS.items():
        problem = weight_problem(name, getattr(args, option[2:]))
        if problem:
            raise DyadLabError(f"{option} {problem}")
    return Weights(measure=args.measure, diversity=args.diversity, spacing_s=args.spacing, balance=args.balance,
                   novelty=args.novelty, density=args.density, per_speaker=args.per_speaker)


def _annotator(project: Project, name: str | None) -> model.Annotator:
    """The annotator whose queue is asked for. A name the project lacks (or none) is someone new, with nothing
    labelled or skipped, and is not written: a question adds no annotator (it added one named 'annotator')."""
    from dyadlab.core import model

    if name is not None:
        with project.store.transaction() as tx:
            found = tx.annotators.by_name(name)
        if found is not None:
            return found
    return model.Annotator(NEW_ANNOTATOR_ID, name or "new annotator")
