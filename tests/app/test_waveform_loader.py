"""The waveform loader builds off the GUI thread; a window closed mid-build must not leave a thread crashing."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import shiboken6

from dyadlab.app.waveforms import WaveformLoader


def test_a_build_ending_after_its_loader_was_deleted_is_dropped_quietly(qapp, tmp_path, monkeypatch) -> None:
    crashed: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    release = threading.Event()

    def participant_audio(pid: int):
        release.wait(10)
        return None  # "no audio": the build fails, and says so through the loader's signal

    media = SimpleNamespace(project=SimpleNamespace(cache_dir=tmp_path), participant_audio=participant_audio)
    loader = WaveformLoader()
    got: list[tuple] = []
    loader.failed.connect(lambda *args: got.append(args))
    loader.load(media, [7])
    thread = loader.threads[0]
    shiboken6.delete(loader)  # the window (and its loader) closed while the build ran
    release.set()
    thread.join(10)
    assert not thread.is_alive() and crashed == [] and got == []
