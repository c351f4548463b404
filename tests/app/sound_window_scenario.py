"""Opens a project in the real main window, plays it for a while and records how the clock followed the sound.

Run by ``test_sound_gui.py`` in a subprocess (Qt connects to sound once per process, on first use, so the
sound server's address must be in the environment before the application starts). Usage:
``python sound_window_scenario.py PROJECT OUT_JSON``. Nothing is asserted here: the test judges the record.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402 (after the platform is chosen)

from dyadlab.app.errors import reporter  # noqa: E402
from dyadlab.app.main_window import MainWindow  # noqa: E402

PLAY_S = 1.5


def main(project: Path, out: Path) -> None:
    app = QApplication(sys.argv[:1])
    reporter.show_dialogs = False
    window = MainWindow()
    window.show()
    window.open_project(project, annotator="sound-test")
    app.processEvents()
    playback = window.bench.playback
    record: dict = {"attached_before_play": playback.sound is not None, "samples": []}
    start_clock = playback.now_us
    playback.toggle()
    t0 = time.monotonic()
    while time.monotonic() - t0 < PLAY_S:
        app.processEvents()
        heard = playback.sound.heard_us if playback.sound is not None else None
        record["samples"].append((time.monotonic() - t0, playback.now_us, heard))
        time.sleep(0.005)
    record["attached"] = playback.sound is not None
    playback.pause()
    app.processEvents()
    record["advanced_us"] = playback.now_us - start_clock
    record["restarts"] = playback.sound.restarts if playback.sound is not None else 0
    record["running_after_pause"] = playback.sound.running if playback.sound is not None else False
    record["errors"] = [h for h in reporter.history if "Unexpected" in h]
    window.close()
    out.write_text(json.dumps(record))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
