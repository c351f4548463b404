"""The prediction inspector: how a model agrees with an annotator, and a way to walk to where it does not.

Pick a model, sessions and an annotator; the dock shows WA/UA/macro-F1 at frame and utterance level and the
confusion matrix (rows: the annotator, columns: the model). Click a cell to list its frames or utterances,
click one to jump the clock there; the disagreement spans, worst first, step with G / Shift+G. All numbers
come from ``core.inference.inspect``; this widget only lays them out and asks to seek.

The matrix asks for the height of all its rows (up to ``MATRIX_ROWS_SHOWN``) and its columns share the width,
so it is read whole even in a short dock; the cell's units and the disagreement spans share one tabbed list
below it (clicking a cell shows its units, G shows the spans).

The report is computed off the GUI thread (``BackgroundCall``): predicting the frames a session still lacks
and counting over every chosen session takes seconds to minutes, and the window must keep playing and
repainting meanwhile. A busy bar shows while it runs; the result lands through a queued signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import reporter
from dyadlab.app.live.background import BackgroundCall
from dyadlab.app.workspace import Workspace
from dyadlab.core.inference.inspect import Inspection, LevelReport, inspect_model

Jump = Callable[[int, int], None]  # (session id, t µs): open that session if needed and seek
LEVELS = ("frame", "utterance")
MATRIX_ROWS_SHOWN = 10  # more classes than this scroll
LIST_MIN_ROWS = 3  # the tabbed list under the matrix shows at least this many lines


def _fmt(metrics: dict | None) -> str:
    if not metrics:
        return "nothing evaluated"
    return f"WA {metrics['wa']:.3f} · UA {metrics['ua']:.3f} · F1 {metrics['macro_f1']:.3f}"


class InspectorPanel(QWidget):
    inspected = Signal()  # a report was computed and is shown (or its computation failed)

    def __init__(self, ws: Workspace, jump: Jump) -> None:
        super().__init__()
        self.ws, self.jump = ws, jump
        self.background = BackgroundCall("inspector", self)
        self.background.done.connect(self._inspected)
        self.background.failed.connect(self._failed)
        self.background.busy_changed.connect(self._busy)
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
        self.run = QPushButton("Inspect")
        self.run.setObjectName("InspectorRun")
        self.run.clicked.connect(self.inspect)
        who = QHBoxLayout()  # one line for annotator, level and the button: the matrix needs the height
        who.addWidget(self.annotator, 1)
        who.addWidget(QLabel("Level"))
        who.addWidget(self.level)
        who.addWidget(self.run)
        form.addRow("Model", self.model)
        form.addRow("Sessions", self.sessions)
        form.addRow("Annotator", who)
        self.metrics = QLabel("Choose a model and press Inspect (missing predictions are computed first).")
        self.metrics.setObjectName("InspectorMetrics")
        self.metrics.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setObjectName("InspectorBusy")
        self.busy.setRange(0, 0)  # indeterminate: the core reports no progress per frame here
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        self.caption = QLabel()
        self.caption.setObjectName("InspectorCaption")
        self.matrix = QTableWidget()
        self.matrix.setObjectName("InspectorMatrix")
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # no sideways scroll
        self.matrix.horizontalHeader().setMinimumSectionSize(24)
        self.matrix.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)  # "surpr…", not "urprise"
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.matrix.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.matrix.cellClicked.connect(self._cell)
        self._fit_matrix()
        self.units = QListWidget()
        self.units.setObjectName("InspectorUnits")
        self.units.itemClicked.connect(self._go)
        self.spans = QListWidget()
        self.spans.setObjectName("InspectorSpans")
        self.spans.itemClicked.connect(lambda item: self.step_to(self.spans.row(item)))
        self.lists = QTabWidget()
        self.lists.setObjectName("InspectorLists")
        self.lists.addTab(self.units, "Units in the clicked cell")
        self.lists.addTab(self.spans, "Disagreements (G)")
        self.lists.setTabToolTip(1, "Disagreement spans, worst first: G steps to the next, Shift+G back")
        line = self.units.fontMetrics().lineSpacing()
        self.lists.setMinimumHeight(self.lists.tabBar().sizeHint().height() + LIST_MIN_ROWS * line + 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.metrics)
        layout.addWidget(self.caption)
        layout.addWidget(self.matrix)
        layout.addWidget(self.lists, 1)
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
    def inspect(self) -> None:
        """Start computing the report off the GUI thread; ``inspected`` fires when it is shown."""
        model_id = self.model.currentData()
        if model_id is None:
            self.metrics.setText("No registered model to inspect.")
            return
        self.metrics.setText("Computing… (missing predictions are computed first)")
        project, annotator, sessions = self.ws.project, self.annotator.currentText(), self.chosen_sessions()
        self.background.start(lambda: inspect_model(project, int(model_id), annotator=annotator,
                                                    sessions=sessions))

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.run.setEnabled(not on)

    def _failed(self, exc: Any) -> None:
        self.metrics.setText(f"Inspection failed: {exc}")
        reporter.report(exc, "Inspect model")
        self.inspected.emit()

    def _inspected(self, inspection: Inspection) -> None:
        self.inspection = inspection
        self.span_index = -1
        self.spans.clear()
        for d in inspection.disagreements:
            self.spans.addItem(f"{d.code} {d.start_us / 1e6:7.2f}–{d.end_us / 1e6:.2f} s  human {d.true} · "
                               f"model {d.predicted}  (p={d.mean_p_true:.2f}, {d.n_frames} fr)")
        self._show()
        self.inspected.emit()

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
        self.matrix.setVerticalHeaderLabels(classes)
        for j, name in enumerate(classes):  # a narrow column elides its class: the tooltip has it whole
            header = QTableWidgetItem(name)
            header.setToolTip(f"the model said {name}")
            self.matrix.setHorizontalHeaderItem(j, header)
        self.caption.setText(f"Rows: {ins.annotator} (human) · columns: the model")
        for i in range(len(classes)):
            for j in range(len(classes)):
                item = QTableWidgetItem(str(int(confusion[i, j])))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.matrix.setItem(i, j, item)
        self._fit_matrix()
        self.units.clear()

    def _fit_matrix(self) -> None:
        """Exactly the height of the header and the rows (at most ``MATRIX_ROWS_SHOWN``; at least one): the
        matrix is what the user came for, so the lists below give way to it, not the other way round."""
        rows = min(max(self.matrix.rowCount(), 1), MATRIX_ROWS_SHOWN)
        header = self.matrix.horizontalHeader().sizeHint().height()
        frame = 2 * self.matrix.frameWidth()
        self.matrix.setFixedHeight(header + rows * self.matrix.verticalHeader().defaultSectionSize() + frame)

    def _cell(self, row: int, column: int) -> None:
        report = self.report
        if report is None:
            return
        self.units.clear()
        self.lists.setCurrentWidget(self.units)
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
        self.lists.setCurrentWidget(self.spans)
        self.spans.setCurrentRow(index)
        self.jump(span.session_id, span.start_us)
