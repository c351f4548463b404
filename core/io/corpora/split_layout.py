"""Which half of a split-screen recording shows which speaker (IEMOCAP), per corpus session or dialog.

IEMOCAP's videos show both actors side by side, and which side holds the female actor varies between
recording sessions. Users state it in one short string (``--split-layout``)::

    F=left,M=right                                   the default for every dialog
    F=left,M=right;Session2:F=right,M=left          Session2's dialogs swapped
    Session2:F=right;Ses02F_impro01:F=left          a dialog-level entry beats a session-level one

Naming one speaker is enough: the other takes the other half. Each resulting half becomes a
``CropRect`` on the view of that speaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.model import CropRect

DEFAULT_LAYOUT = "F=left,M=right"
SIDES = ("left", "right")
_HINT = "write it like 'F=left,M=right' or 'F=left,M=right;Session2:F=right,M=left'"


@dataclass(frozen=True)
class SplitLayout:
    default: dict[str, str]  # participant code -> "left" | "right"
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # session group or dialog -> sides

    def sides(self, dialog: str, group: str | None) -> dict[str, str]:
        """The sides for one dialog: its own entry, else its session group's, else the default."""
        if dialog in self.overrides:
            return self.overrides[dialog]
        if group is not None and group in self.overrides:
            return self.overrides[group]
        return self.default


def parse_split_layout(text: str | None, codes: tuple[str, str] = ("F", "M")) -> SplitLayout:
    """Parse ``--split-layout`` (None or "" gives the default); raises ImportFormatError when malformed."""
    default = _assignment(DEFAULT_LAYOUT, codes, DEFAULT_LAYOUT)
    overrides: dict[str, dict[str, str]] = {}
    for entry in (e.strip() for e in (text or "").split(";")):
        if not entry:
            continue
        key, sep, assignment = entry.rpartition(":")
        sides = _assignment(assignment, codes, text or "")
        if not sep:
            default = sides
        elif not key.strip():
            raise ImportFormatError(f"split layout {text!r}: empty session name before ':'", hint=_HINT)
        else:
            overrides[key.strip()] = sides
    return SplitLayout(default, overrides)


def _assignment(text: str, codes: tuple[str, str], whole: str) -> dict[str, str]:
    sides: dict[str, str] = {}
    for item in (i.strip() for i in text.split(",")):
        code, eq, side = (x.strip() for x in item.partition("="))
        if not eq or code not in codes or side.lower() not in SIDES:
            raise ImportFormatError(f"split layout {whole!r}: cannot read {item!r} (speakers {', '.join(codes)}, "
                                    f"sides left/right)", hint=_HINT)
        if code in sides:
            raise ImportFormatError(f"split layout {whole!r}: {code} is placed twice", hint=_HINT)
        sides[code] = side.lower()
    if len(sides) == 1:
        (code, side), = sides.items()
        other_code = codes[1] if code == codes[0] else codes[0]
        sides[other_code] = SIDES[1] if side == SIDES[0] else SIDES[0]
    if len(set(sides.values())) != 2:
        raise ImportFormatError(f"split layout {whole!r}: both speakers are on the "
                                f"{next(iter(sides.values()))} half", hint=_HINT)
    return sides


def half_crop(side: str, width: int, height: int) -> CropRect:
    """The left or right half of a ``width`` × ``height`` frame (the right half gets any odd column)."""
    half = width // 2
    return CropRect(0, 0, half, height) if side == "left" else CropRect(half, 0, width - half, height)
