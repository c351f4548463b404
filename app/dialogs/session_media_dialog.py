"""File ▸ Session media…: where each file of the open session sits — who it shows or hears, and when.

One row per view (participant or "scene" for a shot of both, crop for a split screen, offset) and per
audio track (channel → participant, offset). Every change is one undoable edit
(``core.edits.media_setup.UpdateMediaItem`` through ``Workspace.push``), and while the dialog is open the
session re-opens after each edit or undo, so the user sees and hears the new placement at once.

**Sync** proposes the selected row's offset from the sound it shares with the reference row
(``core.media.auto_sync.propose_offset``, off the GUI thread); the user accepts it, nudges the offset by a
frame or a millisecond, or types it. Input that would break the session is refused with a message here
and nothing is saved: an offset that puts a file entirely outside the session's other media, a
participant left without any audio, two tracks claiming one participant's channel, a crop outside the
picture. A truncated video (its header promises more frames than it holds) is flagged in its row.
On a team server only admins change session media (``core/store/rules.py``): for anyone else the dialog
shows the setup with every control that would write greyed out, the reason as their tooltip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.write_access import offer, refusal
from dyadlab.core import model
from dyadlab.core.edits.base import Edit
from dyadlab.core.edits.media_setup import UpdateMediaItem

if TYPE_CHECKING:
    from dyadlab.app.dialogs.task_progress import TaskProgress
    from dyadlab.app.workspace import Workspace
    from dyadlab.core.media.auto_sync import SyncProposal

SCENE = "scene (both)"
COLUMNS = ("File", "Kind", "Shows / hears", "Crop x,y,w,h", "Offset (ms)", "Note")
MAX_OFFSET_MS = 24 * 3600 * 1000.0
DEFAULT_FRAME_US = 40_000


def _crop_text(crop: model.CropRect | None) -> str:
    return "" if crop is None else f"{crop.x},{crop.y},{crop.width},{crop.height}"


class SessionMediaDialog(QDialog):
    """Non-modal; ``reopen`` shows the session again (the window's ``open_session``)."""

    def __init__(self, ws: Workspace, reopen, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SessionMediaDialog")
        self.ws, self.reopen = ws, reopen
        self.session_id = ws.session.id
        # Why the user may not change views / audio tracks (None: they may); what a team server would refuse.
        self.refusals = {"view": refusal(ws, "views"), "audio": refusal(ws, "audio_tracks")}
        self.task: TaskProgress | None = None
        self.proposal: SyncProposal | None = None
        self.setWindowTitle(f"Session media — {ws.data.session.name}")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("MediaTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        layout.addWidget(self.table)
        sync_row = QHBoxLayout()
        sync_row.addWidget(QLabel("Sync the selected file to"))
        self.reference = QComboBox(self)
        self.reference.setObjectName("SyncReference")
        sync_row.addWidget(self.reference, 1)
        self.sync = QPushButton("Sync", self)
        self.sync.setObjectName("SyncButton")
        self.sync.clicked.connect(self.propose)
        sync_row.addWidget(self.sync)
        layout.addLayout(sync_row)
        proposal_row = QHBoxLayout()
        self.proposal_label = QLabel("", self)
        self.proposal_label.setObjectName("SyncProposal")
        self.proposal_label.setWordWrap(True)
        proposal_row.addWidget(self.proposal_label, 1)
        self.accept_proposal = QPushButton("Accept", self)
        self.accept_proposal.setObjectName("AcceptSync")
        self.accept_proposal.setEnabled(False)
        self.accept_proposal.clicked.connect(self._accept_proposal)
        proposal_row.addWidget(self.accept_proposal)
        layout.addLayout(proposal_row)
        nudge_row = QHBoxLayout()
        nudge_row.addWidget(QLabel("Nudge the selected file:"))
        writers = [self.sync]
        for text, name, frames, ms in (("◀ 1 frame", "NudgeFrameBack", -1, 0), ("1 frame ▶", "NudgeFrame", 1, 0),
                                       ("−1 ms", "NudgeMsBack", 0, -1), ("+1 ms", "NudgeMs", 0, 1)):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(lambda _c=False, f=frames, m=ms: self.nudge(frames=f, ms=m))
            nudge_row.addWidget(button)
            writers.append(button)
        if all(self.refusals.values()):  # nothing here may change: say so once, grey out what would write
            self.setWindowTitle(f"{self.windowTitle()} (view only)")
            offer(writers, self.refusals["view"])
        nudge_row.addStretch(1)
        layout.addLayout(nudge_row)
        self.problem = QLabel("", self)
        self.problem.setObjectName("MediaProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d9534f;")
        layout.addWidget(self.problem)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        layout.addWidget(close, alignment=Qt.AlignmentFlag.AlignRight)
        self.resize(900, 420)
        self._known = self._snapshot()
        self.ws.edited.connect(self._after_edit)
        self.connected = True
        self.fill()

    # -- reading -------------------------------------------------------------------------------------

    def _snapshot(self) -> tuple[list[model.View], list[model.AudioTrack], list[model.Participant]]:
        with self.ws.project.store.transaction() as tx:
            return (tx.views.list(self.session_id), tx.audio.list(self.session_id),
                    tx.participants.list(self.session_id))

    def rows(self) -> list[tuple[str, model.View | model.AudioTrack]]:
        views, tracks, _ = self._known
        return [("view", v) for v in views] + [("audio", t) for t in tracks]

    def fill(self) -> None:
        views, tracks, people = self._known
        selected = self.table.currentRow()
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for row, (kind, item) in enumerate(self.rows()):
            self.table.insertRow(row)
            name = QLabel(f"{item.name}  ({item.path.rsplit('/', 1)[-1]})")
            name.setToolTip(str(self.ws.project.media_path(item.path)))
            self.table.setCellWidget(row, 0, name)
            self.table.setCellWidget(row, 1, QLabel(kind))
            who = self._who_editor(kind, item, people)
            self.table.setCellWidget(row, 2, who)
            crop = QLineEdit(_crop_text(item.crop) if kind == "view" else "")
            crop.setEnabled(kind == "view")
            crop.setObjectName(f"crop.{kind}.{item.id}")
            crop.editingFinished.connect(lambda k=kind, i=item, e=crop: self._set_crop(k, i, e.text()))
            self.table.setCellWidget(row, 3, crop)
            offset = QDoubleSpinBox()
            offset.setObjectName(f"offset.{kind}.{item.id}")
            offset.setRange(-MAX_OFFSET_MS, MAX_OFFSET_MS)
            offset.setDecimals(1)
            offset.setKeyboardTracking(False)
            offset.setValue(item.offset_us / 1000)
            offset.valueChanged.connect(lambda ms, k=kind, i=item: self.set_offset(k, i, round(ms * 1000)))
            self.table.setCellWidget(row, 4, offset)
            if self.refusals[kind] is not None:
                offer((who, crop, offset), self.refusals[kind])
            self.table.setCellWidget(row, 5, QLabel(self._note(kind, item)))
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        if 0 <= selected < self.table.rowCount():
            self.table.selectRow(selected)
        current = self.reference.currentText()
        self.reference.clear()
        self.reference.addItems([f"{kind} {item.name}" for kind, item in self.rows()])
        self.reference.setCurrentText(current or self._default_reference())

    def _default_reference(self) -> str:
        """A room recorder (audio heard by no one in particular) if there is one, else the first audio track."""
        tracks = [t for k, t in self.rows() if k == "audio"]
        mixed = [t for t in tracks if not any(p is not None for p in t.channel_participants)
                 and not t.path.lower().endswith((".mp4", ".mov", ".mkv", ".avi"))]
        chosen = (mixed or tracks or [None])[0]
        return f"audio {chosen.name}" if chosen is not None else ""

    def _who_editor(self, kind: str, item, people: list[model.Participant]) -> QWidget:
        if kind == "view":
            box = QComboBox()
            box.setObjectName(f"who.view.{item.id}")
            box.addItem(SCENE, None)
            for p in people:
                box.addItem(p.code, p.id)
            box.setCurrentIndex(max(0, box.findData(item.participant_id)))
            box.activated.connect(lambda _i, b=box, i=item: self._set_view_participant(i, b.currentData()))
            return box
        cell = QWidget()
        line = QHBoxLayout(cell)
        line.setContentsMargins(0, 0, 0, 0)
        mapping = list(item.channel_participants) or [None] * (item.channels or 1)
        for channel, pid in enumerate(mapping):
            box = QComboBox()
            box.setObjectName(f"who.audio.{item.id}.{channel}")
            box.addItem(f"ch{channel + 1}: both", None)
            for p in people:
                box.addItem(f"ch{channel + 1}: {p.code}", p.id)
            box.setCurrentIndex(max(0, box.findData(pid)))
            box.activated.connect(lambda _i, b=box, i=item, c=channel: self._set_channel(i, c, b.currentData()))
            line.addWidget(box)
        return cell

    def _note(self, kind: str, item) -> str:
        if kind != "view":
            return ""
        from dyadlab.core.media.frame_index import FrameIndex
        from dyadlab.core.media.session_media import INDEX_CACHE

        try:
            index = FrameIndex.load_or_build(self.ws.project.media_path(item.path),
                                             self.ws.project.cache_dir / INDEX_CACHE)
        except Exception as exc:  # noqa: BLE001 - a broken file is named in its row
            return f"cannot be read: {exc}"
        return f"⚠ {index.problem}" if index.problem else ""

    def selected_row(self) -> tuple[str, model.View | model.AudioTrack] | None:
        row = self.table.currentRow()
        rows = self.rows()
        return rows[row] if 0 <= row < len(rows) else None

    # -- checks --------------------------------------------------------------------------------------

    def offset_problem(self, kind: str, item, offset_us: int) -> str | None:
        """Why ``item`` cannot play at ``offset_us``: it would not overlap any other file of the session."""
        others = [(o.offset_us, o.offset_us + (o.duration_us or 0)) for k, o in self.rows()
                  if o.path != item.path and o.duration_us]
        if not others or not item.duration_us:
            return None
        start, end = min(a for a, _ in others), max(b for _, b in others)
        if offset_us >= end or offset_us + item.duration_us <= start:
            return (f"An offset of {offset_us / 1000:+.1f} ms puts {item.name} "
                    f"({item.duration_us / 1e6:.1f} s long) entirely outside the session's other media "
                    f"({start / 1e6:.1f}–{end / 1e6:.1f} s): nothing was changed.")
        return None

    def channel_problem(self, track: model.AudioTrack, mapping: list[int | None]) -> str | None:
        """Why the session's audio cannot have ``mapping`` as ``track``'s channel map, or None."""
        _, tracks, people = self._known
        maps = {t.id: list(mapping) if t.id == track.id else list(t.channel_participants) for t in tracks}
        owners: dict[int, list[str]] = {}
        for t in tracks:
            for channel, pid in enumerate(maps[t.id]):
                if pid is not None:
                    owners.setdefault(pid, []).append(f"{t.name} ch{channel + 1}")
        code = {p.id: p.code for p in people}
        for pid, where in owners.items():
            if len(where) > 1:
                return (f"Two channels claim participant {code.get(pid, pid)} ({' and '.join(where)}): each "
                        "participant's voice comes from one channel. Nothing was changed.")
        has_mix = any(all(pid is None for pid in m) for m in maps.values())
        silent = [p.code for p in people if p.id not in owners]
        if silent and not has_mix:
            return (f"Participant {', '.join(silent)} would have no audio (no channel of theirs and no mixed "
                    "track): nothing was changed.")
        return None

    # -- edits ---------------------------------------------------------------------------------------

    def _push(self, edit: Edit, problem: str | None) -> bool:
        self.problem.setText(problem or "")
        if problem is not None:
            self.fill()  # put the editor back to the stored value
            return False
        return self.ws.push(edit)

    def set_offset(self, kind: str, item, offset_us: int) -> bool:
        """Move ``item`` to ``offset_us``, and every other row playing the same file by the same amount
        (a camera's picture and its own sound track, the halves of a split screen): one undo step."""
        from dyadlab.core.edits.base import CompositeEdit

        delta = int(offset_us) - item.offset_us
        if delta == 0:
            return True
        edits = [UpdateMediaItem(k, other.id, offset_us=other.offset_us + delta) for k, other in self.rows()
                 if other.path == item.path]
        edit = edits[0] if len(edits) == 1 else CompositeEdit(f"Set offset of {item.name}", edits)
        return self._push(edit, self.offset_problem(kind, item, int(offset_us)))

    def _set_view_participant(self, view: model.View, pid: int | None) -> None:
        if pid != view.participant_id:
            self._push(UpdateMediaItem("view", view.id, participant_id=pid, text="Set view participant"), None)

    def _set_channel(self, track: model.AudioTrack, channel: int, pid: int | None) -> None:
        mapping = list(track.channel_participants) or [None] * (track.channels or 1)
        if mapping[channel] == pid:
            return
        mapping[channel] = pid
        self._push(UpdateMediaItem("audio", track.id, channel_participants=tuple(mapping),
                                   text="Assign audio channel"), self.channel_problem(track, mapping))

    def _set_crop(self, kind: str, view: model.View, text: str) -> None:
        if kind != "view" or text.strip() == _crop_text(view.crop):
            return
        crop, problem = None, None
        if text.strip():
            try:
                x, y, w, h = (int(v) for v in text.split(","))
                crop = model.CropRect(x, y, w, h)
            except ValueError:
                problem = f"A crop is four whole numbers x,y,width,height, not {text!r}: nothing was changed."
            else:
                if min(x, y) < 0 or w <= 0 or h <= 0 or (view.width and x + w > view.width) or \
                        (view.height and y + h > view.height):
                    problem = (f"The crop {text} does not fit inside the {view.width}×{view.height} picture: "
                               "nothing was changed.")
        self._push(UpdateMediaItem("view", view.id, crop=crop, text="Set view crop"), problem)

    def nudge(self, *, frames: int = 0, ms: int = 0) -> bool:
        chosen = self.selected_row()
        if chosen is None:
            self.problem.setText("Select a file first.")
            return False
        kind, item = chosen
        views = [v for k, v in self.rows() if k == "view" and v.fps]
        fps = item.fps if kind == "view" and item.fps else (views[0].fps if views else None)
        frame_us = round(1e6 / fps) if fps else DEFAULT_FRAME_US
        return self.set_offset(kind, item, item.offset_us + frames * frame_us + ms * 1000)

    def _after_edit(self) -> None:
        """An edit or undo landed: when it moved this session's media, re-read them and re-open the session."""
        fresh = self._snapshot()
        if fresh[:2] != self._known[:2]:
            self._known = fresh
            self.fill()
            if self.ws.session is not None and self.ws.session.id == self.session_id:
                self.reopen(self.session_id)

    # -- sync ----------------------------------------------------------------------------------------

    def propose(self) -> None:
        from dyadlab.app.dialogs.task_progress import TaskProgress
        from dyadlab.core.errors import DyadLabError
        from dyadlab.core.media.auto_sync import find_item, propose_offset, sync_items

        chosen = self.selected_row()
        if chosen is None:
            self.problem.setText("Select the file to sync first.")
            return
        kind, item = chosen
        items = sync_items(self.ws.project, self.session_id)
        try:
            reference = find_item(items, self.reference.currentText())
            target = next((i for i in items if (i.kind, i.id) == (kind, item.id)), None)
            if target is None:
                raise DyadLabError(f"{item.name} has no sound to sync by (or shares its file with a view above)")
            if target == reference:
                raise DyadLabError("choose a reference other than the file itself")
        except DyadLabError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.setText("")
        self.task = TaskProgress(f"Syncing {item.name}", lambda progress: propose_offset(reference, target,
                                                                                         progress=progress),
                                 self._show_proposal, lambda exc: self.problem.setText(str(exc)), self)

    def _show_proposal(self, proposal: SyncProposal) -> None:
        self.proposal = proposal
        self.proposal_label.setText(proposal.describe())
        self.accept_proposal.setEnabled(True)

    def _accept_proposal(self) -> None:
        proposal = self.proposal
        if proposal is None:
            return
        item = next(i for k, i in self.rows() if (k, i.id) == (proposal.item.kind, proposal.item.id))
        if self.set_offset(proposal.item.kind, item, proposal.offset_us):
            self.accept_proposal.setEnabled(False)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.connected:
            self.connected = False
            self.ws.edited.disconnect(self._after_edit)
        super().closeEvent(event)
