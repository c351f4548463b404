"""Check boxes must be visible in both themes: an unchecked box's outline stands out from what is around it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QListWidget, QListWidgetItem

from dyadlab.app import theme


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).astype(int)


def _contrast(pixels: np.ndarray, rows: slice, cols: slice) -> int:
    """The largest difference between any pixel of the box region and the region's most common colour."""
    region = pixels[rows, cols].reshape(-1, 3)
    colours, counts = np.unique(region, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    return int(np.abs(region - background).max())


@pytest.mark.parametrize("name", ["dark", "light"])
def test_an_unchecked_box_is_visible_alone_and_in_a_check_list(qapp, qtbot, name):
    try:
        theme.apply(name, qapp)
        box = QCheckBox("")
        qtbot.addWidget(box)
        box.resize(24, 24)
        box.show()
        assert _contrast(_pixels(box), slice(0, 24), slice(0, 24)) >= 40

        checks = QListWidget()
        qtbot.addWidget(checks)
        item = QListWidgetItem("")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        checks.addItem(item)
        checks.resize(120, 60)
        checks.show()
        rect = checks.visualItemRect(item)
        top = checks.viewport().mapTo(checks, rect.topLeft())
        rows, cols = slice(top.y(), top.y() + rect.height()), slice(top.x(), top.x() + 24)
        assert _contrast(_pixels(checks), rows, cols) >= 40
    finally:
        theme.apply("dark", qapp)
