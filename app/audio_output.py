"""Opening the default sound output: the app's sink factory for ``core.media.audio_sink.AudioPlayback``.

Why here and not in ``core``: the only real sink is Qt's (``app.qt_audio_sink``), and ``core`` imports no
Qt. ``core`` defines the ``AudioSink`` interface; the app opens a sink with ``open_audio_sink`` and hands it
to ``AudioPlayback`` (``app.playback``), as the media benchmark and the sound tests do. QtMultimedia is
imported on the first call only, so opening the window never waits for its libraries.
"""

from __future__ import annotations

import logging

from dyadlab.core.media.audio_sink import AudioSink

log = logging.getLogger(__name__)


def open_audio_sink(sample_rate: int = 48_000, channels: int = 2) -> AudioSink | None:
    """A sink on the default output device, or None when there is no device or no Qt multimedia.

    Needs a running QCoreApplication (the GUI's); returns None without one.
    """
    try:
        sink_class = _import_qt_sink()
    except ImportError as exc:  # PySide6.QtMultimedia or libpulse missing
        log.info("no audio output: %s", exc)
        return None
    try:
        return sink_class.open_default(sample_rate, channels)
    except Exception as exc:  # a backend failing to initialise must not stop playback
        log.warning("cannot open the audio output: %s", exc)
        return None


def _import_qt_sink() -> type[AudioSink]:
    """``QtAudioSink``, imported with Qt's own message handler in place.

    Loading QtMultimedia's libraries runs their initialisers under the dynamic loader's lock, and they
    print ("Couldn't load pipewire-0.3 library" where there is none). A message handler written in Python
    (pytest-qt installs one; an app may) then waits for the GIL while holding that lock, and a thread that
    holds the GIL and needs the lock waits for it: a deadlock. Seen as a hang on the first Play while a
    live model loaded (torch registering a thread-local destructor takes the loader's lock; gdb showed
    both sides). Qt's default handler needs no GIL; the previous handler is back once the import is done.
    """
    from PySide6.QtCore import qInstallMessageHandler

    previous = qInstallMessageHandler(None)
    try:
        from dyadlab.app.qt_audio_sink import QtAudioSink
    finally:
        qInstallMessageHandler(previous)
    return QtAudioSink
