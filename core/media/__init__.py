"""Media engine: probing, frame indexes, decoding, audio and the session clock (no widgets).

Frame-exact, synchronised playback of several camera views and microphones of one session, usable
from the GUI, a notebook or a CLI. Nothing here imports Qt: the real sound output is the app's
(``app.qt_audio_sink``), handed to ``AudioPlayback`` as an ``AudioSink``.

Modules, from the bottom up:

- ``probe``: what streams a file holds.
- ``frame_index``: ``FrameIndex`` — exact per-frame times (µs) and keyframes, cached per file.
- ``sync``: session time ↔ file time ↔ frame/sample numbers (offsets are applied only here).
- ``clock``: ``SessionClock`` — the single "now" of a session; ``TimeSource``/``MonotonicTimeSource``.
- ``frame_cache``: ``FrameCache`` — byte-bounded LRU of RGB frames.
- ``decoder``: ``VideoDecoder`` (one thread per file) and ``CropDecoder`` (one view's crop of it).
- ``crop``: ``clamp_crop`` — a view's crop rectangle inside its picture (player and analysis alike).
- ``proxy``: all-intra proxies with identical timestamps (``dyadlab proxy``); ``slow_to_seek``/``seek_cost``
  (long-GOP files that want one, ``SLOW_SEEK_GOP``).
- ``audio``: ``AudioReader`` — float32 windows by session time at any rate/channel selection.
- ``waveform``: ``WaveformPyramid`` — min/max pyramid for drawing hours of audio.
- ``spectrogram``: ``SpectrogramPyramid`` — log-mel levels of detail and tiles for the timeline's spectrograms.
- ``audio_sink``: ``AudioSink`` interface, ``AudioSinkTimeSource``, ``SessionAudioFeed``, ``AudioPlayback``
  (sink and clock in step, given a sink; the app's ``app.audio_output.open_audio_sink`` opens the real one).
- ``sound_server``: ``NullSoundServer`` — a private PulseAudio null sink, so tests and benchmarks run the real sink.
- ``session_media``: ``SessionMedia`` — everything above, opened for one session of a project.
- ``synthetic``: test media whose pixels spell their frame number.
"""
