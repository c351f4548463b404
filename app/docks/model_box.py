"""A choice of the project's registered models, by id: the box the Proposals and Next-to-label panels run a
model from. One widget so that both list the models alike and keep the user's pick across a refill (a model
trained, renamed or deleted meanwhile)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from dyadlab.core.project import Project


class ModelBox(QComboBox):
    def __init__(self, project: Project, object_name: str) -> None:
        super().__init__()
        self.project = project
        self.setObjectName(object_name)

    @property
    def model_id(self) -> int | None:
        return self.currentData()

    def refill(self, select: int | None = None) -> None:
        """Re-read the registry; keep the current model (or pick ``select``) where it still exists."""
        keep = self.currentData() if select is None else select
        with self.project.store.transaction() as tx:
            models = tx.models.list()
        self.clear()
        for m in models:
            self.addItem(f"{m.name} {m.version}", m.id)
        self.setCurrentIndex(max(0, self.findData(keep)))
