"""Laying out *now* rather than in a later turn of the event loop.

Emptying a layout: panels that rebuild their contents (palette, rating sliders, timeline rows) must not leave
the old widgets painted until the event loop gets round to deleting them. Settling a window: sizes computed
from the window (default dock proportions, a restored dock state) need the layout passes delivered first.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QLayout

LAYOUT_PASSES = 4  # shows, then nested dock layouts: each pass may post the next one
# queued calls (QLayout shows a new child through one), then the layout passes; not UpdateRequest (paint)
SETTLING_EVENTS = (QEvent.Type.MetaCall, QEvent.Type.LayoutRequest)


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


def settle_layout() -> None:
    """Deliver the posted events that lay the window out, now rather than in the next loop iteration.

    A freshly opened project replaces the central widget and adds a dozen docks; Qt shows each of them
    through a queued call and then settles the layout in several passes, each moving the central area
    and so resizing every timeline track (one pyqtgraph view each, linked to the ruler: a resize
    re-maps the linked ranges). Settling while the tracks are hidden (``laid_out_once``), then
    showing them, sizes each track once instead of ~11 times. Only queued calls (which include
    zero-delay single shots and signals queued from worker threads) and layout requests are
    delivered here: no input, timer events or painting (the caller's event loop paints once).
    """
    app = QApplication.instance()
    for _ in range(LAYOUT_PASSES):
        for kind in SETTLING_EVENTS:
            app.sendPostedEvents(None, kind)
