"""The prediction inspector: how a model agrees with an annotator, and a way to walk to where it does not.

Pick a model, sessions and an annotator; the dock shows WA/UA/macro-F1 at frame and utterance level and the
confusion matrix (rows: the annotator, columns: the model). Click a cell to list its frames or utterances,
click one to jump the clock there; the disagreement spans, worst first, step with G / Shift+G. All numbers
come from ``core.inference.inspect``; this widget only lays them out and asks to seek.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded
from dyadlab.app.workspace import Workspace
from dyadlab.core.inference.inspect import Inspection, LevelReport, inspect_model

Jump = Callable[[int, int], None]  # (session id, t µs): open that session if needed and seek
LEVELS = ("frame", "utterance")


def _fmt(metrics: dict | None) -> str:
    if not metrics:
        return "nothing evaluated"
    return f"WA {metrics['wa']:.3f} · UA {metrics['ua']:.3f} · F1 {metrics['macro_f1']:.3f}"


class InspectorPanel(QWidget):
    def __init__(self, ws: Workspace, jump: Jump) -> None:
        super().__init__()
        self.ws, self.jump = ws, jump
        self.inspection: Inspection | None = None
        self.span_index = -1
        form = QFormLayout()
        self.model = QComboBox()
        self.model.setObjectName("InspectorModel")
        self.sessions = QListWidget()
        self.sessions.setObjectName("InspectorSessions")
        self.sessions.setMaximumHeight(70)
        self.annotator = QComboBox()
        self.annotator.setObjectName("InspectorAnnotator")
        self.level = QComboBox()
        self.level.setObjectName("InspectorLevel")
        self.level.addItems(LEVELS)
        self.level.currentIndexChanged.connect(lambda _i: self._show())
        form.addRow("Model", self.model)
        form.addRow("Sessions", self.sessions)
        form.addRow("Annotator", self.annotator)
        form.addRow("Level", self.level)
        self.run = QPushButton("Inspect")
        self.run.setObjectName("InspectorRun")
        self.run.clicked.connect(self.inspect)
        self.metrics = QLabel("Choose a model and press Inspect (missing predictions are computed first).")
        self.metrics.setObjectName("InspectorMetrics")
        self.metrics.setWordWrap(True)
        self.matrix = QTableWidget()
        self.matrix.setObjectName("InspectorMatrix")
        self.matrix.cellClicked.connect(self._cell)
        self.units = QListWidget()
        self.units.setObjectName("InspectorUnits")
        self.units.itemClicked.connect(self._go)
        self.spans = QListWidget()
        self.spans.setObjectName("InspectorSpans")
        self.spans.itemClicked.connect(lambda item: self.step_to(self.spans.row(item)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.run)
        layout.addWidget(self.metrics)
        layout.addWidget(self.matrix, 2)
        layout.addWidget(QLabel("Units in the clicked cell"))
        layout.addWidget(self.units, 1)
        layout.addWidget(QLabel("Disagreements, worst first (G / Shift+G)"))
        layout.addWidget(self.spans, 1)
        ws.session_opened.connect(self.refresh_choices)
        self.refresh_choices()

    # -- choices ---------------------------------------------------------------------------------------
    def refresh_choices(self) -> None:
        """Models, sessions and human annotators of the project (kept selections survive)."""
        with self.ws.project.store.transaction() as tx:
            models = tx.models.list()
            sessions = tx.sessions.list()
            humans = [a for a in tx.annotators.list() if a.kind != "model"]  # people and their gold standard
        keep_model, keep_who = self.model.currentData(), self.annotator.currentText()
        checked = set(self.chosen_sessions()) or ({self.ws.session.id} if self.ws.session else set())
        self.model.clear()
        for m in models:
            self.model.addItem(f"{m.name} {m.version}", m.id)
        self.model.setCurrentIndex(max(0, self.model.findData(keep_model)))
        self.sessions.clear()
        for s in sessions:
            item = QListWidgetItem(s.name)
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if s.id in checked else Qt.CheckState.Unchecked)
            self.sessions.addItem(item)
        self.annotator.clear()
        names = [a.name for a in humans]
        self.annotator.addItems(names)
        default = keep_who if keep_who in names else "gold" if "gold" in names else ""
        if default:
            self.annotator.setCurrentText(default)

    def chosen_sessions(self) -> list[int]:
        return [self.sessions.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.sessions.count())
                if self.sessions.item(i).checkState() == Qt.CheckState.Checked]

    # -- running ----------------------------------------------------------------------------------------
    @guarded("Inspect model")
    def inspect(self) -> None:
        model_id = self.model.currentData()
        if model_id is None:
            self.metrics.setText("No registered model to inspect.")
            return
        self.metrics.setText("Computing…")
        self.metrics.repaint()
        self.inspection = inspect_model(self.ws.project, int(model_id), annotator=self.annotator.currentText(),
                                        sessions=self.chosen_sessions())
        self.span_index = -1
        self.spans.clear()
        for d in self.inspection.disagreements:
            self.spans.addItem(f"{d.code} {d.start_us / 1e6:7.2f}–{d.end_us / 1e6:.2f} s  human {d.true} · "
                               f"model {d.predicted}  (p={d.mean_p_true:.2f}, {d.n_frames} fr)")
        self._show()

    @property
    def report(self) -> LevelReport | None:
        if self.inspection is None:
            return None
        return getattr(self.inspection, self.level.currentText())

    def _show(self) -> None:
        ins = self.inspection
        if ins is None:
            return
        notes = f"\n{'; '.join(ins.notes)}" if ins.notes else ""
        self.metrics.setText(f"frames: {_fmt(ins.frame.metrics)}\nutterances: {_fmt(ins.utterance.metrics)}{notes}")
        report = self.report
        confusion = report.confusion
        classes = list(ins.classes)
        self.matrix.clear()
        self.matrix.setRowCount(len(classes))
        self.matrix.setColumnCount(len(classes))
        self.matrix.setVerticalHeaderLabels([f"{c} (human)" for c in classes])
        self.matrix.setHorizontalHeaderLabels(classes)
        for i in range(len(classes)):
            for j in range(len(classes)):
                item = QTableWidgetItem(str(int(confusion[i, j])))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.matrix.setItem(i, j, item)
        self.units.clear()

    def _cell(self, row: int, column: int) -> None:
        report = self.report
        if report is None:
            return
        self.units.clear()
        for unit in report.cell(row, column):
            name = unit.name or f"frame {unit.index}"
            item = QListWidgetItem(f"{name}  {unit.start_us / 1e6:.2f} s  model {unit.predicted} "
                                   f"{unit.confidence:.0%} · human's class {unit.p_true:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, (unit.session_id, unit.start_us))
            self.units.addItem(item)

    def _go(self, item: QListWidgetItem) -> None:
        session_id, t_us = item.data(Qt.ItemDataRole.UserRole)
        self.jump(int(session_id), int(t_us))

    # -- stepping ----------------------------------------------------------------------------------------
    def step(self, direction: int) -> None:
        """Jump to the next (+1) or previous (-1) disagreement span in rank order."""
        spans = self.inspection.disagreements if self.inspection else []
        if spans:
            self.step_to((self.span_index + direction) % len(spans))

    def step_to(self, index: int) -> None:
        span = self.inspection.disagreements[index]
        self.span_index = index
        self.spans.setCurrentRow(index)
        self.jump(span.session_id, span.start_us)
