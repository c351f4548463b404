"""Computes each participant's spectrogram tiles off the GUI thread and keeps the ready ones for the timeline.

A spectrogram costs far more than a waveform (an FFT per 10 ms of audio), so the GUI never computes
one: an audio track asks ``tiles`` for the view it shows and gets the tiles already rendered (RGBA,
from a memory LRU); the missing ones are queued for one worker thread, which builds the participant's
``SpectrogramPyramid`` first (disk-cached under the project cache) and renders tiles through the
colour map, newest request first — a request for another view replaces the older one, as the video
decoders drop superseded frames. Each finished tile comes back through a queued signal and the track
redraws; until then its place stays blank. The worker exits when idle.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from dyadlab.app.waveforms import _deliver
from dyadlab.core.media import spectrogram
from dyadlab.core.media.spectrogram import DYNAMIC_RANGE_DB, BuildCancelled, SpectrogramPyramid, TileKey

CACHE_DIR = "spectrogram"
MEMORY_BYTES = 96 * 2**20  # rendered tiles kept (a tile is 256 × 64 × 4 bytes = 64 KiB)
COLORMAP = "inferno"


@dataclass(frozen=True)
class RenderedTile:
    """A tile ready to blit: ``rgba`` (columns, mel bands, 4) uint8 spanning session seconds [t0_s, t1_s)."""

    key: TileKey
    t0_s: float
    t1_s: float
    rgba: np.ndarray


def render(tile: spectrogram.SpectrogramTile, peak_db: float, lut: np.ndarray) -> RenderedTile:
    """Colour a tile: ``DYNAMIC_RANGE_DB`` below the recording's loudest column up to it, through ``lut``."""
    scaled = (tile.db - (peak_db - DYNAMIC_RANGE_DB)) * ((len(lut) - 1) / DYNAMIC_RANGE_DB)
    index = np.clip(scaled, 0, len(lut) - 1).astype(np.intp)
    return RenderedTile(tile.key, tile.t0_us / 1e6, tile.t1_us / 1e6, np.ascontiguousarray(lut[index]))


class SpectrogramLoader(QObject):
    tiles_arrived = Signal(int)  # participant id: new tiles (or its pyramid) are ready
    failed = Signal(int, str)  # participant id, message
    _delivered = Signal(int, int, object)  # generation, participant id, ("pyramid"|"tile"|"failed", value)

    def __init__(self, memory_bytes: int = MEMORY_BYTES) -> None:
        super().__init__()
        self.lut: np.ndarray | None = None  # the colour map's 256 RGBA entries, read when first needed
        self.memory_bytes = memory_bytes
        self.generation = 0
        self._media: Any = None
        self._lock = threading.Lock()  # guards everything below that the worker reads
        self._pyramids: dict[int, SpectrogramPyramid] = {}
        self._errors: dict[int, str] = {}
        self._builds: list[int] = []  # participants whose pyramid is wanted, not yet built
        self._pending: dict[int, list[TileKey]] = {}  # participant -> tiles wanted for its newest view
        self._thread: threading.Thread | None = None
        self._tiles: OrderedDict[tuple[int, TileKey], RenderedTile] = OrderedDict()  # GUI thread only
        self._tile_bytes = 0
        self._delivered.connect(self._on_delivered)

    # -- GUI thread --------------------------------------------------------------------------------

    def open(self, media: Any) -> None:
        """Serve the spectrograms of ``media``'s participants (None: none); drops what belonged to the old one."""
        with self._lock:
            self.generation += 1
            self._media = media
            self._pyramids.clear()
            self._errors.clear()
            self._builds.clear()
            self._pending.clear()
        self._tiles.clear()
        self._tile_bytes = 0

    def close(self) -> None:
        self.open(None)

    def error(self, participant_id: int) -> str | None:
        with self._lock:
            return self._errors.get(participant_id)

    def tiles(self, participant_id: int, t0_us: int, t1_us: int, n_px: int) -> list[RenderedTile] | None:
        """The ready tiles of [t0, t1) drawn ``n_px`` wide; the missing ones are queued (this view's only).

        None while the participant's spectrogram is not built yet (its build is queued), or has failed.
        """
        if self.lut is None:
            import pyqtgraph as pg

            self.lut = pg.colormap.get(COLORMAP).getLookupTable(0.0, 1.0, 256, alpha=True)
        with self._lock:
            if self._media is None or participant_id in self._errors:
                return None
            pyramid = self._pyramids.get(participant_id)
            if pyramid is None:
                if participant_id not in self._builds:
                    self._builds.append(participant_id)
                    self._start_worker()
                return None
        keys = pyramid.tiles_for(t0_us, t1_us, n_px)
        ready, missing = [], []
        for key in keys:
            tile = self._tiles.get((participant_id, key))
            if tile is None:
                missing.append(key)
            else:
                self._tiles.move_to_end((participant_id, key))
                ready.append(tile)
        with self._lock:
            if missing:
                self._pending[participant_id] = missing
                self._start_worker()
            else:
                self._pending.pop(participant_id, None)
        return ready

    def wait(self, timeout: float = 30.0) -> None:
        """Block until the worker is idle (tests, screenshots); queued deliveries still need the event loop."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _on_delivered(self, generation: int, participant_id: int, outcome: tuple[str, Any]) -> None:
        if generation != self.generation:
            return
        kind, value = outcome
        if kind == "tile":
            self._keep(participant_id, value)
        elif kind == "failed":
            self.failed.emit(participant_id, value)
            return
        self.tiles_arrived.emit(participant_id)

    def _keep(self, participant_id: int, tile: RenderedTile) -> None:
        old = self._tiles.pop((participant_id, tile.key), None)
        if old is not None:
            self._tile_bytes -= old.rgba.nbytes
        self._tiles[(participant_id, tile.key)] = tile
        self._tile_bytes += tile.rgba.nbytes
        while self._tile_bytes > self.memory_bytes and len(self._tiles) > 1:
            _, dropped = self._tiles.popitem(last=False)
            self._tile_bytes -= dropped.rgba.nbytes

    # -- worker ------------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        """Start the worker unless it runs (call with the lock held)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, args=(self.generation,), name="spectrogram",
                                            daemon=True)
            self._thread.start()

    def _work(self, generation: int) -> None:
        # Not niced: a low-priority thread descheduled while it holds the GIL stalls the GUI thread until the
        # scheduler runs it again (priority inversion; seen as 200+ ms gaps on a loaded machine). Its work is
        # small and bounded (one tile at a time, only the tiles of the newest view) and numpy releases the GIL.
        while True:
            with self._lock:
                if generation != self.generation:
                    return
                job = self._next_job()
                if job is None:
                    self._thread = None
                    return
                media, participant_id, key, pyramid = job
            try:
                if key is None:
                    outcome: tuple[str, Any] = self._build(media, participant_id, generation)
                else:
                    outcome = ("tile", render(pyramid.tile(key), pyramid.peak_db, self.lut))
            except BuildCancelled:
                return
            except Exception as exc:  # noqa: BLE001 - shown in the track, never raised
                outcome = ("failed", str(exc))
            with self._lock:
                if generation != self.generation:
                    return
                if outcome[0] == "pyramid":
                    self._pyramids[participant_id] = outcome[1]
                elif outcome[0] == "failed":
                    self._errors[participant_id] = outcome[1]
                    self._pending.pop(participant_id, None)
            _deliver(self, "_delivered", generation, participant_id, outcome)

    def _next_job(self) -> tuple[Any, int, TileKey | None, SpectrogramPyramid | None] | None:
        """A build first (nothing shows without one), then the newest view's tiles in order (lock held)."""
        if self._builds:
            return self._media, self._builds.pop(0), None, None
        for participant_id, keys in list(self._pending.items()):
            if keys:
                key = keys.pop(0)
                return self._media, participant_id, key, self._pyramids[participant_id]
            del self._pending[participant_id]
        return None

    def _build(self, media: Any, participant_id: int, generation: int) -> tuple[str, Any]:
        reader = media.participant_audio(participant_id)
        if reader is None:
            return "failed", "no audio for this participant"
        pyramid = SpectrogramPyramid.build(reader, cache_dir=media.project.cache_dir / CACHE_DIR,
                                           cancelled=lambda: generation != self.generation)
        return "pyramid", pyramid
