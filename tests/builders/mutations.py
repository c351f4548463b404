"""File damage shared by the two fuzz suites (``tests/hardening/fuzzing.py`` and
``tests/core/interop/test_label_import_fuzz.py``).

Why here: both damage files line by line the way an editor or a bad merge does (a line lost, pasted twice,
or moved), and each kept its own copy of that code.
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

LineT = TypeVar("LineT", bytes, str)


def edit_lines(draw: st.DrawFn, lines: list[LineT]) -> list[LineT]:
    """Delete, duplicate or swap lines of ``lines`` (a non-empty list, changed in place and returned)."""
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["delete", "duplicate", "swap"]))
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return lines
