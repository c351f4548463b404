"""The split-screen layout option: defaults, per-session and per-dialog overrides, clear errors."""

from __future__ import annotations

import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.corpora.split_layout import half_crop, parse_split_layout
from dyadlab.core.model import CropRect


def test_default_session_and_dialog_entries() -> None:
    layout = parse_split_layout("F=left,M=right;Session2:F=right;Ses02F_impro01:M=right")
    assert layout.sides("Ses01F_impro01", "Session1") == {"F": "left", "M": "right"}
    assert layout.sides("Ses02M_script01_1", "Session2") == {"F": "right", "M": "left"}
    assert layout.sides("Ses02F_impro01", "Session2") == {"M": "right", "F": "left"}
    assert parse_split_layout(None).sides("x", None) == {"F": "left", "M": "right"}
    assert parse_split_layout("M=left").default == {"M": "left", "F": "right"}


@pytest.mark.parametrize(("text", "message"), [
    ("F=top", "cannot read 'F=top'"),
    ("F=left,M=left", "both speakers are on the left half"),
    ("Session2:X=left", "cannot read 'X=left'"),
    (":F=left", "empty session name"),
    ("F=left,F=right", "F is placed twice"),
])
def test_malformed_layouts_are_refused(text: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        parse_split_layout(text)


def test_halves_of_odd_width_cover_the_frame() -> None:
    assert half_crop("left", 97, 64) == CropRect(0, 0, 48, 64)
    assert half_crop("right", 97, 64) == CropRect(48, 0, 49, 64)
