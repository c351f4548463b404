"""The Live panel: pick registered models (several at once), switch live inference on, choose overlays.

Why a dock and not toolbar buttons: the model list grows with the project and shows per-model state (a
disabled model says why in its tooltip). Everything it does goes through ``LiveController``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app import theme
from dyadlab.app.live.live_controller import LiveController
from dyadlab.core.inference.live import LiveResult

NO_MODELS = "No registered models: train one, or `dyadlab models add`."
HOW_TO = "Tick the models to run, then switch live inference on."
WAITING = "Live: waiting for the first result…"
STARTING = "Live: starting the model process (loading the models)…"


class LivePanel(QWidget):
    def __init__(self, controller: LiveController) -> None:
        super().__init__()
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.models = QListWidget()
        self.models.setObjectName("LiveModels")
        self.models.itemChanged.connect(self._picked)
        self.live = QCheckBox("Live inference while playing")
        self.live.setObjectName("LiveToggle")
        self.live.toggled.connect(controller.set_live)
        toggles = QHBoxLayout()
        self.toggles: dict[str, QCheckBox] = {}
        for key, text in (("box", "Face box"), ("label", "Label"), ("pose", "Pose")):
            box = QCheckBox(text)
            box.setObjectName(f"LiveOverlay_{key}")
            box.setChecked(getattr(controller.overlay.toggles, key))
            box.toggled.connect(lambda on, k=key: self._toggle(k, on))
            toggles.addWidget(box)
            self.toggles[key] = box
        self.status = QLabel()
        self.status.setObjectName("LiveStatus")
        self.status.setWordWrap(True)
        layout.addWidget(QLabel("Models"))
        layout.addWidget(self.models, 1)
        layout.addWidget(self.live)
        layout.addLayout(toggles)
        layout.addWidget(self.status)
        controller.changed.connect(self.sync)
        controller.result_shown.connect(self._show_numbers)
        self.sync()

    def _toggle(self, key: str, on: bool) -> None:
        setattr(self.controller.overlay.toggles, key, on)
        self.controller.repaint_views()

    def _picked(self, _item: QListWidgetItem) -> None:
        chosen = [self.models.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.models.count())
                  if self.models.item(i).checkState() == Qt.CheckState.Checked]
        if chosen != self.controller.selected:
            self.controller.set_selected(chosen)

    def check_model(self, model_id: int, on: bool = True) -> None:
        """Tick (or untick) a model in the list, as a click on its box does."""
        for i in range(self.models.count()):
            item = self.models.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == model_id:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def sync(self) -> None:
        c = self.controller
        self.models.blockSignals(True)
        self.models.clear()
        for record in c.models:
            problem = c.disabled.get(record.id)
            item = QListWidgetItem(f"{record.name} {record.version}" + ("  ⚠ disabled" if problem else ""))
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if record.id in c.selected else Qt.CheckState.Unchecked)
            item.setToolTip(problem or f"{record.kind} · id {record.id}")
            if problem:
                item.setForeground(QColor(theme.current().error))
            self.models.addItem(item)
        self.models.blockSignals(False)
        self.live.blockSignals(True)
        self.live.setChecked(c.live)
        self.live.blockSignals(False)
        # the line under the list always describes the list above it (it said "No registered models" under
        # models registered after the panel was built)
        if not c.models:
            self.status.setText(NO_MODELS)
        elif c.lag:
            self.status.setText(f"⚠ {c.lag}: showing the newest frame, skipping the rest")
        elif not c.live:
            self.status.setText(HOW_TO)
        elif c.last_result is None:  # live just switched on, or its worker restarted (session, models)
            self.status.setText(STARTING if c.starting else WAITING)
        else:
            self._show_numbers(c.last_result)  # then those of each result

    def _show_numbers(self, result: LiveResult) -> None:
        lag = f"⚠ {self.controller.lag} · " if self.controller.lag else ""
        self.status.setText(f"{lag}{result.fps:.0f} fps · latency {result.latency_ms:.0f} ms")

