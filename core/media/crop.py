"""Where a view's crop rectangle lies inside its video's picture: one rule for the player and analysis.

Why a module of its own: the player (``core.media.decoder.CropDecoder``) and batch analysis
(``core.features.frames.ViewDecoder``) both cut a participant's half out of a split-screen file. Had
each its own copy of the clamp, a rectangle that plays could fail analysis (or the reverse).
"""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.errors import MediaError
from dyadlab.core.model import CropRect


def clamp_crop(crop: CropRect | None, width: int, height: int,
               path: str | Path | None = None) -> tuple[int, int, int, int]:
    """(x, y, w, h) of ``crop`` cut to a ``width`` × ``height`` picture (the whole picture without crop).

    A rectangle reaching past an edge is cut at it; one with nothing inside the picture is a
    ``MediaError`` naming ``path`` (when given) and the rectangle.
    """
    if crop is None:
        return 0, 0, width, height
    x0, y0 = max(0, crop.x), max(0, crop.y)
    x1, y1 = min(width, crop.x + crop.width), min(height, crop.y + crop.height)
    if x1 <= x0 or y1 <= y0:
        raise MediaError(f"crop {crop.width}x{crop.height}+{crop.x}+{crop.y} lies outside the "
                         f"{width}x{height} picture", path=path, hint="fix the view's crop rectangle")
    return x0, y0, x1 - x0, y1 - y0
