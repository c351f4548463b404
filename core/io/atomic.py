"""Writing an exported file so that no reader (ELAN, Praat, a watching script) ever sees half of it.

Exports go to a ``.part`` file beside the target, which is then renamed over it in one step: after a crash
or a full disk the previous export is still there, whole.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, creating its folder; the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
