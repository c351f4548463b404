"""Does labelling in queue order save effort? An annotator simulated on the demo corpus, in several orders.

Why: the "Next to label" queue (``core.active``) claims that labelling where the model is unsure, where
models or annotators disagree, what sounds unlike anything labelled yet typical of what is open (``--novelty``,
``--density``), spread over the session, teaches the model faster than labelling from
the start (time order) or at random. This bench measures it: the demo corpus is generated and its audio
analysed; its gold labels play the annotator; the first sessions are the pool to label, the last ones
(``--test-sessions``) are held out. Each order labels the pool's utterances in the same budget steps with
the same seed, and after every step the current model (an MLP on eGeMAPS functionals by default) is
fine-tuned on all labels so far, as the background retraining does (``trainer.active_simulation``).

Printed: the learning curves (utterance UA on the held-out sessions vs the fraction of pool utterances
labelled; the mean over ``--seeds``), the UA of the model trained on every pool label, and the fraction
each order needs to reach 90 % of it. Goal: the queue needs at most half the labels time order needs.
Written next to the table: ``active_learning.txt`` and ``active_learning.png`` in ``--out`` (and the plot
into ``docs/`` with ``--docs``).

    python bench/active_learning.py                         # 8 sessions x 30 s, 2 held out, 5 seeds
    python bench/active_learning.py --scenario scripted --sessions 12 --test-sessions 4
                                  # each session mostly one emotion, as in IEMOCAP (core.demo.timeline)
    python bench/active_learning.py --out /tmp/al --docs    # keep the project; update docs/active_learning.png
    python bench/active_learning.py --orders queue,time,random,balanced --steps 0.045,0.06,0.075,0.09,...
                                  # finer steps, and what labelling the least-labelled class each time gives

Novelty is measured on each participant's features standardised per recording (``--per-speaker``, the
default, as in the app): on raw functionals the nearest thing to "unlike anything labelled" is a new voice,
not a new emotion, and on the varied corpus the queue then needed 40 % of the labels instead of 25 %.

Exit code 0 when the goal is met, 1 otherwise. Torch runs on one thread.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DOCS_PLOT = Path(__file__).resolve().parents[1] / "docs" / "active_learning.png"
SHARE = 0.9


def prepare(root: Path, *, sessions: int, seconds: float, seed: int, scenario: str = "varied") -> None:
    """The demo corpus at ``root`` with its audio analysed (kept and reused when it is already there)."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project
    from dyadlab.core.project import open_project

    t0 = time.perf_counter()
    if not (root / "dyadlab.sqlite").exists():
        generate_demo(root, sessions=sessions, seconds=seconds, seed=seed, scenario=scenario).close()
    with open_project(root) as project:
        summary = analyze_project(project, what=("audio",), workers=1)
    if summary.failed:
        raise RuntimeError("analysis failed:\n" + "\n".join(str(w) for w in summary.warnings))
    print(f"demo corpus ({scenario}): {sessions} sessions x {seconds:g} s, audio analysed in {time.perf_counter() - t0:.0f} s "
          f"-> {root}", flush=True)


def mean_curves(results: list) -> dict[str, tuple[list[float], list[float]]]:
    orders = results[0].curves
    return {o: (results[0].curves[o].fractions, list(np.mean([r.curves[o].ua for r in results], axis=0)))
            for o in orders}


def needed(fractions: list[float], ua: list[float], target: float) -> float | None:
    return next((f for f, u in zip(fractions, ua, strict=True) if u >= target), None)


def report(results: list, args: argparse.Namespace) -> tuple[str, bool]:
    curves = mean_curves(results)
    full = float(np.mean([r.full_ua for r in results]))
    orders = list(curves)
    lines = [f"active learning on the demo corpus ({args.scenario}): {results[0].pool_utterances} pool utterances "
             f"({args.sessions - args.test_sessions} sessions), {results[0].test_utterances} held-out utterances "
             f"({args.test_sessions} sessions), input {args.input}, {args.epochs} fine-tune epochs per step, "
             f"{len(results)} seed(s)",
             "utterance UA on the held-out sessions (mean over seeds) vs fraction of pool utterances labelled:",
             "fraction  labels  " + "  ".join(f"{o:>8}" for o in orders)]
    pool = results[0].pool_utterances
    for i, f in enumerate(curves[orders[0]][0]):
        lines.append(f"{f:8.1%}  {round(f * pool):6d}  " + "  ".join(f"{curves[o][1][i]:8.3f}" for o in orders))
    target = SHARE * full
    lines.append(f"fully labelled model (all pool labels, {args.full_epochs} epochs): UA {full:.3f}; "
                 f"{SHARE:.0%} of it = {target:.3f}")
    need = {o: needed(*curves[o], target) for o in orders}
    lines.append("labels needed to reach it: " + ", ".join(
        f"{o} {'not within the budget' if n is None else f'{n:.1%} ({round(n * pool)})'}" for o, n in need.items()))
    q, t = need.get("queue"), need.get("time")
    if "queue" not in need or "time" not in need:
        lines.append("goal (queue needs <= half of time order's labels): not judged (run both orders)")
        return "\n".join(lines), False
    met = q is not None and (t is None or q <= 0.5 * t)
    ratio = "n/a" if q is None or t is None else f"{q / t:.2f}"
    lines.append(f"goal (queue needs <= half of time order's labels): {'MET' if met else 'NOT MET'} "
                 f"(queue / time = {ratio})")
    return "\n".join(lines), met


def plot(results: list, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = mean_curves(results)
    full = float(np.mean([r.full_ua for r in results]))
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    styles = {"queue": ("#d81b60", "o"), "time": ("#1e88e5", "s"), "random": ("#7cb342", "^"),
              "balanced": ("#8e24aa", "d")}
    for order, (fractions, ua) in curves.items():
        color, marker = styles.get(order, (None, "x"))
        ax.plot(np.array(fractions) * 100, ua, marker=marker, color=color, label=f"{order} order")
    ax.axhline(full, color="#555555", linestyle="--", linewidth=1, label="all labels")
    ax.axhline(SHARE * full, color="#999999", linestyle=":", linewidth=1, label=f"{SHARE:.0%} of all labels")
    ax.set_xlabel("pool utterances labelled (%)")
    ax.set_ylabel("utterance UA, held-out sessions")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--test-sessions", type=int, default=2)
    p.add_argument("--corpus-seed", type=int, default=0)
    p.add_argument("--scenario", choices=("varied", "scripted"), default="varied",
                   help="varied: every emotion in every session; scripted: each session mostly one (IEMOCAP-like)")
    p.add_argument("--seeds", type=int, default=5, help="simulation seeds averaged (0, 1, ...)")
    p.add_argument("--input", default="egemaps", choices=("egemaps", "compare"), help="audio features")
    p.add_argument("--epochs", type=int, default=3, help="fine-tune epochs after each labelling step")
    p.add_argument("--full-epochs", type=int, default=12, help="epochs of the fully-labelled reference model")
    p.add_argument("--steps", default="0.05,0.1,0.15,0.2,0.25,0.3,0.4,0.6,0.8,1.0",
                   help="budget steps (fractions of the pool's utterances)")
    p.add_argument("--measure", default="entropy", choices=("entropy", "margin"), help="the queue's uncertainty")
    p.add_argument("--diversity", type=float, default=0.6, help="the queue's time-distance penalty (0..1)")
    p.add_argument("--balance", type=float, default=1.0, help="the queue's same-proposed-class penalty")
    p.add_argument("--spread", type=float, default=1.0, help="the queue's same-recording penalty")
    p.add_argument("--novelty", type=float, default=1.0,
                   help="the queue's feature-space distance to what is labelled (0: off)")
    p.add_argument("--density", type=float, default=1.0,
                   help="the queue's information-density exponent (how typical of the unlabelled; 0: off)")
    p.add_argument("--per-speaker", action=argparse.BooleanOptionalAction, default=True,
                   help="novelty and density on features standardised per recording and participant (default), "
                        "or on the raw functionals (--no-per-speaker)")
    p.add_argument("--orders", default="queue,time,random",
                   help="orders to run, of queue, time, random and balanced (an annotator who knows the answers "
                        "and labels the class labelled least so far: what perfect class coverage would give)")
    p.add_argument("--out", type=Path, help="folder for the project, table and plot (default: a temp folder)")
    p.add_argument("--docs", action="store_true", help=f"also write the plot to {DOCS_PLOT}")
    args = p.parse_args(argv)
    if not 0 < args.test_sessions < args.sessions:
        p.error("--test-sessions must be between 1 and --sessions - 1")
    from dyadlab.trainer.active_simulation import ORDERS

    unknown = set(args.orders.split(",")) - set(ORDERS)
    if unknown:
        p.error(f"--orders: unknown {', '.join(sorted(unknown))} (use {', '.join(ORDERS)})")

    import torch

    from dyadlab.core.active.ranking import Weights
    from dyadlab.trainer.active_simulation import simulate
    from dyadlab.trainer.config import ModelConfig
    from dyadlab.trainer.project_source import ProjectFrameSource

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        root = out / "project"
        prepare(root, sessions=args.sessions, seconds=args.seconds, seed=args.corpus_seed, scenario=args.scenario)
        table = ProjectFrameSource(root).load([args.input])
        names = sorted(set(table.session.tolist()))
        test = np.isin(table.session, names[-args.test_sessions:])
        steps = [float(s) for s in args.steps.split(",")]
        orders = [o.strip() for o in args.orders.split(",") if o.strip()]
        config = ModelConfig(kind="feature_mlp", input=args.input)
        results = []
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            results.append(simulate(table, config, np.flatnonzero(~test), np.flatnonzero(test), orders=orders, steps=steps,
                                    epochs=args.epochs, full_epochs=args.full_epochs, seed=seed,
                                    weights=Weights(measure=args.measure, diversity=args.diversity,
                                                    balance=args.balance, spread=args.spread,
                                                    novelty=args.novelty, density=args.density,
                                                    per_speaker=args.per_speaker)))
            print(f"seed {seed}: done after {time.perf_counter() - t0:.0f} s", flush=True)
        text, met = report(results, args)
        print(text)
        out.mkdir(parents=True, exist_ok=True)
        (out / "active_learning.txt").write_text(text + "\n")
        png = out / "active_learning.png"
        plot(results, png, f"Demo corpus ({args.scenario}), {args.input} MLP: {' vs '.join(orders)} order ({args.seeds} seeds)")
        if args.docs:
            shutil.copyfile(png, DOCS_PLOT)
        print(f"table and plot: {out / 'active_learning.txt'}, {png}" + (f", {DOCS_PLOT}" if args.docs else ""))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
