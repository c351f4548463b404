"""The Jobs dock: every background job of the project with its state, progress and ETA; for the selected job a
loss / validation-UA curve, the log tail, and Cancel / Retry / Open results.

Why a timer and no thread: ``JobRunner.poll`` only reads small files and a few rows (the jobs run in their own
processes), so calling it from the GUI thread a few times a second never blocks the UI, and every ``JobRunner``
method stays on one thread as the runner requires. The dock owns that timer; the runner is the main window's
(``MainWindow.jobs``) and outlives nothing: jobs keep running when the window closes and the next window's runner
reattaches to them. ``job_progress`` turns a job's events into the numbers shown, without widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded
from dyadlab.core.jobs.status import FINAL_STATES, read_events

if TYPE_CHECKING:
    from dyadlab.core.jobs import JobRunner
    from dyadlab.core.model import Job

POLL_MS = 300
COLUMNS = ("id", "kind", "state", "progress", "ETA", "message")
CURVE_METRIC = "val_ua"
PLOT_MIN_HEIGHT = 120
TABLE_MIN_ROWS = 4  # the table never shrinks below this many rows (it showed one and a half in a short dock)


@dataclass(frozen=True)
class JobProgress:
    """What a job's events say so far: fraction done (0..1, None before the first epoch), ETA, curves."""

    fraction: float | None
    eta_s: float | None
    epochs: list[int]  # x of the curves: epochs counted over all folds and stages
    loss: list[float]
    metric: list[float | None]
    registered: dict[str, Any] | None  # the ``registered`` event of a `dyadlab train` run


def job_progress(events: list[dict[str, Any]]) -> JobProgress:
    """Progress of a job from its JSON-lines events: a training job's (``trainer/events.py`` documents them),
    or ``{"event": "progress", "done", "total"}`` lines of other jobs (``dyadlab proxy``)."""
    folds = next((len(e.get("folds") or []) for e in events if e.get("event") == "start"), 0) or 1
    fraction, eta = None, None
    fold_names: list[str] = []
    xs: list[int] = []
    loss: list[float] = []
    metric: list[float | None] = []
    for e in events:
        kind = e.get("event")
        if kind == "fold_start" and e.get("fold") not in fold_names:
            fold_names.append(e.get("fold"))
        elif kind in ("epoch", "step") and e.get("epochs"):
            done = max(len(fold_names) - 1, 0) + e.get("epoch", 0) / e["epochs"]
            if kind == "step":
                done -= 1 / e["epochs"]  # the step's epoch is not finished yet
            fraction = min(max(done / folds, 0.0), 1.0)
            eta = e.get("eta_s", eta)
            if kind == "epoch":
                xs.append(len(xs) + 1)
                loss.append(e.get("loss"))
                metric.append((e.get("metrics") or {}).get(CURVE_METRIC))
        elif kind == "progress" and e.get("total"):  # a generic job (e.g. `dyadlab proxy`): done of total
            fraction = min(max(float(e.get("done", 0)) / float(e["total"]), 0.0), 1.0)
        elif kind == "done":
            fraction, eta = 1.0, 0.0
    registered = next((e for e in events if e.get("event") == "registered"), None)
    return JobProgress(fraction, eta, xs, loss, metric, registered)


def _eta_text(job: Job, progress: JobProgress) -> str:
    if job.state != "running" or progress.eta_s is None:
        return ""
    s = int(progress.eta_s)
    return f"{s // 60}:{s % 60:02d}"


class JobsPanel(QWidget):
    """Table + details of the runner's jobs. ``job_finished(id, state)`` fires once per job that ends."""

    job_finished = Signal(int, str)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("JobsPanel")
        self.runner = runner
        self.table = QTableWidget(0, len(COLUMNS), objectName="jobsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in (0, 2, 4):  # id, state, ETA: as wide as their text
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(header.sizeHint().height() + 2 * self.table.frameWidth()
                                    + TABLE_MIN_ROWS * self.table.verticalHeader().defaultSectionSize()
                                    + self.table.horizontalScrollBar().sizeHint().height())
        self.table.itemSelectionChanged.connect(self._show_selected)
        self._plot: pg.PlotWidget | None = None  # built when a job is first shown: see ``_build_plot``
        self._plot_slot = QWidget(minimumHeight=PLOT_MIN_HEIGHT)  # holds its place in the splitter until then
        self.log = QPlainTextEdit(objectName="jobsLog", readOnly=True)
        self.log.setMaximumBlockCount(400)
        self.cancel_button = QPushButton("Cancel", objectName="jobCancel")
        self.retry_button = QPushButton("Retry", objectName="jobRetry")
        self.open_button = QPushButton("Open results", objectName="jobOpen")
        self.cancel_button.clicked.connect(lambda: self._on_selected(self.runner.cancel))
        self.retry_button.clicked.connect(lambda: self._on_selected(self.runner.retry))
        self.open_button.clicked.connect(lambda: self._on_selected(self.open_results))
        buttons = QHBoxLayout()
        for b in (self.cancel_button, self.retry_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.split = QSplitter(Qt.Orientation.Vertical)  # stacked: the dock is usually tall and narrow
        for part in (self.table, self._plot_slot, self.log):
            self.split.addWidget(part)
        self.split.setCollapsible(0, False)
        for index, stretch in enumerate((3, 2, 1)):  # extra height goes to the table and the curve first
            self.split.setStretchFactor(index, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.split, 1)
        layout.addLayout(buttons)
        self._rows: dict[int, int] = {}  # job id -> table row
        self._bars: dict[int, QProgressBar] = {}
        self._states: dict[int, str] = {}
        self._ended_events: dict[int, list[dict[str, Any]]] = {}  # jobs that ended before this runner
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.tick)
        self.refresh()
        self._update_buttons()
        self.timer.start()

    def _curves(self) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """(loss, val UA) curves of the selected job's plot (built by the first job shown)."""
        if self._plot is None:
            self._build_plot()
        return self.loss_curve, self.metric_curve

    def _build_plot(self) -> None:
        """Build the plot and put it in the panel, in its placeholder's place. Done when a job is first shown,
        not with the panel: a pyqtgraph plot (axes, legend, view box) cost ~40 ms of every project open, and
        most opens never select a job."""
        plot = pg.PlotWidget(objectName="jobsCurve")
        plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        plot.addLegend(offset=(-10, 10))
        plot.setLabel("bottom", "epoch")
        self.loss_curve = plot.plot([], [], pen=pg.mkPen("#e5c07b", width=2), symbol="o", symbolSize=5, name="loss")
        self.metric_curve = plot.plot([], [], pen=pg.mkPen("#61afef", width=2), symbol="t", symbolSize=5,
                                      name="val UA")
        self.split.replaceWidget(self.split.indexOf(self._plot_slot), plot)
        self._plot_slot.deleteLater()
        self._plot = plot

    # -- polling -----------------------------------------------------------------------------------

    @guarded("Background jobs")
    def tick(self) -> None:
        """One runner step, then redraw (the runner starts, follows and finishes jobs here)."""
        self.runner.poll()
        self.refresh()

    def events(self, job_id: int) -> list[dict[str, Any]]:
        """The job's events: the runner's for jobs it follows; for jobs that ended before this window (the
        runner never read them), the events file read once."""
        events = self.runner.events(job_id)
        if events or self._states.get(job_id) not in FINAL_STATES:
            return events
        if job_id not in self._ended_events:
            self._ended_events[job_id] = read_events(self.runner.events_path(job_id))[0]
        return self._ended_events[job_id]

    def stop(self) -> None:
        """Stop polling (the project is closing); the jobs themselves keep running."""
        self.timer.stop()

    def refresh(self) -> None:
        jobs = self.runner.list()
        for job in jobs:
            row = self._rows.get(job.id)
            if row is None:
                row = self._add_row(job)
            before = self._states.get(job.id)
            self._states[job.id] = job.state
            progress = job_progress(self.events(job.id))
            fraction = 1.0 if job.state == "succeeded" else progress.fraction
            bar = self._bars[job.id]
            bar.setRange(0, 1000 if fraction is not None or job.state != "running" else 0)  # 0: busy
            bar.setValue(round(1000 * (fraction or 0.0)))
            self._set(row, 2, job.state)
            self.table.item(row, 2).setToolTip((job.progress.get("message") or job.state).split("\n", 1)[0])
            self._set(row, 4, _eta_text(job, progress))
            self._set(row, 5, (job.progress.get("message") or "").split("\n", 1)[0])
            if job.state in FINAL_STATES and before not in (None, *FINAL_STATES):
                self.job_finished.emit(job.id, job.state)
        self._show_selected()

    def _add_row(self, job: Job) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._rows[job.id] = row
        self._set(row, 0, str(job.id))
        self._set(row, 1, job.kind)
        bar = QProgressBar(textVisible=True)
        bar.setFormat("%p%")
        self.table.setCellWidget(row, 3, bar)
        self._bars[job.id] = bar
        return row

    def _set(self, row: int, column: int, text: str) -> None:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # a long reason is cut by the column: the tooltip has all of it
            self.table.setItem(row, column, item)
        elif item.text() != text:
            item.setText(text)
            item.setToolTip(text)

    # -- the selected job ----------------------------------------------------------------------------

    def selected_job_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return int(self.table.item(rows[0].row(), 0).text())

    def select_job(self, job_id: int) -> None:
        self.table.selectRow(self._rows[job_id])

    def _show_selected(self) -> None:
        job_id = self.selected_job_id()
        self._update_buttons()
        if job_id is None:
            if self._plot is not None:
                self.loss_curve.setData([], [])
                self.metric_curve.setData([], [])
            self.log.setPlainText("")
            return
        progress = job_progress(self.events(job_id))
        loss_curve, metric_curve = self._curves()
        self._plot.setVisible(bool(progress.epochs))  # a job without epochs (analysis, proxies) has no curve
        loss_curve.setData(progress.epochs, [v if v is not None else float("nan") for v in progress.loss])
        metric = [(x, v) for x, v in zip(progress.epochs, progress.metric, strict=True) if v is not None]
        metric_curve.setData([x for x, _ in metric], [v for _, v in metric])
        job = self.runner.get(job_id)
        text = self.runner.log_tail(job_id, 40)
        if job.state == "failed" and job.progress.get("message"):
            text = job.progress["message"]  # the runner put the log tail under the reason
        if text != self.log.toPlainText():
            self.log.setPlainText(text)
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())

    def _update_buttons(self) -> None:
        state = self._states.get(self.selected_job_id() or -1)
        self.cancel_button.setEnabled(state in ("queued", "running"))
        self.retry_button.setEnabled(state in FINAL_STATES)
        self.open_button.setEnabled(state is not None)

    @guarded("Background jobs")
    def _on_selected(self, action: Any) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            action(job_id)
            self.refresh()

    def results_folder(self, job_id: int) -> Path:
        """The registered model's run folder for a finished training, else the job's own folder (log, events)."""
        registered = job_progress(self.events(job_id)).registered
        if registered is not None:
            project = self.runner.project
            with project.store.transaction() as tx:
                record = next((m for m in tx.models.list() if m.id == registered.get("model_id")), None)
            if record is not None and record.config.get("run_dir"):
                return project.media_path(record.config["run_dir"])
        return self.runner.job_dir(job_id)

    def open_results(self, job_id: int) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.results_folder(job_id))))
