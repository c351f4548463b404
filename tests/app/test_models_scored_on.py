"""One model, one score (issue 21 item 4): the Models panel says what each model's score measures — its own
fold's test part, or, for a model registered before that was recorded, the mean of all folds while the
checkpoint is the first fold's."""

from __future__ import annotations

import pytest

from dyadlab.app.docks.models_dock import COLUMNS, ModelsPanel
from dyadlab.core.project import open_project

pytestmark = pytest.mark.gui


def test_the_models_panel_says_what_each_score_measures(qtbot, demo_project_copy) -> None:
    old_style = {"summary": {"frame": {"ua": {"mean": 0.5, "n_folds": 5}}}}
    with open_project(demo_project_copy) as project:
        with project.store.transaction() as tx:
            tx.models.add("cv-fold", "3-2", "face_cnn", path="m.pt", metrics={"scored_on": "fold 2's test part"})
            tx.models.add("legacy", "1", "face_cnn", path="l.pt", metrics=old_style)
        panel = ModelsPanel(project)
        qtbot.addWidget(panel)
        column = COLUMNS.index("scored on")
        shown = {panel.table.item(r, 1).text(): panel.table.item(r, column).text()
                 for r in range(panel.table.rowCount())}
    assert shown["cv-fold"] == "fold 2's test part"
    assert shown["legacy"] == "mean of 5 fold(s) (checkpoint: the first fold's)"
