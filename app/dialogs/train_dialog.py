"""The "Train model" dialog: choose what to learn from, check the experiment config, queue a training job.

Why a dialog and not a wizard: every choice maps onto one argument of ``dyadlab train`` (``--config``,
``--set``, ``--threads``, ``--name``, ``--annotator``, ``--tier``), so the dialog is a form over that command
and the job it queues is exactly what a user could run in a shell. ``TrainRequest`` holds the choices as
plain data and builds the argv; the dialog only fills it from widgets. The config is loaded and checked
(``trainer.config.load_config``, imported when the dialog validates, so the GUI starts without the trainer)
*before* anything is submitted: a config that fails never becomes a job, and its message stays in the dialog.
The split is checked as the user types (``TrainRequest.split_problem``): a test group that no chosen session
has is named under the form and the Train button stays disabled, instead of a job that fails with "exit code 1".
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QWidget,
)

from dyadlab.core.errors import DyadLabError

if TYPE_CHECKING:
    from dyadlab.core.jobs import JobRunner
    from dyadlab.core.model import Job

NAMED, LOSO = "named", "leave_one_group_out"
DEVICES = ("auto", "cpu", "cuda")


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


@dataclass
class TrainRequest:
    """What the user asked to train, as ``dyadlab train`` understands it (no widgets, testable alone)."""

    project: Path
    config: str  # a shipped experiment's name or a TOML file
    scheme: str | None = None
    annotator: str = "gold"
    tier: str = "emotion"
    sessions: list[str] = field(default_factory=list)  # empty: all sessions
    split: str = NAMED  # NAMED or LOSO
    train_groups: list[str] = field(default_factory=list)
    test_groups: list[str] = field(default_factory=list)
    epochs: int | None = None  # None: the config's
    device: str = "auto"
    threads: int = 0
    name: str = ""

    def overrides(self) -> list[str]:
        """The ``--set`` assignments; the same list validates the config and goes into the command."""
        sets = [f"train.device={self.device}"]
        if self.scheme:
            sets.append(f"scheme={self.scheme}")
        if self.epochs:
            sets.append(f"train.epochs={self.epochs}")
        if self.sessions:
            sets.append(f"data.sessions={_toml_list(self.sessions)}")
        sets.append(f"split.kind={self.split}")
        if self.split == NAMED:
            sets += [f"split.train_groups={_toml_list(self.train_groups)}",
                     f"split.test_groups={_toml_list(self.test_groups)}"]
        return sets

    def split_problem(self, session_groups: dict[str, str]) -> str | None:
        """What is wrong with the chosen sessions and split, given each session's group (``session.group`` or its
        name, as the trainer groups frames); None when the trainer will accept it."""
        chosen = [g for name, g in session_groups.items() if not self.sessions or name in self.sessions]
        if not chosen:
            return "Choose at least one session."
        present = list(dict.fromkeys(chosen))
        listed = ", ".join(present)
        if self.split == LOSO:
            return None if len(present) >= 2 else f"Leave-one-out needs two groups or more; the sessions have {listed}."
        if not self.test_groups:
            return f"No test group (split.test_groups): name one or more; the chosen sessions have {listed}."
        for what, groups in (("Test", self.test_groups), ("Train", self.train_groups)):
            unknown = [g for g in groups if g not in present]
            if unknown:
                return (f"{what} group {', '.join(repr(g) for g in unknown)} is not a group of the chosen sessions "
                        f"(groups: {listed}).")
        both = [g for g in self.test_groups if g in self.train_groups]
        if both:
            return f"Group {', '.join(repr(g) for g in both)} is in both the train and the test groups."
        return None

    def validate(self) -> str:
        """Load and check the config with the overrides; returns the experiment's name (ConfigError if bad)."""
        from dyadlab.trainer.config import load_config, resolve_config_path

        return load_config(resolve_config_path(self.config), self.overrides()).name

    def command(self) -> list[str]:
        argv = [sys.executable, "-m", "dyadlab.core.cli", "train", str(self.project), "--config", self.config,
                "--annotator", self.annotator, "--tier", self.tier, "--threads", str(self.threads), "--quiet"]
        for assignment in self.overrides():
            argv += ["--set", assignment]
        if self.name:
            argv += ["--name", self.name]
        return argv

    def submit(self, runner: JobRunner) -> Job:
        """Validate, then queue the job (a config that fails raises and queues nothing)."""
        experiment = self.validate()
        return runner.submit("train", self.command(),
                             {"experiment": experiment, "config_file": self.config, "name": self.name or experiment,
                              "overrides": self.overrides()})


def shipped_names() -> list[str]:
    from dyadlab.trainer.config import shipped_experiments

    return [p.stem for p in shipped_experiments()]


class TrainDialog(QDialog):
    """Form over ``TrainRequest``; OK validates and submits, and stays open showing the error if that fails."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainDialog")
        self.setWindowTitle("Train model")
        self.runner = runner
        self.job: Job | None = None
        project = runner.project
        with project.store.transaction() as tx:
            schemes = [s.name for s in tx.schemes.list() if s.kind == "categorical"]
            annotators = [a.name for a in tx.annotators.list()]
            tiers = sorted({t.name for t in tx.tiers.list() if t.kind == "categorical"})
            sessions = tx.sessions.list()
        self.session_groups = {s.name: s.group or s.name for s in sessions}
        groups = list(dict.fromkeys(self.session_groups.values()))

        self.config = QComboBox(objectName="config", editable=True)
        self.config.addItems(shipped_names())
        browse = QPushButton("File…", objectName="browse")
        browse.clicked.connect(self._browse)
        config_row = QHBoxLayout()
        config_row.addWidget(self.config, 1)
        config_row.addWidget(browse)
        self.scheme = QComboBox(objectName="scheme")
        self.scheme.addItem("(the config's)", None)
        for name in schemes:
            self.scheme.addItem(name, name)
        self.annotator = QComboBox(objectName="annotator")
        self.annotator.addItems(sorted(annotators, key=lambda n: n != "gold"))
        self.tier = QComboBox(objectName="tier", editable=True)
        self.tier.addItems(tiers or ["emotion"])
        self.sessions = QListWidget(objectName="sessions")
        for s in sessions:
            item = QListWidgetItem(f"{s.name} ({s.group or '-'})")
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            item.setCheckState(Qt.CheckState.Checked)
            self.sessions.addItem(item)
        self.sessions.setMaximumHeight(110)
        self.split = QComboBox(objectName="split")
        self.split.addItem("named train / test groups", NAMED)
        self.split.addItem("leave one session (group) out", LOSO)
        self.train_groups = QLineEdit(", ".join(groups[:-1]), objectName="train_groups")
        self.test_groups = QLineEdit(", ".join(groups[-1:]), objectName="test_groups")
        self.split.currentIndexChanged.connect(self._split_changed)
        self.epochs = QSpinBox(objectName="epochs", minimum=0, maximum=10_000, specialValueText="(the config's)")
        self.device = QComboBox(objectName="device")
        self.device.addItems(DEVICES)
        self.threads = QSpinBox(objectName="threads", minimum=0, maximum=256, specialValueText="(torch default)")
        self.name = QLineEdit(objectName="name", placeholderText="(the experiment's name)")
        self.error = QLabel(objectName="error", wordWrap=True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #e06c75")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Train")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow("Experiment config", config_row)
        form.addRow("Label scheme", self.scheme)
        form.addRow("Ground truth (annotator)", self.annotator)
        form.addRow("Categorical tier", self.tier)
        form.addRow("Sessions", self.sessions)
        form.addRow("Split", self.split)
        form.addRow("Train groups", self.train_groups)
        form.addRow("Test groups", self.test_groups)
        form.addRow("Epochs", self.epochs)
        form.addRow("Device", self.device)
        form.addRow("CPU threads", self.threads)
        form.addRow("Model name", self.name)
        form.addRow(self.error)
        form.addRow(self.buttons)
        for edit in (self.train_groups, self.test_groups):
            edit.textChanged.connect(self._check)
        self.sessions.itemChanged.connect(self._check)
        self.split.currentIndexChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        """Name what is wrong with the split under the form and keep Train disabled until it is fixed."""
        problem = self.request().split_problem(self.session_groups)
        self.error.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Experiment config", "", "Experiment (*.toml)")
        if path:
            self.config.setCurrentText(path)

    def _split_changed(self) -> None:
        named = self.split.currentData() == NAMED
        self.train_groups.setEnabled(named)
        self.test_groups.setEnabled(named)

    def request(self) -> TrainRequest:
        def groups(edit: QLineEdit) -> list[str]:
            return [g.strip() for g in edit.text().split(",") if g.strip()]

        items = [self.sessions.item(i) for i in range(self.sessions.count())]
        checked = [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]
        return TrainRequest(
            project=self.runner.project.root.resolve(), config=self.config.currentText().strip(),
            scheme=self.scheme.currentData(), annotator=self.annotator.currentText(),
            tier=self.tier.currentText().strip(), sessions=[] if len(checked) == len(items) else checked,
            split=self.split.currentData(), train_groups=groups(self.train_groups),
            test_groups=groups(self.test_groups), epochs=self.epochs.value() or None,
            device=self.device.currentText(), threads=self.threads.value(), name=self.name.text().strip())

    def accept(self) -> None:
        """Submit, or show why not and stay open (a bad config or split never becomes a job)."""
        problem = self.request().split_problem(self.session_groups)
        if problem is not None:
            self.error.setText(problem)
            return
        try:
            self.job = self.request().submit(self.runner)
        except DyadLabError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
