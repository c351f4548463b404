"""ONNX exports the Models dock started, followed without blocking the window.

Registering a model exports it to ONNX (so a DyadLab without PyTorch, the desktop bundle, can run it). The
export runs in a child process (``core.inference.onnx_runtime.OnnxExport``) and takes seconds; the dock used
to wait for it on the GUI thread (``register_checkpoint`` → ``export_for_registry``), freezing the window.
Now the dock registers without waiting and hands the export here: a timer asks each running export whether
it is ``done`` (a non-blocking ``poll`` of the child process) and reports the model's state — "exporting…",
"ready" or why it failed — through ``changed``, which the dock shows in the model's row. No thread touches
the project's database: the child process only reads the checkpoint and writes the ``.onnx`` file beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

EXPORTING, READY = "exporting…", "ready"
POLL_MS = 150
log = logging.getLogger(__name__)


class ModelExports(QObject):
    """model id -> the state of the ONNX export started for it here (``state``); ``changed(model_id)``."""

    changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[int, object] = {}  # model id -> OnnxExport
        self._states: dict[int, str] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def state(self, model_id: int) -> str:
        """"exporting…", "ready", "failed: …", or "" (no export started here)."""
        return self._states.get(model_id, "")

    @property
    def running(self) -> bool:
        return bool(self._running)

    def start(self, model_id: int, checkpoint: Path) -> None:
        """Export ``checkpoint`` (model ``model_id``) in the background, unless registering exports nothing
        (``DYADLAB_EXPORT_ON_REGISTER=0``) or a current export exists (then it is ``ready`` at once)."""
        from dyadlab.core.inference.onnx_runtime import OnnxExport, export_on_register

        if not export_on_register():
            return
        try:
            export = OnnxExport(Path(checkpoint))
        except OSError as exc:  # the checkpoint cannot be read for its hash
            self._finish(model_id, f"failed: {exc.strerror or exc}")
            return
        self._running[model_id] = export
        self._states[model_id] = EXPORTING
        self.changed.emit(model_id)
        self._poll()
        if self._running:
            self._timer.start()

    def _poll(self) -> None:
        for model_id, export in list(self._running.items()):
            if export.done:  # type: ignore[attr-defined]
                del self._running[model_id]
                error = export.error  # type: ignore[attr-defined]
                if error:
                    log.warning("model #%s was registered without an ONNX export: %s", model_id, error)
                self._finish(model_id, f"failed: {error}" if error else READY)
        if not self._running:
            self._timer.stop()

    def _finish(self, model_id: int, state: str) -> None:
        self._states[model_id] = state
        self.changed.emit(model_id)
