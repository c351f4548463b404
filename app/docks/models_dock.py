"""The Models dock: the project's model registry (``ModelRepository``) with test scores; rename, delete (with
the model's files, after asking) and compare two models' fold tables side by side.

Why in the GUI besides ``dyadlab models``: after a training job ends, the user wants to see at once how the new
model scores against the others and drop failed experiments. The checks, and what deleting removes (prediction
series and files inside the project) or keeps (utterance prediction tiers), are ``core.inference.registry``'s,
shared with ``dyadlab models``.

Adding a model registers it at once and exports it to ONNX in the background (``model_exports``): its row says
"exporting…" in the ONNX column until the child process is done, and the window stays responsive meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.docks.model_exports import ModelExports
from dyadlab.app.errors import guarded
from dyadlab.core.errors import DyadLabError
from dyadlab.core.inference.registry import add_model, delete_model, plan_deletion, rename_model, scored_on

if TYPE_CHECKING:
    from dyadlab.core.model import ModelRecord
    from dyadlab.core.project import Project

COLUMNS = ("id", "name", "version", "kind", "UA %", "WA %", "UA utt. %", "scored on", "ONNX")
FOLD_COLUMNS = ("fold", "level", "n", "wa", "ua", "macro_f1")


def summary_percent(record: ModelRecord, level: str, key: str) -> str:
    """Mean test ``key`` (ua, wa, ...) at ``level`` over the model's folds, in percent, or '-'."""
    value = record.metrics.get("summary", {}).get(level, {}).get(key, {}).get("mean")
    return "-" if value is None else f"{100 * value:.1f}"


def _cell(value: Any) -> str:
    return f"{100 * value:.1f}" if isinstance(value, float) else str(value)


def fold_table(record: ModelRecord, parent: QWidget | None = None) -> QTableWidget:
    """A read-only table of the model's fold rows (``metrics["folds"]``), metrics in percent."""
    rows = record.metrics.get("folds", [])
    table = QTableWidget(len(rows), len(FOLD_COLUMNS), parent)
    table.setHorizontalHeaderLabels(["fold", "level", "n", "WA %", "UA %", "F1 %"])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    for r, row in enumerate(rows):
        for c, key in enumerate(FOLD_COLUMNS):
            table.setItem(r, c, QTableWidgetItem(_cell(row.get(key, ""))))
    return table


class CompareDialog(QDialog):
    """Two models' fold tables side by side (non-modal)."""

    def __init__(self, a: ModelRecord, b: ModelRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CompareModels")
        self.setWindowTitle(f"Compare {a.name} v{a.version} and {b.name} v{b.version}")
        layout = QHBoxLayout(self)
        self.tables: list[QTableWidget] = []
        for record in (a, b):
            column = QVBoxLayout()
            column.addWidget(QLabel(f"<b>#{record.id} {record.name}</b> v{record.version} · {record.kind}"))
            table = fold_table(record, self)
            column.addWidget(table)
            self.tables.append(table)
            layout.addLayout(column)
        self.resize(900, 320)


class ModelsPanel(QWidget):
    """The registry as a table; ``refresh()`` re-reads it (the Jobs dock calls it when a training ends).
    ``changed`` fires after this panel added, renamed or deleted a model (other lists of models follow)."""

    changed = Signal()

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ModelsPanel")
        self.project = project
        self.records: list[ModelRecord] = []
        self.compare_dialog: CompareDialog | None = None
        self.exports = ModelExports(self)  # ONNX exports of models added here, followed without waiting
        self.exports.changed.connect(lambda _model_id: self.refresh())
        self.table = QTableWidget(0, len(COLUMNS), objectName="modelsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QHBoxLayout()
        for text, name, slot in (("Add…", "modelAdd", self._ask_add),
                                 ("Rename…", "modelRename", self._ask_rename),
                                 ("Delete…", "modelDelete", self._ask_delete),
                                 ("Compare", "modelCompare", self.compare_selected),
                                 ("Refresh", "modelRefresh", self.refresh)):
            button = QPushButton(text, objectName=name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        with self.project.store.transaction() as tx:
            self.records = tx.models.list()
        self.table.setRowCount(len(self.records))
        for r, record in enumerate(self.records):
            cells = (str(record.id), record.name, record.version, record.kind,
                     summary_percent(record, "frame", "ua"), summary_percent(record, "frame", "wa"),
                     summary_percent(record, "utterance", "ua"), scored_on(record), self.exports.state(record.id))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def selected(self) -> list[ModelRecord]:
        return [self.records[i.row()] for i in self.table.selectionModel().selectedRows()]

    def select(self, *model_ids: int) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r, record in enumerate(self.records):
            if record.id in model_ids:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    # -- actions -------------------------------------------------------------------------------------

    def add(self, path: str | Path) -> ModelRecord:
        """Register a checkpoint file (it must load here: scheme, inputs, weights) and select it; its ONNX
        export runs in the background (the row says "exporting…" until it is done)."""
        record = add_model(self.project, path, export=False)
        self.exports.start(record.id, Path(path))
        self._changed()
        self.select(record.id)
        return record

    def rename(self, model_id: int, name: str) -> None:
        rename_model(self.project, model_id, name)
        self._changed()

    def delete(self, model_id: int) -> None:
        """Remove the registry entry (its prediction series cascade) and its files inside the project."""
        delete_model(self.project, plan_deletion(self.project, model_id))
        self._changed()

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    @guarded("Add model")
    def _ask_add(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Add a trained model", str(self.project.root),
                                                    "DyadLab checkpoints (*.pt);;All files (*)")
        if path:
            self.add(path)

    @guarded("Rename model")
    def _ask_rename(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            raise DyadLabError("select one model to rename")
        name, ok = QInputDialog.getText(self, "Rename model", "New name:", text=chosen[0].name)
        if ok:
            self.rename(chosen[0].id, name)

    @guarded("Delete model")
    def _ask_delete(self) -> None:
        try:
            for record in self.selected():
                plan = plan_deletion(self.project, record.id)
                answer = QMessageBox.question(self, "Delete model", f"Delete {plan.describe()}?")
                if answer == QMessageBox.StandardButton.Yes:
                    delete_model(self.project, plan)
        finally:
            self._changed()  # also after a failure part-way: show what is left

    @guarded("Compare models")
    def compare_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) != 2:
            raise DyadLabError("select two models to compare (Ctrl+click the second)")
        self.compare_dialog = CompareDialog(chosen[0], chosen[1], self)
        self.compare_dialog.open()
