"""Saving a picture of the window (``dyadlab gui --screenshot``, the docs screenshot, bug reports).

Waits until the views show their frames and the waveforms have loaded, so the picture shows what a
user sees after a moment, then saves an 8-bit palette PNG: the 256 most used colours (at 5 bits per
channel) with every pixel mapped to its nearest one, no dithering — flat UI colours stay exact and
the file is a fraction of a true-colour PNG (Qt's own palette conversion dithers or posterises).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage, qRgb
from PySide6.QtWidgets import QApplication, QWidget


def settle(window: QWidget, timeout_s: float = 8.0) -> None:
    """Process events until every working video view shows a frame (or the timeout passes)."""
    bench = getattr(window, "bench", None)
    deadline = time.monotonic() + timeout_s
    if bench is not None:
        bench.waveforms.wait(timeout_s)
    while time.monotonic() < deadline:
        QApplication.processEvents()
        views = bench.grid.views if bench is not None else []
        if all(v.error or v.shown_frame is not None or v.blank for v in views):
            break
        time.sleep(0.02)
    QApplication.processEvents()


def quantize(image: QImage, n_colors: int = 256) -> QImage:
    """An Indexed8 copy of ``image`` with a palette of its most frequent colours (nearest-colour mapping)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    pixels = np.frombuffer(rgb.constBits(), np.uint8).reshape(h, rgb.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    bins = (pixels >> 3).astype(np.int32)
    code = (bins[..., 0] << 10) | (bins[..., 1] << 5) | bins[..., 2]
    counts = np.bincount(code.ravel(), minlength=1 << 15)
    used = np.flatnonzero(counts)
    palette_codes = used[np.argsort(counts[used])[::-1][:n_colors]]
    # the mean true colour of each palette bin, so flat UI colours come out exact
    sums = np.stack([np.bincount(code.ravel(), weights=pixels[..., c].ravel(), minlength=1 << 15) for c in range(3)], 1)
    palette = np.rint(sums[palette_codes] / counts[palette_codes, None]).astype(np.int32)
    centres = np.stack([(used >> 10) & 31, (used >> 5) & 31, used & 31], 1) * 8 + 4
    nearest = np.full(1 << 15, 0, np.uint8)
    for start in range(0, len(used), 4096):  # bins → nearest palette entry, in chunks
        chunk = centres[start:start + 4096]
        d = ((chunk[:, None, :] - palette[None, :, :]) ** 2).sum(-1)
        nearest[used[start:start + 4096]] = d.argmin(1).astype(np.uint8)
    index = np.ascontiguousarray(nearest[code])
    out = QImage(index.data, w, h, w, QImage.Format.Format_Indexed8).copy()
    out.setColorTable([qRgb(*map(int, c)) for c in palette])
    return out


def save_window(window: QWidget, path: Path, *, colors: bool = True) -> Path:
    settle(window)
    image = window.grab().toImage()
    if colors:
        image = quantize(image)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path), "PNG", 9)
    return path
