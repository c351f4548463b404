"""Models ▸ Add… registers a checkpoint and exports it to ONNX (seconds, in a child process) without holding the
window: the dock used to wait for the export on the GUI thread. The row says "exporting…" until it is done,
and a timer of the window keeps ticking meanwhile."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QPushButton

from dyadlab.app.docks.model_exports import EXPORTING, READY
from dyadlab.app.docks.models_dock import COLUMNS, ModelsPanel

pytestmark = pytest.mark.gui


def tiny_checkpoint(path: Path) -> Path:
    """An untrained raw-audio CNN saved as a DyadLab checkpoint (registering only checks that it loads)."""
    from dyadlab.trainer.checkpoint import normalization_metadata, save_checkpoint, sequence_spec
    from dyadlab.trainer.config import ModelConfig
    from dyadlab.trainer.models import build_model

    config = ModelConfig(kind="raw_audio_cnn", input="audio_raw")
    model = build_model(config, 4, {"audio_raw": (16000,)})
    meta = {"name": "tiny", "kind": "emotion-classifier", "model": dataclasses.asdict(config),
            "classes": ["neutral", "happy", "sad", "angry"], "scheme": "emotion-4class",
            "inputs": {"audio_raw": {"kind": "waveform", "shape": [16000], "dtype": "float32"}},
            "sequence": sequence_spec(config), "normalization": normalization_metadata(model), "metrics": {}}
    return save_checkpoint(path, model.eval(), meta)


def test_adding_a_model_exports_it_in_the_background_while_the_window_runs(qtbot, project, monkeypatch, tmp_path):
    from dyadlab.core.inference.onnx_runtime import has_metadata, onnx_path

    monkeypatch.setenv("DYADLAB_EXPORT_ON_REGISTER", "1")  # the suite turns it off; this test is about it
    checkpoint = tiny_checkpoint(tmp_path / "tiny.pt")
    panel = ModelsPanel(project)
    qtbot.addWidget(panel)
    panel.show()
    ticks: list[float] = []
    timer = QTimer(panel)
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(checkpoint), ""))

    qtbot.mouseClick(panel.findChild(QPushButton, "modelAdd"), Qt.MouseButton.LeftButton)

    (added,) = panel.selected()
    row, column = panel.records.index(added), COLUMNS.index("ONNX")
    assert panel.table.item(row, column).text() == EXPORTING  # registered; the export still running
    assert not onnx_path(checkpoint).exists()
    before = len(ticks)
    qtbot.waitUntil(lambda: panel.table.item(panel.records.index(added), column).text() != EXPORTING,
                    timeout=240_000)
    during = len(ticks) - before
    assert panel.table.item(panel.records.index(added), column).text() == READY
    assert has_metadata(onnx_path(checkpoint))
    assert during >= 10, f"the timer ticked {during} times while the model was exported"  # the loop ran
