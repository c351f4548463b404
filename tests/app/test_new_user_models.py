"""Models ▸ Add… with a file that is no checkpoint (a download gone wrong, the wrong file picked): the message
names the file and says it is not a readable checkpoint, and nothing is registered. It passed on PyTorch's own
advice to load the file again with ``weights_only=False`` — that is, to run whatever code a foreign file holds
(found by the new-user walkthrough)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from dyadlab.app.errors import reporter

pytestmark = pytest.mark.gui


def test_adding_a_file_that_is_no_checkpoint_says_so_without_torchs_advice(drive, qtbot, monkeypatch, tmp_path, db):
    bad = tmp_path / "emotion_model.pt"
    bad.write_bytes(b"<html>404 Not Found</html>" * 20)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(bad), ""))
    dock = drive.window.docks["Models"]
    dock.show()
    dock.raise_()
    panel = dock.widget()
    before = db("SELECT count(*) FROM models")
    qtbot.mouseClick(panel.findChild(QPushButton, "modelAdd"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(reporter.history), timeout=5000)
    message = reporter.history[-1]
    assert str(bad) in message and "not a readable checkpoint" in message
    assert "weights_only" not in message
    assert db("SELECT count(*) FROM models") == before
