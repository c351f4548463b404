"""Per-file decoding threads: frame-exact random access to RGB frames without blocking the GUI.

Why a thread per file, fed by requests rather than calls: the GUI thread must never wait for a decoder
(a long-GOP seek costs up to hundreds of ms), and when the user scrubs, only the newest request matters —
older ones are dropped unserved, as SLEAP's loader does. While playing, the thread decodes a few frames
ahead in the playing direction into a byte-bounded LRU cache, so steady playback is served from memory.

How a frame is found: frame ``n`` is the ``n``-th entry of the file's ``FrameIndex`` (presentation
order); decoded pictures are matched to it by their pts, never by counting. A seek jumps to the keyframe
before ``n`` and decodes forward (non-reference frames that are not wanted are skipped by the codec);
a target just ahead of the decoder is reached by decoding on, without a seek. A codec's reference
pictures cannot be copied out, so decode positions are kept by keeping codecs: up to ``seek_codecs``
stay open, each parked where its last seek left it, and a seek goes on from the one standing nearest
before the target in its GOP (the least recently used one seeks when none does). An exact seek's cost
is the reference pictures between where decoding starts and the target; this shortens that run.

Colour conversion is the step to engineer around (FACTS.md): it runs here in the worker, once per frame
and output size, with swscale contexts kept between frames (a fresh context per frame costs more than
the conversion). ``max_size`` gives a smaller picture for small views and thumbnails: it is scaled in
YUV first, then converted, which keeps swscale on its fast path. Views that crop one split-screen file
share one ``VideoDecoder`` (one decode, one conversion) through ``CropDecoder`` handles that slice
their rectangle out of the shared frame without copying.

Errors never escape the thread: they become ``decoder.error`` (a ``MediaError`` naming the file and the
frame), error callbacks, and failed ``get_frame`` calls; the thread keeps serving whatever still decodes,
so a truncated file plays up to where it breaks.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.errors import MediaError
from dyadlab.core.media.av_errors import av_reason
from dyadlab.core.media.callbacks import CallbackList
from dyadlab.core.media.crop import clamp_crop
from dyadlab.core.media.frame_cache import DEFAULT_CACHE_BYTES, FrameCache
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.proxy import seek_cost
from dyadlab.core.model import CropRect

log = logging.getLogger(__name__)

FrameCallback = Callable[[int, np.ndarray], None]
ErrorCallback = Callable[[MediaError], None]
Size = tuple[int, int]  # (width, height)

DEFAULT_READAHEAD = 8
DEFAULT_SEEK_CODECS = 4
SEQUENTIAL_WINDOW = 16  # decode on rather than seek when the target is at most this many frames ahead
_MAX_SEEK_RETRIES = 3


def fit_size(width: int, height: int, max_size: Size | None) -> Size:
    """The largest size with the aspect ratio of ``width``×``height`` fitting in ``max_size`` (never upscaled)."""
    if max_size is None or (width <= max_size[0] and height <= max_size[1]):
        return width, height
    scale = min(max_size[0] / width, max_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(eq=False)
class _Waiter:
    """A blocking ``get_frame`` call waiting for the thread (its own client: never superseded)."""

    event: threading.Event = field(default_factory=threading.Event)
    image: np.ndarray | None = None
    error: MediaError | None = None


# Blocking get_frame calls share this bookkeeping client: reading frames in order with get_frame gets
# read-ahead like playback does (analysis loops), while each call still waits for its own frame; random
# get_frame calls (seeks) do not trigger read-ahead.
_SYNC_CLIENT = object()


class _FrameFailed(Exception):
    """Internal: the thread could not produce a frame (the message names why)."""


class VideoDecoder:
    """One decoding thread for one video file (or its proxy), serving RGB frames by frame number.

    ``index`` must be the FrameIndex of the file decoded (``decode_path``, default ``path``). A proxy
    has the same frame timestamps as its source, so frame numbers are the same whichever is decoded.
    Methods may be called from any thread; callbacks run on the decoder thread (adapt them to Qt with
    a queued signal) and must not block.
    """

    def __init__(self, path: str | Path, index: FrameIndex, *, decode_path: str | Path | None = None,
                 cache: FrameCache | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 readahead: int = DEFAULT_READAHEAD, max_size: Size | None = None, thread_type: str = "AUTO",
                 convert_threads: int = 0, interpolation: str = "AREA",
                 seek_thread_type: str | None = "SLICE", seek_codecs: int = DEFAULT_SEEK_CODECS) -> None:
        self.path = Path(path)
        self.decode_path = Path(decode_path) if decode_path is not None else self.path
        self.index = index
        self.cache = cache if cache is not None else FrameCache(cache_bytes)
        self.readahead = max(0, int(readahead))
        self.max_size = max_size
        self.thread_type = thread_type
        # Far seeks (the target well past its keyframe) are latency-bound: a chain of reference frames
        # decoded one after another, where frame threads only add hand-offs (bench/media.py: slice
        # threading 1.41x faster). They run on a second demuxer + codec opened with this thread type
        # (None: the same one); decoding on after such a seek stays on it until the next seek. Slice
        # threads split a picture only into the slices it was coded with: H.264 from the ffmpeg CLI
        # (x264 frame threads) has one, where this codec decodes on one core, still at less CPU than
        # frame threads (bench/media.py, one-slice rows).
        self.seek_thread_type = (seek_thread_type or thread_type).upper()
        # Up to this many codecs of the far-seek thread type stay open, each parked where it stopped; a
        # seek goes on from one parked earlier in the target's GOP instead of from the keyframe.
        self.seek_codecs = max(1, int(seek_codecs))
        self.convert_threads = convert_threads
        self.interpolation = interpolation
        self.error: MediaError | None = None
        # approximate counters for tests and benchmarks
        self.stats = {"decoded": 0, "converted": 0, "seeks": 0, "cache_hits": 0, "delivered": 0, "dropped": 0}
        self._fatal: MediaError | None = None
        self._cond = threading.Condition()
        self._pending: dict[Hashable, tuple[int, Size]] = {}
        self._served: dict[Hashable, tuple[int, Size]] = {}
        self._direction: dict[Hashable, int] = {}
        self._waiters: set[_Waiter] = set()
        self._plan: tuple[int, int, Size] | None = None  # read-ahead: (frame, direction, size)
        self._in_progress: tuple[tuple[int, Size], list[Hashable]] | None = None
        self._frame_subs = CallbackList()
        self._error_subs = CallbackList()
        self._closed = False
        # decoding state, touched only by the thread
        self._cursor: _Cursor | None = None  # the codec decoding now
        self._cursors: list[_Cursor] = []  # every open codec, the active one included
        self._uses = 0
        self._converters: dict[Size, _Converter] = {}
        self._thread = threading.Thread(target=self._run, name=f"decoder:{self.path.name}", daemon=True)
        self._thread.start()

    # --- construction helpers ------------------------------------------------------------------
    @classmethod
    def for_file(cls, path: str | Path, *, index_cache_dir: str | Path | None = None,
                 proxy_dir: str | Path | None = None, **options) -> VideoDecoder:
        """Index ``path`` (cached in ``index_cache_dir``) and decode it, or its valid proxy in ``proxy_dir``.

        Raises MediaError when the file is missing or has no readable video.
        """
        cost = seek_cost(path, proxy_dir, index_cache_dir)
        if cost.proxy is not None and cost.proxy_index is not None:  # the source's problem still holds
            index = replace(cost.proxy_index, problem=cost.index.problem)
            return cls(path, index, decode_path=cost.proxy, **options)
        return cls(path, cost.index, **options)

    # --- public API ----------------------------------------------------------------------------
    @property
    def source_size(self) -> Size:
        return self.index.width, self.index.height

    def output_size(self, max_size: Size | None = None) -> Size:
        """Size of the frames delivered for ``max_size`` (the decoder's default when None)."""
        return fit_size(self.index.width, self.index.height, max_size or self.max_size)

    @property
    def using_proxy(self) -> bool:
        return self.decode_path != self.path

    @property
    def active_thread_type(self) -> str | None:
        """Thread type of the codec that decoded last ("SLICE" after a far seek by default); None before."""
        return self._cursor.thread_type if self._cursor is not None else None

    @property
    def open_codecs(self) -> int:
        """How many codecs (each with its own demuxer and decode position) the thread holds open."""
        return len(self._cursors)

    def request(self, frame_no: int, *, client: Hashable = None, max_size: Size | None = None) -> None:
        """Ask for frame ``frame_no``; returns at once. The frame arrives through ``subscribe`` callbacks.

        A newer request from the same ``client`` supersedes one not yet served (it is dropped). Asking
        again for the frame last delivered to that client does nothing.
        """
        key = (self._check(frame_no), self.output_size(max_size))
        with self._cond:
            if self._closed or self._fatal is not None:
                return
            if self._pending.get(client) == key:
                return
            if client not in self._pending and (self._served.get(client) == key or (
                    self._in_progress is not None and self._in_progress[0] == key and client in self._in_progress[1])):
                return
            if client in self._pending:
                self.stats["dropped"] += 1
            self._pending[client] = key
            self._cond.notify()

    def get_frame(self, frame_no: int, *, timeout: float | None = 10.0, max_size: Size | None = None) -> np.ndarray:
        """Frame ``frame_no`` as a read-only RGB array (H, W, 3), waiting for the thread if needed.

        Raises MediaError when the frame cannot be decoded, TimeoutError when ``timeout`` passes.
        """
        key = (self._check(frame_no), self.output_size(max_size))
        cached = self.cache.get(self._cache_key(*key))
        if cached is not None:
            return cached
        waiter = _Waiter()
        with self._cond:
            if self._fatal is not None:
                raise self._fatal
            if self._closed:
                raise MediaError("the decoder is closed", path=self.path)
            self._waiters.add(waiter)
            self._pending[waiter] = key
            self._cond.notify()
        if not waiter.event.wait(timeout):
            with self._cond:
                self._waiters.discard(waiter)
                self._pending.pop(waiter, None)
            raise TimeoutError(f"{self.path}: frame {frame_no} not decoded within {timeout} s")
        if waiter.error is not None:
            raise waiter.error
        assert waiter.image is not None
        return waiter.image

    def get_thumbnail(self, frame_no: int, max_size: Size = (160, 120), *, timeout: float | None = 10.0) -> np.ndarray:
        """A small RGB frame (scaled during colour conversion: far cheaper than a full frame)."""
        return self.get_frame(frame_no, timeout=timeout, max_size=max_size)

    def peek(self, frame_no: int, *, max_size: Size | None = None) -> np.ndarray | None:
        """The frame if it is in the cache now, else None (never waits, never decodes)."""
        return self.cache.get(self._cache_key(frame_no, self.output_size(max_size)))

    def subscribe(self, callback: FrameCallback) -> Callable[[], None]:
        """Call ``callback(frame_no, rgb)`` for every requested frame delivered; returns an unsubscribe."""
        return self._frame_subs.add(callback)

    def subscribe_error(self, callback: ErrorCallback) -> Callable[[], None]:
        """Call ``callback(MediaError)`` whenever decoding fails; returns an unsubscribe function."""
        return self._error_subs.add(callback)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread and release the file; pending ``get_frame`` calls fail. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._fail_waiters(MediaError("the decoder was closed", path=self.path))

    def __enter__(self) -> VideoDecoder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- helpers used from the caller's side ---------------------------------------------------------
    def _check(self, frame_no: int) -> int:
        n = int(frame_no)
        if not 0 <= n < len(self.index):
            raise IndexError(f"{self.path}: frame {n} outside 0..{len(self.index) - 1}")
        return n

    @staticmethod
    def _cache_key(frame_no: int, size: Size) -> tuple[int, int, int]:
        return frame_no, size[0], size[1]

    # --- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._open()
        except MediaError as exc:
            self._fatal = exc
            self._report(exc)
            self._fail_waiters(exc)
        while True:
            with self._cond:
                while not self._closed and not self._pending and (self._plan is None or self._fatal):
                    self._cond.wait()
                if self._closed:
                    break
                batch, self._pending = self._pending, {}
                plan, self._plan = (None, None) if batch else (self._plan, None)
            try:
                if self._fatal is not None:
                    self._fail_waiters(self._fatal)
                elif batch:
                    self._serve(batch)
                elif plan is not None:
                    self._read_ahead(*plan)
            except Exception as exc:  # the thread must survive anything (a bug included)
                log.exception("decoder thread error")
                self._report(MediaError(f"decoding failed: {av_reason(exc)}", path=self.path))
        self._close_container()

    def _open(self) -> None:
        self._cursor = self._open_cursor(self.thread_type)
        self._cursor.packets = self._cursor.container.demux(self._cursor.stream)

    def _open_cursor(self, thread_type: str) -> _Cursor:
        """A new demuxer + codec with ``thread_type`` on the decoded file, at its start (kept open)."""
        import av

        container = None
        try:
            container = av.open(str(self.decode_path))
            stream = container.streams.video[0]
            if stream.codec_context is None:
                raise MediaError("the video codec is unknown or its header is damaged", path=self.decode_path)
            stream.thread_type = thread_type
        except (av.error.FFmpegError, OSError, IndexError, ValueError) as exc:
            if container is not None:
                container.close()
            raise MediaError(f"cannot open the video for decoding: {av_reason(exc)}", path=self.decode_path) from exc
        cursor = _Cursor(container, stream, thread_type.upper())
        self._cursors.append(cursor)
        return cursor

    def _seek_cursor(self, thread_type: str) -> _Cursor:
        """The codec with ``thread_type`` to seek with: a new one while fewer than allowed are open, else
        the least recently used (the active codec when no second one can be opened)."""
        thread_type = thread_type.upper()
        same = [c for c in self._cursors if c.thread_type == thread_type]
        allowed = self.seek_codecs if thread_type == self.seek_thread_type else 1
        if len(same) < allowed:
            try:
                return self._open_cursor(thread_type)
            except MediaError as exc:  # the file opened once: keep decoding with the codecs we have
                log.debug("%s: no further decoder (%s)", self.decode_path, exc)
        if not same:
            assert self._cursor is not None
            return self._cursor
        return min(same, key=lambda c: c.used)

    def _parked_before(self, target: int) -> _Cursor | None:
        """The open codec that reaches ``target`` soonest by decoding on (None: every one must seek).

        A long way on (more than SEQUENTIAL_WINDOW pictures) is a far seek's work: only codecs of the far
        seek thread type take it; on another, the pictures cost more than the keyframe a seek adds."""
        able = [c for c in self._cursors if self._can_go_on(c, target)
                and (c.thread_type == self.seek_thread_type or target - c.next <= SEQUENTIAL_WINDOW)]
        return max(able, key=lambda c: (c.next, c is self._cursor)) if able else None

    def _close_container(self) -> None:
        for cursor in self._cursors:
            cursor.packets = None
            cursor.ready.clear()
            with contextlib.suppress(Exception):
                cursor.container.close()
        self._cursors.clear()
        self._cursor = None

    def _serve(self, batch: dict[Hashable, tuple[int, Size]]) -> None:
        by_key: dict[tuple[int, Size], list[Hashable]] = {}
        for client, key in batch.items():
            by_key.setdefault(key, []).append(client)
        last: tuple[tuple[int, Size], Hashable] | None = None
        for key in sorted(by_key, key=lambda k: k[0]):
            clients = by_key[key]
            waiting = [c for c in clients if isinstance(c, _Waiter)]

            def superseded(clients=clients, waiting=waiting, key=key) -> bool:
                return self._closed or (not waiting and all(self._pending.get(c, key) != key for c in clients))

            if superseded():
                self.stats["dropped"] += 1
                continue
            self._in_progress = key, clients
            try:
                image = self._produce(key[0], key[1], superseded)
            except _FrameFailed as exc:
                self._frame_failed(key[0], str(exc), waiting)
                continue
            finally:
                self._in_progress = None
            if image is None:  # superseded while decoding
                self.stats["dropped"] += 1
                continue
            previous_sync = self._served.get(_SYNC_CLIENT)
            self._deliver(key, clients, waiting, image)
            viewers = [c for c in clients if not isinstance(c, _Waiter)]
            if viewers:
                last = (key, viewers[-1])
            elif previous_sync is not None and 0 < abs(key[0] - previous_sync[0]) <= max(self.readahead, 1):
                last = (key, _SYNC_CLIENT)  # get_frame in (near) order: read ahead; random access: don't
        if last is not None and self.readahead:
            (frame_no, size), client = last
            with self._cond:
                self._plan = (frame_no, self._direction.get(client, 1), size)

    def _deliver(self, key: tuple[int, Size], clients: list[Hashable], waiting: list[_Waiter],
                 image: np.ndarray) -> None:
        with self._cond:
            for c in {_SYNC_CLIENT if isinstance(c, _Waiter) else c for c in clients}:
                previous = self._served.get(c)
                if previous is not None and previous[0] != key[0]:
                    self._direction[c] = 1 if key[0] > previous[0] else -1
                self._served[c] = key
            for w in waiting:
                self._waiters.discard(w)
        for w in waiting:
            w.image = image
            w.event.set()
        if len(waiting) < len(clients):
            self.stats["delivered"] += 1
            self._frame_subs.emit(key[0], image)

    def _frame_failed(self, frame_no: int, reason: str, waiting: list[_Waiter]) -> None:
        t = self.index.time_of(frame_no) / 1e6
        err = MediaError(f"frame {frame_no} (at {t:.3f} s of the file) cannot be decoded: {reason}",
                         path=self.path)
        with self._cond:
            for w in waiting:
                self._waiters.discard(w)
        for w in waiting:
            w.error = err
            w.event.set()
        self._report(err)

    def _report(self, err: MediaError) -> None:
        self.error = err
        self._error_subs.emit(err)

    def _fail_waiters(self, err: MediaError) -> None:
        with self._cond:
            waiting, self._waiters = list(self._waiters), set()
            for w in waiting:
                self._pending.pop(w, None)
        for w in waiting:
            w.error = err
            w.event.set()

    # --- producing frames ------------------------------------------------------------------------
    def _produce(self, frame_no: int, size: Size, abort: Callable[[], bool]) -> np.ndarray | None:
        cached = self.cache.get(self._cache_key(frame_no, size))
        if cached is not None:
            self.stats["cache_hits"] += 1
            return cached
        frame = self._decode_to(frame_no, frozenset(), size, abort)
        return None if frame is None else self._store(frame_no, frame, size)

    def _store(self, frame_no: int, frame, size: Size) -> np.ndarray:
        import av

        converter = self._converters.get(size)
        if converter is None:
            if len(self._converters) >= 4:  # a few sizes at a time (view, thumbnails)
                self._converters.pop(next(iter(self._converters)))
            converter = self._converters[size] = _Converter(size, self.interpolation, self.convert_threads)
        try:
            image = converter.convert(frame)
        except (av.error.FFmpegError, ValueError) as exc:  # a damaged picture (odd size or format)
            raise _FrameFailed(f"its picture cannot be converted to RGB ({av_reason(exc)})") from exc
        self.stats["converted"] += 1
        return self.cache.put(self._cache_key(frame_no, size), image)

    def _read_ahead(self, frame_no: int, direction: int, size: Size) -> None:
        if direction >= 0:
            wanted = range(frame_no + 1, min(frame_no + self.readahead, len(self.index) - 1) + 1)
        else:
            wanted = range(max(0, frame_no - self.readahead), frame_no)
        missing = frozenset(i for i in wanted if self._cache_key(i, size) not in self.cache)
        if not missing:
            return
        last = max(missing)
        try:
            frame = self._decode_to(last, missing, size, lambda: self._closed or bool(self._pending))
            if frame is not None:
                self._store(last, frame, size)
        except _FrameFailed as exc:
            self._frame_failed(last, str(exc), [])

    def _can_go_on(self, cursor: _Cursor, target: int) -> bool:
        """Whether ``cursor`` reaches ``target`` by decoding on, no dearer than a seek."""
        nxt = cursor.next
        if (nxt is None or target < nxt or cursor.packets is None
                or int(self.index.raw_pts[target]) in cursor.skipped):
            return False
        return target - nxt <= SEQUENTIAL_WINDOW or self.index.keyframe_before(target) <= nxt

    def _seek(self, frame_no: int) -> None:
        """Position the active demuxer at the keyframe at or before ``frame_no`` (its codec is flushed)."""
        import av

        cur = self._cursor
        self.stats["seeks"] += 1
        try:
            cur.container.seek(int(self.index.raw_pts[frame_no]), stream=cur.stream, backward=True)
        except (av.error.FFmpegError, OSError) as exc:
            raise _FrameFailed(f"seek failed ({av_reason(exc)})") from exc
        cur.ready.clear()
        cur.packets = cur.container.demux(cur.stream)
        cur.next = None
        cur.eof_reason = None
        cur.skipped.clear()

    def _decode_to(self, target: int, keep: frozenset[int], size: Size, abort: Callable[[], bool]):
        """Decode until frame ``target`` comes out and return it (an av.VideoFrame); None if aborted.

        Frames in ``keep`` met on the way are converted into the cache. Raises _FrameFailed.
        """
        start = min(keep | {target})
        attempt = 0
        drain_at = None
        seek_from = None
        nearest = self._parked_before(start)
        if nearest is not None:
            self._cursor = nearest
        else:
            seek_from = self.index.keyframe_before(start)
            far = target - seek_from > SEQUENTIAL_WINDOW
            self._cursor = self._seek_cursor(self.seek_thread_type if far else self.thread_type)
            self._seek(seek_from)
            if not keep and (target + 1 >= len(self.index) or self.index.keyframe_before(target + 1) == target + 1):
                # a random access whose next frame is a keyframe (always, in an all-intra proxy): drain
                # the codec after the target's packet instead of waiting for frame threads to fill up
                drain_at = int(self.index.raw_pts[target])
        self._uses += 1
        self._cursor.used = self._uses
        skip_before = int(self.index.raw_pts[start])
        while True:
            frame = self._next_frame(skip_before, drain_at)
            if frame is None:
                self._cursor.next = None
                if self.index.problem:
                    raise _FrameFailed(f"the file ends before it ({self.index.problem})")
                raise _FrameFailed(self._cursor.eof_reason or "the file ends before it (no picture came out for it)")
            i = self._frame_number(frame)
            if i is None:
                continue
            if seek_from is not None and self._cursor.next is None and i > start:
                # landed after the frame we need (imprecise container seek): start earlier
                attempt += 1
                if attempt > _MAX_SEEK_RETRIES or seek_from == 0:
                    raise _FrameFailed("seeking lands after it")
                seek_from = self.index.keyframe_before(max(seek_from - 1, 0)) if attempt < _MAX_SEEK_RETRIES else 0
                self._seek(seek_from)
                continue
            self._cursor.next = i + 1
            if i == len(self.index) - 1 and self.index.problem:
                # the last readable frame of a damaged file: it plays, and the user learns why it ends here
                self._report(MediaError(f"playback ends at frame {i}: {self.index.problem}", path=self.path))
            if i == target:
                return frame
            if i > target:
                raise _FrameFailed(self._cursor.eof_reason or "no picture came out for it: the data around it is corrupt")
            if i in keep:
                self._store(i, frame, size)
            if abort():
                return None

    def _next_frame(self, skip_before: int | None = None, drain_at: int | None = None):
        """Next decoded frame in presentation order, or None at the end of the readable data.

        Non-reference frames shown before pts ``skip_before`` are skipped inside the codec (a seek
        needs only the references on the way to its target). After the packet with pts ``drain_at``
        the codec is drained, so that frame comes out at once; decoding on then needs a seek.
        """
        import av

        cur = self._cursor
        ctx = cur.stream.codec_context
        while not cur.ready:
            try:
                packet = next(cur.packets) if cur.packets is not None else None
            except StopIteration:
                packet = None
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                cur.eof_reason = f"the file cannot be read past here ({av_reason(exc)}): truncated or corrupt"
                packet = None
            if packet is None:
                cur.packets = None
                return None
            if packet.size:
                skip = skip_before is not None and packet.pts is not None and packet.pts < skip_before
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                if skip:
                    cur.skipped.add(packet.pts)
            try:
                cur.ready.extend(packet.decode())
                if drain_at is not None and packet.pts == drain_at and not cur.ready:
                    cur.ready.extend(ctx.decode(None))
                    cur.packets = None
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                cur.eof_reason = f"the data around it is corrupt ({av_reason(exc)})"
                log.debug("%s: decode error: %s", self.decode_path, exc)
        self.stats["decoded"] += 1
        return cur.ready.popleft()

    def _frame_number(self, frame) -> int | None:
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None:
            return self._cursor.next
        return self.index.frame_of_pts(int(pts))


@dataclass(eq=False)
class _Cursor:
    """One demuxer + codec and where it stands in the file: a decode position that can be gone on from.

    Why several: a codec's state (its reference pictures) cannot be copied out, so the only way to keep
    a position is to keep the codec. A seek back into a GOP whose earlier part a parked codec stands in
    decodes on from there instead of from the keyframe.
    """

    container: Any
    stream: Any
    thread_type: str
    packets: Iterator | None = None
    ready: deque = field(default_factory=deque)
    next: int | None = 0  # frame number this codec produces next, None when unknown
    eof_reason: str | None = None
    skipped: set[int] = field(default_factory=set)  # pts of packets sent with skip_frame=NONREF since its seek
    used: int = 0  # when it last decoded (a counter): the least recently used one seeks


class _Converter:
    """Decoded picture → RGB array of one output size, with swscale contexts kept between frames.

    Scaling and YUV→RGB in one swscale pass misses its fast unscaled path (about 4× the CPU of a
    full-size conversion at 720p → 360p), so a smaller output is scaled in YUV first, then converted.
    """

    def __init__(self, size: Size, interpolation: str, threads: int) -> None:
        from av.video.reformatter import VideoReformatter

        self.size = size
        self.interpolation = interpolation
        self.threads = threads
        self._scale = VideoReformatter()
        self._rgb = VideoReformatter()

    def convert(self, frame) -> np.ndarray:
        w, h = self.size
        if (frame.width, frame.height) == (w, h):
            return self._rgb.reformat(frame, format="rgb24", threads=self.threads).to_ndarray()
        if not frame.format.name.startswith("yuv"):  # other layouts: scale and convert in one pass
            return self._rgb.reformat(frame, w, h, format="rgb24", interpolation=self.interpolation,
                                      threads=self.threads).to_ndarray()
        small = self._scale.reformat(frame, w, h, format=frame.format.name, interpolation=self.interpolation,
                                     threads=self.threads)
        return self._rgb.reformat(small, format="rgb24", threads=self.threads).to_ndarray()


class CropDecoder:
    """One view's handle on a (possibly shared) VideoDecoder: its own requests and its crop rectangle.

    Two participant views cropping halves of one split-screen file each hold a CropDecoder on the same
    VideoDecoder: the frame is decoded and converted once, each view gets a zero-copy slice. Frame
    numbers, callbacks and errors are the shared decoder's.
    """

    def __init__(self, decoder: VideoDecoder, crop: CropRect | None = None) -> None:
        self.decoder = decoder
        self.crop = crop
        self._rect = clamp_crop(crop, decoder.index.width, decoder.index.height, decoder.path)
        self._wanted: tuple[int, Size] | None = None  # (frame, full-frame output size) last requested
        self._subs = CallbackList()
        self._unsubscribe = decoder.subscribe(self._on_frame)

    @property
    def index(self) -> FrameIndex:
        return self.decoder.index

    @property
    def error(self) -> MediaError | None:
        return self.decoder.error

    @property
    def size(self) -> Size:
        """Full-resolution size of this view (the crop's size)."""
        return self._rect[2], self._rect[3]

    def request(self, frame_no: int, *, max_size: Size | None = None) -> None:
        """Non-blocking; the cropped frame arrives via ``subscribe`` (newest request wins)."""
        full_max = self._full_max(max_size)
        self._wanted = int(frame_no), self.decoder.output_size(full_max)
        self.decoder.request(frame_no, client=self, max_size=full_max)

    def get_frame(self, frame_no: int, *, timeout: float | None = 10.0, max_size: Size | None = None) -> np.ndarray:
        """The cropped frame (blocking; see ``VideoDecoder.get_frame``)."""
        return self._slice(self.decoder.get_frame(frame_no, timeout=timeout, max_size=self._full_max(max_size)))

    def get_thumbnail(self, frame_no: int, max_size: Size = (160, 120), *, timeout: float | None = 10.0) -> np.ndarray:
        return self.get_frame(frame_no, timeout=timeout, max_size=max_size)

    def peek(self, frame_no: int, *, max_size: Size | None = None) -> np.ndarray | None:
        image = self.decoder.peek(frame_no, max_size=self._full_max(max_size))
        return None if image is None else self._slice(image)

    def subscribe(self, callback: FrameCallback) -> Callable[[], None]:
        """``callback(frame_no, cropped_rgb)`` for the frames this view requested (decoder thread)."""
        return self._subs.add(callback)

    def subscribe_error(self, callback: ErrorCallback) -> Callable[[], None]:
        return self.decoder.subscribe_error(callback)

    def close(self) -> None:
        """Detach from the shared decoder (which its owner closes)."""
        self._unsubscribe()
        self._subs.clear()

    def _full_max(self, max_size: Size | None) -> Size | None:
        """The full-frame size bound that makes this crop fit ``max_size``."""
        if max_size is None:
            return None
        w, h = self.size
        scale = min(max_size[0] / w, max_size[1] / h, 1.0)
        return (max(1, round(self.decoder.index.width * scale)), max(1, round(self.decoder.index.height * scale)))

    def _slice(self, image: np.ndarray) -> np.ndarray:
        if self.crop is None:
            return image
        sx = image.shape[1] / self.decoder.index.width
        sy = image.shape[0] / self.decoder.index.height
        x, y, w, h = self._rect
        x0, y0 = round(x * sx), round(y * sy)
        x1, y1 = max(x0 + 1, round((x + w) * sx)), max(y0 + 1, round((y + h) * sy))
        return image[y0:y1, x0:x1]

    def _on_frame(self, frame_no: int, image: np.ndarray) -> None:
        if self._wanted != (frame_no, (image.shape[1], image.shape[0])):
            return
        self._subs.emit(frame_no, self._slice(image))

