"""Laid-out label texts, kept for reuse across paints (the ruler's times, the segments' class names).

``QPainter.drawText`` shapes its string on every call; a timeline repaints its labels on every scroll
step, so each painter keeps one ``QStaticText`` per string it draws and only positions it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStaticText


class StaticTexts:
    """``text -> QStaticText``, laid out once (for ``font`` when given); at most ``limit`` kept."""

    def __init__(self, font: QFont | None = None, limit: int = 512) -> None:
        self.font, self.limit = font, limit
        self._texts: dict[str, QStaticText] = {}

    def __getitem__(self, text: str) -> QStaticText:
        static = self._texts.get(text)
        if static is None:
            if len(self._texts) >= self.limit:  # e.g. a long scroll through the ruler at fine zoom
                self._texts.clear()
            static = self._texts[text] = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            if self.font is not None:
                static.prepare(font=self.font)
        return static
