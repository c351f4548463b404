"""The spectrogram drawn in an audio track: one ``ImageItem`` per ready tile, placed at its time span.

The layer never computes anything: on each redraw it asks its ``TileSource`` (the participant's share of
``app.spectrograms.SpectrogramLoader``) for the tiles of the visible range at the track's width, shows
those that are ready and drops the items of tiles no longer wanted. Tiles still being computed leave
their place blank; the loader says when they arrive and the track redraws.
"""

from __future__ import annotations

from typing import Protocol

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem

from dyadlab.app.spectrograms import RenderedTile
from dyadlab.core.media.spectrogram import TileKey


class TileSource(Protocol):
    def tiles(self, t0_us: int, t1_us: int, n_px: int) -> list[RenderedTile] | None: ...

    def error(self) -> str | None: ...


class ParticipantTiles:
    """One participant's view of the loader, so a track needs to know nothing of participant ids."""

    def __init__(self, loader, participant_id: int) -> None:
        self.loader, self.participant_id = loader, participant_id

    def tiles(self, t0_us: int, t1_us: int, n_px: int) -> list[RenderedTile] | None:
        return self.loader.tiles(self.participant_id, t0_us, t1_us, n_px)

    def error(self) -> str | None:
        return self.loader.error(self.participant_id)


class SpectrogramLayer:
    """Tile images inside a view box, in the band [y0, y1) of its 0..1 height."""

    Z = -10  # under the waveform and the playhead

    def __init__(self, vb: pg.ViewBox) -> None:
        self.vb = vb
        self.source: TileSource | None = None
        self.items: dict[TileKey, pg.ImageItem] = {}
        self.band = (0.0, 1.0)
        self.visible = False

    def set_source(self, source: TileSource | None) -> None:
        self.source = source
        self.clear()

    def set_band(self, y0: float, y1: float, visible: bool) -> None:
        self.band, self.visible = (y0, y1), visible
        self.clear()  # placed again at the next redraw

    def clear(self) -> None:
        for item in self.items.values():
            self.vb.removeItem(item)
        self.items.clear()

    def redraw(self, x0_s: float, x1_s: float, n_px: int) -> None:
        if not self.visible or self.source is None:
            return
        tiles = self.source.tiles(round(x0_s * 1e6), round(x1_s * 1e6), n_px)
        if tiles is None:
            return
        wanted = {tile.key: tile for tile in tiles}
        for key in [k for k in self.items if k not in wanted]:
            self.vb.removeItem(self.items.pop(key))
        y0, y1 = self.band
        for key, tile in wanted.items():
            if key in self.items:
                continue
            item = pg.ImageItem(tile.rgba, axisOrder="col-major", autoLevels=False)
            item.setRect(QRectF(tile.t0_s, y0, tile.t1_s - tile.t0_s, y1 - y0))
            item.setZValue(self.Z)
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # scaled once per zoom, not per repaint
            self.vb.addItem(item, ignoreBounds=True)
            self.items[key] = item

    def error(self) -> str | None:
        return self.source.error() if self.source is not None else None

    def shown_keys(self) -> list[TileKey]:
        return sorted(self.items, key=lambda k: (k.level, k.index))
