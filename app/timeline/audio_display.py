"""What each participant's audio track shows (waveform, spectrogram or both), remembered per project.

The choice is the user's view of the data, not part of it, so it lives in QSettings beside the window
layout (``layout_memory.settings_group``: one group per project folder) rather than in the project
database: a read-only project remembers it too. The View menu's "Spectrograms" item turns the
spectrogram on (beside the waveform) or off for every audio track of the session at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from dyadlab.app.layout_memory import settings_group
from dyadlab.app.timeline.waveform_track import DISPLAYS, WAVEFORM

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow


def _key(root: Path, participant_id: int) -> str:
    return f"{settings_group(root)}/audio_display/{participant_id}"


def remembered_display(root: Path | None, participant_id: int) -> str:
    """The display last chosen for the participant's track in this project (the waveform at first)."""
    if root is None:
        return WAVEFORM
    value = QSettings().value(_key(root, participant_id), WAVEFORM)
    return value if value in DISPLAYS else WAVEFORM


def remember_display(root: Path | None, participant_id: int, display: str) -> None:
    if root is not None:
        QSettings().setValue(_key(root, participant_id), display)


def add_spectrogram_toggle(win: MainWindow, view_menu: QMenu) -> QAction:
    """View ▸ Spectrograms: checked while any audio track shows one; toggling sets every track of the session."""
    action = QAction("Spectrograms on audio tracks", view_menu, checkable=True)
    action.setObjectName("view.spectrogram")
    action.setToolTip("Show each speaker's spectrogram under the waveform (right-click a track for one only)")
    action.triggered.connect(lambda checked: win.bench.timeline.show_spectrograms(checked))
    view_menu.aboutToShow.connect(lambda: action.setChecked(win.bench.timeline.spectrograms_shown()))
    view_menu.addAction(action)
    return action
