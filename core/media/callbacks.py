"""Plain-callback observer lists: how core objects (clock, decoders) tell the GUI that something changed.

``core`` imports no Qt, so instead of signals each observable keeps a ``CallbackList``; the app adapts
a callback to a Qt signal where it needs one. A failing observer is logged and does not stop the others
(one broken overlay must not freeze playback).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class CallbackList:
    """An ordered list of callbacks: ``add`` returns the function that removes it again."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def add(self, callback: Callable[..., Any]) -> Callable[[], None]:
        self._callbacks.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return remove

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:
                log.exception("observer %r failed", callback)

    def clear(self) -> None:
        self._callbacks.clear()

    def __len__(self) -> int:
        return len(self._callbacks)
