"""File ▸ Export ▸ Predictions per frame / per utterance: pick the model in the dialog, name the file, and a
job in the Jobs panel writes it (``dyadlab infer --export FILE --per frame|utterance``).

The project (1 session × 8 s, analysed, a raw-audio CNN registered) is the live GUI tests' ``model_project``
(``tests/app/conftest.py``), built once per run; the tests set ``DYADLAB_BUILTIN_MODELS=0``, so that model is
the only one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtWidgets import QInputDialog, QMenu

from dyadlab.app.dialogs import choosers
from dyadlab.core.inference.export import EXPORT_COLUMNS, UTTERANCE_COLUMNS
from dyadlab.core.jobs.status import FINAL_STATES

from .modal_driver import answer_next_modal

pytestmark = pytest.mark.gui


@pytest.fixture
def demo_source(model_project) -> Path:
    """Overrides the shared fixture: ``window`` opens a copy of the model project."""
    return model_project[0]


def _export_action(window, per: str, suffix: str):
    """The File ▸ Export ▸ "Predictions per … as …" entry, found in the menu bar as the user sees it."""
    menus = [a.menu() for a in window.menuBar().actions() if isinstance(a.menu(), QMenu)]
    (exports,) = [a.menu() for m in menus for a in m.actions()
                  if isinstance(a.menu(), QMenu) and a.menu().objectName() == "file.export"]
    (action,) = [a for a in exports.actions() if a.objectName() == f"file.export.predictions.{per}.{suffix}"]
    assert action.isEnabled() and action.text() == f"Predictions per {per} as {suffix.upper()}…"
    return action


@pytest.mark.parametrize(("per", "suffix", "columns"), [("frame", "csv", EXPORT_COLUMNS),
                                                         ("utterance", "parquet", UTTERANCE_COLUMNS)])
def test_file_export_predictions_writes_the_file_in_a_job(qtbot, window, model_project, monkeypatch, tmp_path,
                                                          per, suffix, columns):
    model_id = model_project[1]
    out = tmp_path / "out" / f"predictions.{suffix}"
    monkeypatch.setattr(choosers, "choose_save_file", lambda *_a, **_k: str(out.with_suffix("")))  # no suffix typed
    seen: list = []

    def pick_model(dialog) -> None:
        assert dialog.comboBoxItems() == [f"{model_id}: audio-cnn"]
        dialog.setTextValue(f"{model_id}: audio-cnn")
        dialog.accept()

    answer_next_modal(pick_model, kind=QInputDialog, seen=seen)
    before = {j.id for j in window.jobs.list()}
    _export_action(window, per, suffix).trigger()
    assert len(seen) == 1
    (job,) = [j for j in window.jobs.list() if j.id not in before]
    qtbot.waitUntil(lambda: window.jobs.get(job.id).state in FINAL_STATES, timeout=120_000)
    assert window.jobs.get(job.id).state == "succeeded", window.jobs.log_tail(job.id, 30)
    table = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert list(table.columns) == columns and len(table) > 0
    assert table["model_id"].eq(model_id).all() and set(table["participant"]) == {"A", "B"}
    if per == "utterance":
        with window.project.store.transaction() as tx:
            spoken = len(tx.utterances.list(tx.sessions.list()[0].id))
        assert len(table) == spoken * 4  # one row per utterance x class
