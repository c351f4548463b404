"""Background retraining of the model behind the queue: when to start it, how, and what came of it.

Why here (no torch, no Qt): the rule "after every N accepted or corrected labels, fine-tune the current model
on all labels so far, and replace it only when it scores better on a held-back slice of the annotator's own
labels" belongs to the cooperative loop, not to a widget. The work runs as a job of the existing machinery
(``core.jobs.JobRunner``: a separate, low-priority (``nice``) and cancellable process,
``python -m dyadlab.trainer.finetune``), so the annotator is never blocked; the job writes a
``FinetuneOutcome`` JSON file that ``outcome`` reads when the job ends. The fine-tune itself (split,
training, scoring, registering) is ``trainer.finetune``; the previous model stays in the registry.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dyadlab.core.model import Job

JOB_KIND = "retrain"
DEFAULT_EVERY = 20  # labels accepted or corrected between two retrainings
MODULE = "dyadlab.trainer.finetune"


@dataclass(frozen=True)
class FinetuneOutcome:
    """What a fine-tune did: the two scores and, when it replaced the model, the new registration."""

    model_id: int  # the model that was fine-tuned
    replaced: bool
    old_ua: float  # utterance UA of the current model on the held-back slice of the annotator's labels
    new_ua: float  # ... and of the fine-tuned one
    train_utterances: int
    heldout_utterances: int
    new_model_id: int | None = None
    checkpoint: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def read(cls, path: str | Path) -> FinetuneOutcome:
        return cls(**json.loads(Path(path).read_text()))

    @property
    def summary(self) -> str:
        verdict = (f"replaced by model {self.new_model_id}" if self.replaced else "kept (the fine-tune was not better)")
        return (f"retrained on {self.train_utterances} utterances: held-back UA {self.old_ua:.1%} → "
                f"{self.new_ua:.1%} on {self.heldout_utterances}; model {self.model_id} {verdict}")


@dataclass
class RetrainSchedule:
    """Counts the labels the annotator accepted or corrected; says when a retraining is due.

    ``every`` = 0 switches retraining off. At most one retraining runs at a time: labels given meanwhile
    count towards the next one."""

    every: int = DEFAULT_EVERY
    labelled: int = 0
    since: int = 0  # labels since the last retraining started
    running: int | None = None  # id of the retraining job in flight

    def count(self, n: int = 1) -> bool:
        """Record ``n`` more labels; True when a retraining should start now."""
        self.labelled += n
        self.since += n
        return self.every > 0 and self.running is None and self.since >= self.every

    def started(self, job_id: int) -> None:
        self.running, self.since = job_id, 0

    def finished(self, job_id: int) -> bool:
        """The job ended; True when it was ours."""
        if job_id != self.running:
            return False
        self.running = None
        return True


def retrain_command(project_root: Path, model_id: int, annotator: str, result: Path, *, tier: str = "emotion",
                    epochs: int = 3, nice: int = 10) -> list[str]:
    return [sys.executable, "-m", MODULE, str(project_root), "--model", str(model_id), "--annotator", annotator,
            "--tier", tier, "--epochs", str(epochs), "--nice", str(nice), "--result", str(result)]


def submit_retrain(jobs: Any, project: Any, model_id: int, annotator: str, *, tier: str = "emotion",
                   epochs: int = 3) -> Job:
    """Queue a low-priority fine-tune of ``model_id`` on ``annotator``'s labels (a ``JobRunner`` job)."""
    result = project.cache_dir.resolve() / "active" / f"retrain-{model_id}-{time.time_ns()}.json"
    command = retrain_command(project.root.resolve(), model_id, annotator, result, tier=tier, epochs=epochs)
    return jobs.submit(JOB_KIND, command, {"model_id": model_id, "annotator": annotator, "tier": tier,
                                           "result": str(result)})


def outcome(job: Job) -> FinetuneOutcome | None:
    """What a finished retraining job decided (None: it failed, was cancelled, or is not a retraining)."""
    path = job.config.get("result") if job.kind == JOB_KIND else None
    if job.state != "succeeded" or not path or not Path(path).is_file():
        return None
    return FinetuneOutcome.read(path)
