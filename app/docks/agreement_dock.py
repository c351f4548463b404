"""Agreement panel: how well annotators agree on a tier, pair by pair, and where they disagree.

Everything it shows comes from ``core.agreement_table.agreement_table`` — the report of ``dyadlab
agreement`` in one scope, the per-unit labels behind it and a pair's confusion table — so the GUI and the
CLI can never disagree and no rule lives here: the panel takes the choices and draws the result. It shows
a pair × pair matrix (Cohen's kappa, or Lin's CCC for dimensional tiers, where recorded traces count like
segment scores) and, for a chosen pair, the confusion table of their per-unit labels. "Merge gold…"
previews and applies ``core.gold.merge_gold`` through ``GoldMergeDialog``, committing through
``Workspace.push``.

The panel needs only the workspace (``AgreementPanel(ws)``), so a dock table can build it from a context.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded, reporter
from dyadlab.app.workspace import Workspace

if TYPE_CHECKING:
    from dyadlab.core.agreement import Unit
    from dyadlab.core.agreement_table import AgreementTable
    from dyadlab.core.gold import GoldReport

REFRESH_DELAY_MS = 500  # edits come in bursts (drags, ratings): recompute once they settle


def _fmt(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{round(x, 3) + 0.0:.3f}"  # + 0.0: no "-0.000"


def _item(text: str, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def _checked_list(name: str) -> QListWidget:
    box = QListWidget()
    box.setObjectName(name)
    box.setMaximumHeight(90)
    return box


def _fill_checks(box: QListWidget, names: Sequence[str], checked: set[str]) -> None:
    box.clear()
    for name in names:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
        box.addItem(item)


def _checks(box: QListWidget) -> list[str]:
    return [box.item(i).text() for i in range(box.count()) if box.item(i).checkState() == Qt.CheckState.Checked]


class AgreementPanel(QWidget):
    """Choices (tier, unit, sessions, annotators), the pair matrix, the pair's confusion table, Merge gold…"""

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.result: AgreementTable | None = None
        self._stale = False  # edits came while hidden: refresh when shown
        self.dialog: QWidget | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.tier = QComboBox()
        self.tier.setObjectName("AgreementTier")
        self.unit = QComboBox()
        self.unit.setObjectName("AgreementUnit")
        self.unit.addItem("frames", "frames")
        self.unit.addItem("utterances", "utterances")
        self.step = QDoubleSpinBox()
        self.step.setObjectName("AgreementStep")
        self.step.setRange(1.0, 10_000.0)
        self.step.setValue(40.0)
        self.step.setSuffix(" ms")
        self.step.setToolTip("frame step: labels, scores and recorded traces are compared at the centre of each frame")
        units = QHBoxLayout()
        units.addWidget(self.unit)
        units.addWidget(self.step)
        self.sessions = _checked_list("AgreementSessions")
        self.annotators = _checked_list("AgreementAnnotators")
        form.addRow("Tier", self.tier)
        form.addRow("Unit", units)
        form.addRow("Sessions", self.sessions)
        form.addRow("Annotators", self.annotators)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.compute_button = QPushButton("Compute")
        self.merge_button = QPushButton("Merge gold…")
        self.merge_button.setObjectName("MergeGold")
        self.merge_button.setToolTip("merge the checked annotators into a gold annotator (preview first)")
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.merge_button)
        layout.addLayout(buttons)
        self.overall = QLabel()
        self.overall.setObjectName("AgreementOverall")
        self.overall.setWordWrap(True)
        layout.addWidget(self.overall)
        self.matrix = QTableWidget()
        self.matrix.setObjectName("AgreementMatrix")
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.matrix, 1)
        self.pair_label = QLabel("Select a pair in the matrix.")
        self.pair_label.setObjectName("AgreementPair")
        self.pair_label.setWordWrap(True)
        layout.addWidget(self.pair_label)
        self.confusion = QTableWidget()
        self.confusion.setObjectName("AgreementConfusion")
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.confusion, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.tier.activated.connect(lambda _i: self._tier_chosen())
        self.unit.currentIndexChanged.connect(lambda _i: self.step.setEnabled(self.unit.currentData() == "frames"))
        self.compute_button.clicked.connect(self.compute)
        self.merge_button.clicked.connect(self.open_merge)
        self.matrix.currentCellChanged.connect(lambda row, col, _r, _c: self.show_pair(row, col))
        ws.edited.connect(self._schedule)
        ws.session_opened.connect(self.reload_choices)  # tiers may have been added (imports, models)
        self.reload_choices()

    # -- choices -----------------------------------------------------------------------------------

    def reload_choices(self) -> None:
        """Tier names and sessions of the project; keeps what was chosen when it still exists."""
        with self.ws.project.store.transaction() as tx:
            sessions = tx.sessions.list()
            names = tx.tiers.names(kinds=("categorical", "dimensional"))
        keep = self.tier.currentText() or ("emotion" if "emotion" in names else "")
        self.tier.clear()
        self.tier.addItems(names)
        self.tier.setCurrentIndex(max(0, self.tier.findText(keep)))
        chosen = set(_checks(self.sessions)) if self.sessions.count() else {s.name for s in sessions}
        _fill_checks(self.sessions, [s.name for s in sessions], chosen)
        self._fill_annotators()

    def _fill_annotators(self) -> None:
        """Annotators with labels (or a trace) on the tier, keeping the ticks; gold-kind ones (merge results)
        start unchecked, anyone else appearing (a first trace, a new annotator) starts checked."""
        from dyadlab.core.agreement_table import raters

        tier = self.tier.currentText()
        kinds = raters(self.ws.project, tier) if tier else {}
        listed = {self.annotators.item(i).text() for i in range(self.annotators.count())}
        default = {a for a, kind in kinds.items() if kind != "gold"}
        before = set(_checks(self.annotators))
        chosen = (before & set(kinds)) | (default - listed) if before else default
        _fill_checks(self.annotators, sorted(kinds), chosen)

    def _tier_chosen(self) -> None:
        self.annotators.clear()  # another tier: its own default annotators
        self._fill_annotators()
        self.compute()

    def set_choices(self, *, tier: str | None = None, unit: Unit | None = None, step_ms: float | None = None,
                    sessions: Sequence[str] | None = None, annotators: Sequence[str] | None = None) -> None:
        """Set the choices programmatically (scripts, tests) as a user would, then compute."""
        if tier is not None:
            self.tier.setCurrentIndex(self.tier.findText(tier))
            self.annotators.clear()
            self._fill_annotators()
        if unit is not None:
            self.unit.setCurrentIndex(self.unit.findData(unit))
        if step_ms is not None:
            self.step.setValue(step_ms)
        for box, names in ((self.sessions, sessions), (self.annotators, annotators)):
            if names is not None:
                for i in range(box.count()):
                    item = box.item(i)
                    item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)
        self.compute()

    # -- computing -----------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self.isVisible():
            self._timer.start()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    @guarded("Agreement")
    def refresh(self) -> None:
        """After edits: who rated the tier may have changed (a first trace, a merge); then recompute."""
        self._stale = False
        self._fill_annotators()
        self.compute()

    @guarded("Agreement")
    def compute(self) -> None:
        """Recompute the report for the current choices and redraw the matrix."""
        self._timer.stop()
        tier, sessions, annotators = self.tier.currentText(), _checks(self.sessions), _checks(self.annotators)
        self.result = None
        if not tier or not sessions or len(annotators) < 2:
            self._show_matrix()
            self.overall.setText("Choose a tier, at least one session and at least two annotators.")
            return
        from dyadlab.core.agreement_table import agreement_table

        self.result = agreement_table(self.ws.project, tier=tier, unit=self.unit.currentData(),
                                      step_ms=self.step.value(), sessions=sessions, annotators=annotators)
        self._show_matrix()

    def _show_matrix(self) -> None:
        result = self.result
        names = result.annotators if result else []
        self.matrix.blockSignals(True)
        self.matrix.clear()
        self.matrix.setRowCount(len(names))
        self.matrix.setColumnCount(len(names))
        self.matrix.setHorizontalHeaderLabels(names)
        self.matrix.setVerticalHeaderLabels(names)
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                pair = result.pair(a, b) if i != j else None
                if pair is None:
                    self.matrix.setItem(i, j, _item("—"))
                    continue
                value = pair.ccc if result.numeric else pair.kappa
                self.matrix.setItem(i, j, _item(_fmt(value), f"{a} × {b}: {pair.n_units} units labelled by both"))
        self.matrix.blockSignals(False)
        self.confusion.clear()
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)
        self.pair_label.setText("Select a pair in the matrix." if names else "")
        self.confusion.setVisible(result is None or not result.numeric)  # scores have no confusion table
        if result is None:
            return
        group, what = result.group, "CCC" if result.numeric else "Cohen's κ"
        text = f"{what} per pair · {result.scope} · {result.n_units} units"
        if group is not None and result.numeric:
            text += (f"\nKrippendorff's α (interval) {_fmt(group.alpha)} · ICC(2,1) {_fmt(group.icc2_1)}"
                     f" · ICC(3,1) {_fmt(group.icc3_1)}")
        elif group is not None:
            text += f"\nKrippendorff's α (nominal) {_fmt(group.alpha)} · Fleiss' κ {_fmt(group.fleiss_kappa)}"
        self.overall.setText(text)

    def show_pair(self, row: int, col: int) -> None:
        """The chosen pair's statistics and, for categorical tiers, their confusion table (all units)."""
        result = self.result
        if result is None or not (0 <= row < len(result.annotators) and 0 <= col < len(result.annotators)) \
                or row == col:
            return
        a, b = result.annotators[row], result.annotators[col]
        pair = result.pair(a, b)
        if pair is None:
            return
        if result.numeric:
            self.pair_label.setText(f"{a} × {b}: CCC {_fmt(pair.ccc)} · ICC(2,1) {_fmt(pair.icc)} · "
                                    f"α {_fmt(pair.alpha)} · {pair.n_units} of {result.n_units} units rated by both")
            self.confusion.setRowCount(0)
            self.confusion.setColumnCount(0)
            return
        self.pair_label.setText(f"{a} (rows) × {b} (columns): κ {_fmt(pair.kappa)} · α {_fmt(pair.alpha)} · "
                                f"{pair.n_units} of {result.n_units} units labelled by both")
        table = result.confusion(a, b)
        self.confusion.clear()
        self.confusion.setRowCount(len(table.rows))
        self.confusion.setColumnCount(len(table.columns))
        self.confusion.setVerticalHeaderLabels(table.rows)
        self.confusion.setHorizontalHeaderLabels(table.columns)
        for i, r in enumerate(table.rows):
            for j, c in enumerate(table.columns):
                self.confusion.setItem(i, j, _item(str(table.count(r, c))))

    def select_pair(self, a: str, b: str) -> None:
        """Select the matrix cell of ``a`` (row) × ``b`` (column)."""
        names = self.result.annotators if self.result else []
        self.matrix.setCurrentCell(names.index(a), names.index(b))

    def confusion_counts(self) -> dict[tuple[str, str], int]:
        """The confusion table as shown: (row label, column label) → count."""
        return {(self.confusion.verticalHeaderItem(i).text(), self.confusion.horizontalHeaderItem(j).text()):
                int(self.confusion.item(i, j).text())
                for i in range(self.confusion.rowCount()) for j in range(self.confusion.columnCount())}

    # -- gold ------------------------------------------------------------------------------------------

    @guarded("Merge gold")
    def open_merge(self) -> None:
        """Open the merge dialog (dry-run preview first) for the checked annotators."""
        from dyadlab.app.dialogs.gold_dialog import GoldMergeDialog

        annotators, sessions = _checks(self.annotators), _checks(self.sessions)
        if not annotators or not sessions:
            reporter.notice("check the annotators (and sessions) to merge first")
            return
        dialog = GoldMergeDialog(self.ws.project, tier=self.tier.currentText(), unit=self.unit.currentData(),
                                 step_ms=self.step.value(), annotators=annotators,
                                 sessions=None if len(sessions) == self.sessions.count() else sessions,
                                 commit=self.ws.push, parent=self)
        dialog.accepted.connect(lambda: self._merged(dialog.result))
        self.dialog = dialog
        dialog.open()

    def _merged(self, report: GoldReport | None) -> None:
        """The gold tiers changed (maybe new ones): show them on the timeline and recompute."""
        if report is None:
            return
        self.ws.reload_tiers()
        self._fill_annotators()
        self.compute()
        reporter.notice(f"gold {report.gold!r}: {report.segments_written} segments written"
                        + (f", {len(report.ties)} tie(s)" if report.ties else ""))

