"""The value palette of the active tier: one button per class (with its key and colour), or the
score digits of a dimension. Clicking a button labels the selected segment — the same action as
pressing the key — and the panel says what holding a key while playing will do. Below it, the
selected segment's exact times, value and provenance (who made it, when, how).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from dyadlab.app.commands import segment_actions as actions
from dyadlab.app.errors import guarded
from dyadlab.app.layout_tools import clear_layout
from dyadlab.app.timeline.segments_item import SegmentStyle
from dyadlab.app.timeline.time_axis import format_time
from dyadlab.app.workspace import Workspace


class PalettePanel(QWidget):
    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.grid = QGridLayout()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 11px;")
        layout.addWidget(self.title)
        layout.addLayout(self.grid)
        layout.addWidget(self.hint)
        self.selection = QLabel()
        self.selection.setObjectName("SelectionInfo")
        self.selection.setWordWrap(True)
        self.selection.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.selection)
        layout.addStretch(1)
        ws.tiers_changed.connect(self.rebuild)
        ws.session_opened.connect(self.rebuild)
        ws.session_opened.connect(self.show_selection)  # opening a session drops the selection without a signal
        ws.selection_changed.connect(self.show_selection)
        self.rebuild()
        self.show_selection()

    def show_selection(self) -> None:
        seg = self.ws.selected
        if seg is None or self.ws.data is None:
            self.selection.setText("<i>No segment selected.</i>")
            return
        tier = self.ws.tier(seg.tier_id)
        who = self.ws.data.annotators.get(seg.annotator_id)
        value = seg.value if seg.value is not None else (f"{seg.score:.2f}" if seg.score is not None else "—")
        made = seg.updated_at.strftime("%Y-%m-%d %H:%M:%S") if seg.updated_at else "?"
        how = seg.provenance.get("how") or seg.provenance.get("source") or "imported"
        # two lines, not a row per field: seven rows over the Keypoints panel made the window grow past 1000 px
        self.selection.setText(
            f"<b>Selected</b> {escape(tier.name if tier else '?')} · <b>{escape(str(value))}</b> · "
            f"{format_time(seg.start_us / 1e6)}–{format_time(seg.end_us / 1e6)} ({seg.duration_us / 1e6:.3f} s)<br>"
            f"<span style='color:gray'>{escape(who.name if who else '?')} ({escape(str(how))}) · {made} UTC · "
            f"v{seg.version}</span>")

    def rebuild(self) -> None:
        clear_layout(self.grid)
        self.buttons = {}
        tier = self.ws.active_tier
        if tier is None:
            self.title.setText("<b>No active tier</b> — click a tier on the timeline.")
            self.hint.setText("")
            return
        editable = self.ws.can_edit(tier)
        p = self.ws.data.participant(tier.participant_id) if self.ws.data else None
        who = p.code if p else "session"
        self.title.setText(f"<b>{who} · {tier.name}</b>" + ("" if editable else " (read-only)"))
        style = SegmentStyle.of(self.ws.scheme(tier), tier.name)
        for i, (key, value) in enumerate(actions.palette(self.ws, tier)):
            button = QPushButton(f"{key}  {value}" if key else value)  # a class with no key yet: click it
            if not key:
                button.setToolTip(f"{value}: no key yet (give it one in Edit ▸ Coding schemes and tiers)")
            color = style.colors.get(value)
            if color:
                button.setStyleSheet(f"QPushButton {{ border-left: 6px solid {color}; padding: 4px 8px; text-align: left; }}")
            button.setEnabled(editable)
            button.clicked.connect(guarded("Palette")(lambda _c=False, v=value: actions.label_selected(self.ws, v)))
            self.grid.addWidget(button, i // 2, i % 2)
            self.buttons[value] = button
        if tier.kind == "categorical":
            self.hint.setText("Paused: a key labels the selected segment.\nPlaying: hold a key to code in real time.")
        else:
            self.hint.setText("A digit sets the score of the selected segment.\nUse the Rating panel for continuous traces.")
