"""The thesis experiments end to end on the synthetic demo corpus, on this machine, checked against bars.

Why: the demo corpus is the one corpus with known truth on these machines (no IEMOCAP; the one pretrained
model is trained on FER2013 photographs), so it is where the whole chain — demo media → ``analyze_project``
→ ``dyadlab train`` (project frames, training, test, registry) — must show that each model learns what the
corpus expresses. Steps:

1. generate the demo corpus (``--sessions`` × ``--seconds``, groups Session1..N) and analyse faces + audio
   (faces at ``--face-size`` px: the face CNN has no downscale of its own, and at the analysis default of
   224 px it trains at ~20 frames/s on one CPU thread);
2. train every shipped thesis experiment with ``dyadlab train``: train on Session1..N-1, test on SessionN
   (``--loso``: one run per held-out session). The only changes to the shipped configs are the split and,
   as the thesis stacks its models, warm starts from models trained earlier *in the same fold*: each
   ``*_lstm`` model runs its LSTM on the frozen encoder of its frame model, and ``fusion_late`` takes the
   three single-modality models as its frozen branches and trains only its head. No test label is seen
   before testing (early stopping uses speakers held out of the training sessions);
3. the same for the thesis' own recipes (``thesis_*``: Adam 1e-4, min-max scaled ComParE, frozen frame models
   under the LSTMs, the pretrained FER2013 face network for VGG-Face; ``--recipes`` picks which), and the
   pretrained face model both as shipped (scored on the test session without any training) and fine-tuned
   (``face_cnn_pretrained``);
4. print the fold table (WA/UA at frame and utterance level), wall time and training samples/s per model,
   the thesis and improved recipes side by side, and PASS/FAIL per bar (improved recipes): each
   single-modality model (raw-audio CNN, ComParE MLP, face CNN) reaches utterance-level UA ≥ 0.9; late fusion
   ≥ the best single branch (utterance UA); each recurrent model ≥ its frame-level counterpart at frame level
   (UA). The thesis recipes and the pretrained face model are reported, not barred (the drawn demo faces are
   not FER2013's photographs). Chance is 0.25 (four balanced classes).

    python bench/demo_experiment.py                          # 5 sessions x 30 s, Session1-4 -> Session5
    python bench/demo_experiment.py --loso --out /tmp/demo   # leave-one-session-out, keep the project
    python bench/demo_experiment.py --recipes improved       # only the improved recipes (faster)

Exit code 0 when every bar passes, 1 otherwise. Torch runs with ``--threads`` (default 1) threads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SINGLE = ("raw_audio_cnn", "compare_mlp", "face_cnn")
RECURRENT = {"raw_audio_cnn_lstm": "raw_audio_cnn", "compare_mlp_lstm": "compare_mlp", "face_cnn_lstm": "face_cnn"}
FUSION = "fusion_late"
IMPROVED = (*SINGLE, *RECURRENT, FUSION)
# The thesis' own recipes: improved experiment -> its thesis_* counterpart (shown side by side)
THESIS_OF = {name: f"thesis_{name}" for name in IMPROVED}
THESIS_SINGLE = tuple(THESIS_OF[name] for name in SINGLE)
RECURRENT.update({THESIS_OF[name]: THESIS_OF[frame] for name, frame in list(RECURRENT.items())})
FUSION_BRANCHES = {FUSION: {"raw_audio_cnn": "raw_audio_cnn", "feature_mlp": "compare_mlp", "face_cnn": "face_cnn"},
                   THESIS_OF[FUSION]: {"raw_audio_cnn": THESIS_SINGLE[0], "feature_mlp": THESIS_SINGLE[1],
                                       "mini_xception": THESIS_SINGLE[2]}}
PRETRAINED = "face_cnn_pretrained"  # the pretrained face model fine-tuned ...
AS_SHIPPED = "face_pretrained_as_shipped"  # ... and as shipped, scored without training (not a config)
THESIS = (*THESIS_SINGLE, *(THESIS_OF[n] for n in RECURRENT if n in IMPROVED), THESIS_OF[FUSION])
EXPERIMENTS = (*IMPROVED, PRETRAINED, AS_SHIPPED, *THESIS)  # in training order (prerequisites first)
RECIPES = {"improved": (*IMPROVED, PRETRAINED, AS_SHIPPED), "thesis": (*THESIS, AS_SHIPPED), "both": EXPERIMENTS}
SINGLE_UA_BAR = 0.9
CHANCE = 0.25
Log = Callable[[str], None]


@dataclass
class ModelRun:
    """One trained model of one fold, as the registry and its run folder describe it."""

    experiment: str
    fold: str
    model_id: int
    checkpoint: Path
    scores: dict[str, dict[str, float]]  # level -> {"wa", "ua", "macro_f1", "n"}
    wall_s: float
    samples_per_s: float


@dataclass
class Bar:
    model: str  # the experiment the bar is about (one bar per experiment)
    what: str
    value: float
    threshold: float
    passed: bool

    @property
    def name(self) -> str:
        return f"{self.model} {self.what}"


@dataclass
class ExperimentResult:
    runs: list[ModelRun] = field(default_factory=list)
    setup_s: dict[str, float] = field(default_factory=dict)

    def runs_of(self, experiment: str) -> list[ModelRun]:
        return [r for r in self.runs if r.experiment == experiment]

    def mean(self, experiment: str, level: str, key: str) -> float:
        return float(np.mean([r.scores[level][key] for r in self.runs_of(experiment)]))


# -- corpus ------------------------------------------------------------------------------------------------

def prepare_project(root: Path, *, sessions: int, seconds: float, seed: int, face_size: int, workers: int,
                    log: Log) -> dict[str, float]:
    """Generate the demo corpus at ``root`` (unless it is already a project) and analyse it; returns timings."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project
    from dyadlab.core.project import open_project

    timings = {}
    if not (root / "dyadlab.sqlite").exists():
        t0 = time.perf_counter()
        generate_demo(root, sessions=sessions, seconds=seconds, seed=seed).close()
        timings["generate_s"] = time.perf_counter() - t0
        log(f"demo corpus: {sessions} sessions x {seconds:g} s in {timings['generate_s']:.0f} s -> {root}")
    t0 = time.perf_counter()
    with open_project(root) as project:
        summary = analyze_project(project, what=("faces", "audio"), workers=workers,
                                  params={"faces": {"size": face_size}})
    timings["analyze_s"] = time.perf_counter() - t0
    if summary.failed:
        raise RuntimeError("analysis failed:\n" + "\n".join(str(w) for w in summary.warnings))
    log(f"analysis (faces {face_size} px + audio, {workers} worker(s)): {len(summary.computed)} computed, "
        f"{len(summary.cached)} cached in {timings['analyze_s']:.0f} s")
    return timings


def session_groups(root: Path) -> list[str]:
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        groups = {s.group or s.name for s in tx.sessions.list()}
    return sorted(groups, key=lambda g: (len(g), g))


def folds(groups: Sequence[str], loso: bool) -> list[tuple[str, list[str]]]:
    """(test group, train groups) per fold: the last group held out, or each group in turn."""
    tested = list(groups) if loso else [groups[-1]]
    return [(test, [g for g in groups if g != test]) for test in tested]


# -- training -----------------------------------------------------------------------------------------------

def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def fusion_config(out: Path, fold: str, branches: dict[str, Path], fusion: str = FUSION) -> Path:
    """The shipped late-fusion config with each branch's ``checkpoint`` set to this fold's trained model."""
    import tomli_w

    from dyadlab.trainer.config import resolve_config_path

    data = tomllib.loads(resolve_config_path(fusion).read_text(encoding="utf-8"))
    by_kind = FUSION_BRANCHES[fusion]
    for branch in data["model"]["branches"]:
        branch["checkpoint"] = str(branches[by_kind[branch["kind"]]])
    path = out / "configs" / f"{fusion}-{fold}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def train_model(root: Path, out: Path, experiment: str, fold: str, train_groups: list[str],
                trained: dict[str, ModelRun], threads: int) -> ModelRun:
    """``dyadlab train`` one experiment on one fold (in this process); returns its registered result."""
    from dyadlab.core.cli.main import main as dyadlab

    overrides = ['split.kind="named"', f"split.train_groups={json.dumps(train_groups)}",
                 f"split.test_groups={json.dumps([fold])}"]
    config = experiment
    if experiment in RECURRENT:
        frame_model = trained[RECURRENT[experiment]].checkpoint
        overrides += [f"model.checkpoint={_toml_string(str(frame_model))}", "model.sequence.freeze_encoder=true"]
    elif experiment in FUSION_BRANCHES:
        branches = {name: trained[name].checkpoint for name in FUSION_BRANCHES[experiment].values()}
        config = str(fusion_config(out, fold, branches, experiment))
    argv = ["train", str(root), "--config", config, "--threads", str(threads), "--quiet"]
    for item in overrides:
        argv += ["--set", item]
    log_file = out / "logs" / f"{experiment}-{fold}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        code = dyadlab(argv)
    wall = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"dyadlab train {experiment} ({fold}) exited with {code}; see {log_file}")
    return _registered_run(root, experiment, fold, wall)


def _registered_run(root: Path, experiment: str, fold: str, wall_s: float) -> ModelRun:
    """The newest registry entry (this bench trains one model at a time) and its run folder's numbers."""
    from dyadlab.core.project import open_project

    with open_project(root) as project:
        with project.store.transaction() as tx:
            record = tx.models.list()[-1]
        run_dir = project.media_path(record.config["run_dir"])
        checkpoint = project.media_path(record.path)
    result = json.loads((run_dir / "folds" / fold / "result.json").read_text(encoding="utf-8"))
    scores = {level: {k: float(result[level][k]) for k in ("n", "wa", "ua", "macro_f1")}
              for level in ("frame", "utterance") if level in result}
    rates = [e["metrics"]["samples_per_s"] for e in _events(run_dir / "events.jsonl")
             if e.get("event") == "epoch" and e.get("stage") == "model"]
    return ModelRun(experiment, fold, record.id, checkpoint, scores, wall_s, float(np.mean(rates)) if rates else 0.0)


def score_as_shipped(root: Path, fold: str) -> ModelRun:
    """The pretrained face-expression model as ``make setup`` installs it, scored on the test session's labelled
    frames with a face (no training: what a new project shows before anything is trained)."""
    import torch

    from dyadlab.trainer.checkpoint import load_checkpoint
    from dyadlab.trainer.data import ProjectFrameSource
    from dyadlab.trainer.metrics import evaluate_levels
    from dyadlab.trainer.pretrained import CHECKPOINT_FILE, models_dir

    t0 = time.perf_counter()
    table = ProjectFrameSource(root).load(["face"])
    model, meta = load_checkpoint(models_dir() / CHECKPOINT_FILE, expect_classes=table.classes)
    rows = np.flatnonzero((table.group == fold) & (table.labels >= 0) & table.valid["face"])
    probs = []
    with torch.inference_mode():
        for lo in range(0, len(rows), 256):
            crops = torch.from_numpy(np.asarray(table.inputs["face"][rows[lo:lo + 256]]))
            probs.append(torch.softmax(model(crops), dim=1).numpy())
    test = evaluate_levels(table.stream[rows], table.utterance[rows], table.labels[rows], np.concatenate(probs),
                           table.classes, context=f"{AS_SHIPPED} {fold}")
    scores = {level: {k: float(test[level][k]) for k in ("n", "wa", "ua", "macro_f1")} for level in test}
    return ModelRun(AS_SHIPPED, fold, 0, models_dir() / CHECKPOINT_FILE, scores, time.perf_counter() - t0, 0.0)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_experiment(out: Path, *, sessions: int = 5, seconds: float = 30.0, seed: int = 0, loso: bool = False,
                   face_size: int = 64, workers: int = 2, threads: int = 1,
                   experiments: Sequence[str] = IMPROVED, log: Log = print) -> ExperimentResult:
    """Steps 1 and 2 of the module docstring; ``out`` receives the project, derived configs and logs."""
    import torch

    torch.set_num_threads(threads)
    unknown = sorted(set(experiments) - set(EXPERIMENTS))
    if unknown:
        raise ValueError(f"unknown experiments {unknown}; choose from {list(EXPERIMENTS)}")
    needed = _with_prerequisites(experiments)
    root = out / "project"
    result = ExperimentResult(setup_s=prepare_project(root, sessions=sessions, seconds=seconds, seed=seed,
                                                      face_size=face_size, workers=workers, log=log))
    for test, train_groups in folds(session_groups(root), loso):
        trained: dict[str, ModelRun] = {}
        for experiment in (e for e in EXPERIMENTS if e in needed):
            run = (score_as_shipped(root, test) if experiment == AS_SHIPPED
                   else train_model(root, out, experiment, test, train_groups, trained, threads))
            trained[experiment] = run
            result.runs.append(run)
            log(f"[{test}] {experiment:<20} utterance UA {run.scores['utterance']['ua']:.3f}  frame UA "
                f"{run.scores['frame']['ua']:.3f}  {run.wall_s:6.0f} s  (model #{run.model_id})")
    return result


def _with_prerequisites(experiments: Sequence[str]) -> set[str]:
    """The requested experiments plus the models they start from."""
    needed = set(experiments)
    needed |= {RECURRENT[e] for e in experiments if e in RECURRENT}
    for fusion, branches in FUSION_BRANCHES.items():
        if fusion in needed:
            needed |= set(branches.values())
    return needed


# -- report ------------------------------------------------------------------------------------------------

def check_bars(result: ExperimentResult) -> list[Bar]:
    """The bars of the module docstring, on the mean over folds, for the experiments that ran."""
    ran = {r.experiment for r in result.runs}
    bars = [Bar(name, f"utterance UA >= {SINGLE_UA_BAR}", result.mean(name, "utterance", "ua"), SINGLE_UA_BAR,
                result.mean(name, "utterance", "ua") >= SINGLE_UA_BAR) for name in SINGLE if name in ran]
    if FUSION in ran:
        best = max(result.mean(name, "utterance", "ua") for name in SINGLE)
        value = result.mean(FUSION, "utterance", "ua")
        bars.append(Bar(FUSION, "utterance UA >= best single branch", value, best, value >= best))
    for name, frame_model in RECURRENT.items():
        if name in ran and name in IMPROVED:  # the thesis recipes are reported, not barred
            value, base = result.mean(name, "frame", "ua"), result.mean(frame_model, "frame", "ua")
            bars.append(Bar(name, f"frame UA >= {frame_model}", value, base, value >= base))
    return bars


def format_report(result: ExperimentResult, bars: list[Bar]) -> str:
    lines = [f"{'model':<26} {'fold':<10} {'frame WA':>8} {'frame UA':>8} {'utt WA':>7} {'utt UA':>7} "
             f"{'frames':>6} {'utts':>4} {'wall s':>7} {'samples/s':>9}"]
    lines.append("-" * len(lines[0]))
    for experiment in EXPERIMENTS:
        runs = result.runs_of(experiment)
        if not runs:
            continue
        rows = [(r.fold, r.scores, r.wall_s, r.samples_per_s) for r in runs]
        if len(runs) > 1:
            mean = {lvl: {k: float(np.mean([r.scores[lvl][k] for r in runs])) for k in ("wa", "ua", "n")}
                    for lvl in ("frame", "utterance")}
            rows.append(("mean", mean, sum(r.wall_s for r in runs), float(np.mean([r.samples_per_s for r in runs]))))
        for fold, scores, wall, rate in rows:
            f, u = scores["frame"], scores["utterance"]
            lines.append(f"{experiment:<26} {fold:<10} {100 * f['wa']:>8.1f} {100 * f['ua']:>8.1f} "
                         f"{100 * u['wa']:>7.1f} {100 * u['ua']:>7.1f} {f['n']:>6.0f} {u['n']:>4.0f} {wall:>7.0f} "
                         f"{rate:>9.0f}")
    lines.append(f"chance (4 classes): UA {100 * CHANCE:.1f}; frames = labelled test frames with valid inputs "
                 f"(audio: where the participant speaks); samples/s = training throughput")
    lines += ["", *side_by_side(result), ""]
    lines += [f"{'PASS' if b.passed else 'FAIL'}  {b.name}: {b.value:.3f} (bar {b.threshold:.3f})" for b in bars]
    return "\n".join(lines)


def side_by_side(result: ExperimentResult) -> list[str]:
    """Thesis recipe beside the improved one (mean over folds, percent), then the pretrained face model."""
    ran = {r.experiment for r in result.runs}

    def cell(experiment: str, level: str) -> str:
        return f"{100 * result.mean(experiment, level, 'ua'):.1f}" if experiment in ran else "-"

    lines = [f"{'recipe':<20} {'thesis utt UA':>13} {'improved utt UA':>15} {'thesis frame UA':>15} "
             f"{'improved frame UA':>17}"]
    for improved, thesis in THESIS_OF.items():
        if improved in ran or thesis in ran:
            lines.append(f"{improved:<20} {cell(thesis, 'utterance'):>13} {cell(improved, 'utterance'):>15} "
                         f"{cell(thesis, 'frame'):>15} {cell(improved, 'frame'):>17}")
    lines.append("pretrained face model (FER2013 mini-Xception), utterance / frame UA: as shipped "
                 f"{cell(AS_SHIPPED, 'utterance')} / {cell(AS_SHIPPED, 'frame')}; fine-tuned ({PRETRAINED}) "
                 f"{cell(PRETRAINED, 'utterance')} / {cell(PRETRAINED, 'frame')}; thesis recipe "
                 f"({THESIS_SINGLE[2]}) {cell(THESIS_SINGLE[2], 'utterance')} / {cell(THESIS_SINGLE[2], 'frame')}")
    lines.append("thesis recipes as reported on IEMOCAP (validation frame accuracy): raw audio .418, ComParE .428, "
                 "face .392, fusion .43-.437, recurrent audio ~.49-.50 — the demo corpus is not IEMOCAP")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5, help="demo sessions (groups Session1..N; default 5)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per session (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="demo corpus seed (default 0)")
    parser.add_argument("--loso", action="store_true", help="leave-one-session-out instead of Session1..N-1 -> N")
    parser.add_argument("--face-size", type=int, default=64, help="face crop size of the analysis (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="analysis worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, help="these experiments (and what they start from)")
    parser.add_argument("--recipes", choices=sorted(RECIPES), default="both",
                        help="thesis, improved or both (default) recipes, each with the pretrained face model")
    parser.add_argument("--out", type=Path, help="keep the project, configs and logs here (default: a temp dir); "
                                                 "an existing demo project there is reused")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        out = args.out or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dyadlab-demo-exp-")))
        result = run_experiment(out, sessions=args.sessions, seconds=args.seconds, seed=args.seed, loso=args.loso,
                                face_size=args.face_size, workers=args.workers, threads=args.threads,
                                experiments=args.only or RECIPES[args.recipes], log=lambda m: print(m, flush=True))
        bars = check_bars(result)
        print()
        print(format_report(result, bars))
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s (generate {result.setup_s.get('generate_s', 0):.0f} s, "
          f"analyse {result.setup_s['analyze_s']:.0f} s, train+test {sum(r.wall_s for r in result.runs):.0f} s; "
          f"torch threads {args.threads})")
    return 0 if all(b.passed for b in bars) else 1


if __name__ == "__main__":
    sys.exit(main())
