"""Emptying a Qt layout *now*: panels that rebuild their contents (palette, rating sliders, timeline
rows) must not leave the old widgets painted until the event loop gets round to deleting them."""

from __future__ import annotations

from PySide6.QtWidgets import QLayout


def clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())
