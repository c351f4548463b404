"""Everything the player needs to show one session: decoders per view, audio per track, time mapping.

The GUI (and notebooks) should not assemble frame indexes, proxies, shared decoders and offsets
themselves: ``SessionMedia(project, session_id)`` does it once, and answers "which frame of view V is on
screen at session time t" with the view's offset applied. A broken view (missing, empty, corrupt,
audio-only file, crop outside the picture) is disabled on its own and explains itself through
``view_error``; the other views play. Views cropping the same file share one decoder thread.

Opening a file for the first time builds its frame index (a demux pass over the whole file: seconds for
an hour of video); later opens read the cached index. Construct ``SessionMedia`` off the GUI thread.

Typical use from the GUI (the decoder callbacks run on decoder threads: hop to the GUI thread with a
queued Qt signal)::

    media = SessionMedia(project, session_id)
    clock = SessionClock(media.duration_us)
    for view in media.views:
        if (handle := media.decoder(view.id)) is not None:
            handle.subscribe(lambda n, rgb, v=view.id: frame_ready.emit(v, n, rgb))  # decoder thread
    def show(t_us):                                   # subscribed to the clock: GUI thread
        for view in media.views:
            n = media.frame_for(view.id, t_us)
            if n is None:
                blank(view.id, media.view_error(view.id))   # not started / ended / broken
                continue
            handle = media.decoder(view.id)
            handle.request(n)                         # keeps read-ahead going; newest request wins
            if (rgb := handle.peek(n)) is not None:   # already decoded: paint now
                paint(view.id, rgb)
    clock.subscribe(show)
    timer.timeout.connect(clock.tick)                 # the display timer drives the clock
    clock.step(media.frame_index(view.id), view.offset_us, +1)   # exact frame step of one view
    media.close()
"""

from __future__ import annotations

import logging
from pathlib import Path

from dyadlab.core.errors import MediaError
from dyadlab.core.media.audio import AudioReader, ChannelSpec
from dyadlab.core.media.decoder import DEFAULT_READAHEAD, CropDecoder, Size, VideoDecoder
from dyadlab.core.media.frame_cache import DEFAULT_CACHE_BYTES
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.proxy import proxy_dir_of, slow_to_seek
from dyadlab.core.media.sync import frame_session_time, view_frame_at
from dyadlab.core.model import AudioTrack, View

log = logging.getLogger(__name__)

INDEX_CACHE = "frame_index"


class SessionMedia:
    """Decoders, frame indexes and audio readers of one session of an open ``Project``.

    Opening indexes every view's file (cached after the first time) and starts one decoder thread per
    distinct file; it never raises for a bad media file — see ``view_error`` / ``audio_error``. Call
    ``close()`` (or use ``with``) to stop the threads.
    """

    def __init__(self, project, session_id: int, *, cache_bytes_per_file: int = DEFAULT_CACHE_BYTES,
                 readahead: int = DEFAULT_READAHEAD, max_size: Size | None = None, use_proxies: bool = True,
                 thread_type: str = "AUTO") -> None:
        self.project = project
        self.session_id = session_id
        with project.store.transaction() as tx:
            self.session = tx.sessions.get(session_id)
            self.views: list[View] = tx.views.list(session_id)
            self.audio_tracks: list[AudioTrack] = tx.audio.list(session_id)
        self._index_cache = Path(project.cache_dir) / INDEX_CACHE
        proxy_dir = proxy_dir_of(project.cache_dir) if use_proxies else None
        self._files: dict[Path, VideoDecoder] = {}
        self._decoders: dict[int, CropDecoder] = {}
        self._view_errors: dict[int, MediaError] = {}
        for view in self.views:
            path = project.media_path(view.path)
            try:
                key = path.resolve()
                shared = self._files.get(key)
                if shared is None:
                    shared = VideoDecoder.for_file(path, index_cache_dir=self._index_cache, proxy_dir=proxy_dir,
                                                   cache_bytes=cache_bytes_per_file, readahead=readahead,
                                                   max_size=max_size, thread_type=thread_type)
                    self._files[key] = shared
                self._decoders[view.id] = CropDecoder(shared, view.crop)
            except MediaError as exc:
                log.warning("view %s disabled: %s", view.name, exc)
                self._view_errors[view.id] = exc
        self._readers: dict[tuple[int, int | None, object], AudioReader] = {}
        self._audio_errors: dict[int, MediaError] = {}
        for track in self.audio_tracks:
            try:
                self.audio(track.id)
            except MediaError as exc:
                log.warning("audio track %s disabled: %s", track.name, exc)
                self._audio_errors[track.id] = exc

    # --- views ---------------------------------------------------------------------------------
    def view(self, view_id: int) -> View:
        for view in self.views:
            if view.id == view_id:
                return view
        raise KeyError(f"view {view_id} is not in session {self.session_id}")

    def decoder(self, view_id: int) -> CropDecoder | None:
        """The view's decoder handle (its crop applied), or None when the view is disabled."""
        self.view(view_id)
        return self._decoders.get(view_id)

    def frame_index(self, view_id: int) -> FrameIndex | None:
        decoder = self.decoder(view_id)
        return None if decoder is None else decoder.index

    def frame_for(self, view_id: int, t_us: int) -> int | None:
        """Frame of the view on screen at session time ``t_us``; None when disabled or outside its span."""
        index = self.frame_index(view_id)
        return None if index is None else view_frame_at(t_us, self.view(view_id).offset_us, index)

    def time_of_frame(self, view_id: int, frame_no: int) -> int | None:
        """Session time (µs) at which frame ``frame_no`` of the view appears; None when disabled."""
        index = self.frame_index(view_id)
        return None if index is None else frame_session_time(index, self.view(view_id).offset_us, frame_no)

    def slow_views(self) -> list[tuple[View, int]]:
        """(view, longest GOP) of the working views decoded from a slow-to-seek file with no proxy in use.

        Why here: what the player decodes is decided here (a valid proxy is used when present), so this is
        the one place that knows whether scrubbing a view will be slow. Views sharing one file are each listed.
        """
        slow = []
        for view in self.views:
            handle = self._decoders.get(view.id)
            if handle is not None and not handle.decoder.using_proxy and slow_to_seek(handle.index):
                slow.append((view, handle.index.max_gop))
        return slow

    def view_error(self, view_id: int) -> MediaError | None:
        """Why the view is disabled, or the last decoding error of a working view; None when all is well."""
        self.view(view_id)
        if view_id in self._view_errors:
            return self._view_errors[view_id]
        decoder = self._decoders.get(view_id)
        return decoder.error if decoder is not None else None

    # --- audio ---------------------------------------------------------------------------------
    def audio_track(self, track_id: int) -> AudioTrack:
        for track in self.audio_tracks:
            if track.id == track_id:
                return track
        raise KeyError(f"audio track {track_id} is not in session {self.session_id}")

    def audio(self, track_id: int, *, sample_rate: int | None = None, channels: ChannelSpec = None) -> AudioReader:
        """A reader of the track at ``sample_rate`` (None: the file's) and channel choice, offset applied.

        Readers are kept and shared per (track, rate, channels). Raises MediaError for a broken track.
        """
        if track_id in self._audio_errors:
            raise self._audio_errors[track_id]
        key = (track_id, sample_rate, tuple(channels) if isinstance(channels, list | tuple) else channels)
        reader = self._readers.get(key)
        if reader is None:
            track = self.audio_track(track_id)
            reader = AudioReader(self.project.media_path(track.path), sample_rate=sample_rate, channels=channels,
                                 offset_us=track.offset_us)
            self._readers[key] = reader
        return reader

    def audio_error(self, track_id: int) -> MediaError | None:
        self.audio_track(track_id)
        return self._audio_errors.get(track_id)

    def participant_audio(self, participant_id: int, *, sample_rate: int = 16_000) -> AudioReader | None:
        """Mono audio of one participant (analysis): their own channel, else a mixed track; None if none."""
        fallback = None
        for track in self.audio_tracks:
            if track.id in self._audio_errors:
                continue
            if participant_id in track.channel_participants:
                return self.audio(track.id, sample_rate=sample_rate,
                                  channels=track.channel_participants.index(participant_id))
            if fallback is None and all(p is None for p in track.channel_participants):
                fallback = track  # a mix of both (or unassigned) is the next best thing
        return None if fallback is None else self.audio(fallback.id, sample_rate=sample_rate, channels="mix")

    # --- session -------------------------------------------------------------------------------
    @property
    def duration_us(self) -> int:
        """End of the last view or track in session time (the session's stored duration if longer)."""
        ends = [self.session.duration_us or 0]
        for view in self.views:
            index = self.frame_index(view.id)
            if index is not None:
                ends.append(view.offset_us + index.duration_us)
        for track in self.audio_tracks:
            if track.id not in self._audio_errors:
                duration = self.audio(track.id).duration_us or track.duration_us or 0
                ends.append(track.offset_us + duration)
        return max(ends)

    def close(self) -> None:
        """Stop every decoder thread and close every file. Idempotent."""
        for handle in self._decoders.values():
            handle.close()
        for decoder in self._files.values():
            decoder.close()
        for reader in self._readers.values():
            reader.close()
        self._decoders.clear()
        self._files.clear()
        self._readers.clear()

    def __enter__(self) -> SessionMedia:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
