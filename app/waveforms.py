"""Builds each participant's waveform pyramid off the GUI thread and hands it to the timeline.

Decoding a long recording to build its min/max pyramid takes seconds (cached on disk afterwards),
so the window never waits for it: the timeline shows an empty audio track that fills in when the
pyramid arrives through a queued signal.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from dyadlab.core.media.waveform import WaveformPyramid

CACHE_DIR = "waveform"


def _deliver(loader: QObject, signal: str, *args: Any) -> None:
    """Hand a build's outcome to the GUI thread, unless the loader is gone: a window closed (or a headless
    run that wrote its report) while a build ran has nobody left to show it to."""
    with contextlib.suppress(RuntimeError):  # PySide: "Signal source has been deleted"
        getattr(loader, signal).emit(*args)


class WaveformLoader(QObject):
    ready = Signal(int, int, object)  # generation, participant id, pyramid
    failed = Signal(int, int, str)  # generation, participant id, message

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        self.threads: list[threading.Thread] = []

    def load(self, media: Any, participant_ids: list[int]) -> int:
        """Start building pyramids for a session's participants; returns the generation tag."""
        self.generation += 1
        generation = self.generation
        cache = media.project.cache_dir / CACHE_DIR
        for pid in participant_ids:
            def work(pid: int = pid) -> None:
                try:
                    reader = media.participant_audio(pid)
                    if reader is None:
                        outcome: tuple[str, Any] = ("failed", "no audio for this participant")
                    else:
                        outcome = ("ready", WaveformPyramid.build(reader, cache_dir=cache))
                except Exception as exc:  # noqa: BLE001 - shown in the track, never raised
                    outcome = ("failed", str(exc))
                _deliver(self, outcome[0], generation, pid, outcome[1])

            thread = threading.Thread(target=work, name=f"waveform:{pid}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return generation

    def wait(self, timeout: float = 30.0) -> None:
        """Block until all started builds end (tests, screenshots)."""
        for thread in self.threads:
            thread.join(timeout)
        self.threads = [t for t in self.threads if t.is_alive()]
