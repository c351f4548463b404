"""Rating panel: the continuous valence / arousal / dominance input for one participant.

Each dimension is a slider (drag with the mouse while the video plays) with its scheme keys shown
next to it; the record button (R) arms the ``TraceRater``, which samples the sliders as time runs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from dyadlab.app.editing.trace_rater import TraceRater
from dyadlab.app.layout_tools import clear_layout
from dyadlab.app.workspace import Workspace

STEPS = 400


class RatingPanel(QWidget):
    def __init__(self, ws: Workspace, rater: TraceRater) -> None:
        super().__init__()
        self.ws, self.rater = ws, rater
        self.sliders: dict[str, QSlider] = {}
        self._updating = False
        layout = QVBoxLayout(self)
        self.who = QComboBox()
        self.who.currentIndexChanged.connect(self._who_changed)
        layout.addWidget(self.who)
        self.record = QToolButton()
        self.record.setCheckable(True)
        self.record.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.record.clicked.connect(lambda: self.rater.set_recording(not self.rater.recording))
        layout.addWidget(self.record)
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        layout.addStretch(1)
        rater.changed.connect(self.sync)
        ws.session_opened.connect(self._participants)
        self._participants()

    def _participants(self) -> None:
        self._updating = True
        self.who.clear()
        for p in self.ws.data.participants if self.ws.data else []:
            self.who.addItem(f"Rate participant {p.code}", p.id)
        index = self.who.findData(self.rater.participant_id)
        self.who.setCurrentIndex(max(0, index))
        self._updating = False
        self.sync()

    def _who_changed(self, index: int) -> None:
        if not self._updating and index >= 0:
            self.rater.set_participant(self.who.itemData(index))

    def _slider_moved(self, name: str, position: int) -> None:
        d = self.rater.dimension(name)
        if d is not None and not self._updating:
            lo, hi = d.scale
            self.rater.set_value(name, lo + (hi - lo) * position / STEPS)

    def sync(self) -> None:
        names = [d.name for d in self.rater.dims]
        if names != list(self.sliders):
            clear_layout(self.grid)
            self.sliders = {}
            for row, d in enumerate(self.rater.dims):
                slider = QSlider(Qt.Orientation.Horizontal)
                slider.setRange(0, STEPS)
                slider.setObjectName(f"rate-{d.name}")
                slider.valueChanged.connect(lambda pos, n=d.name: self._slider_moved(n, pos))
                keys = "/".join(k.upper() for k in d.keys if k)
                if any(d.ends):  # what the scale's ends mean, where the scheme says
                    slider.setToolTip(f"{d.scale[0]:g} {d.ends[0]} … {d.scale[1]:g} {d.ends[1]}")
                self.grid.addWidget(QLabel(d.name), row, 0)
                self.grid.addWidget(slider, row, 1)
                self.grid.addWidget(QLabel(keys), row, 2)
                self.grid.addWidget(QLabel(), row, 3)
                self.sliders[d.name] = slider
        self._updating = True
        for row, d in enumerate(self.rater.dims):
            lo, hi = d.scale
            self.sliders[d.name].setValue(round((d.value - lo) / (hi - lo) * STEPS))
            value_label = self.grid.itemAtPosition(row, 3).widget()
            if isinstance(value_label, QLabel):
                value_label.setText(f"{d.value:.2f}")
        self._updating = False
        self.record.setChecked(self.rater.recording)
        self.record.setText("● Recording — play to rate" if self.rater.recording else "○ Record rating (R)")
