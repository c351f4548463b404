"""Bugs this suite found in other modules, reported to their owners and not yet fixed.

Why a registry instead of failing tests: the default suite is what every engineer runs before a change;
a known, reported bug must not hide every *new* finding behind a red run. The fuzzers treat an exception
that matches an entry here as "known" (counted in hypothesis' statistics, not raised), and
``test_known_bugs.py`` keeps one exact reproducer per entry as a strict xfail — so the day a bug is fixed,
that reproducer passes, the strict xfail turns red, and the entry must be deleted from here.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownBug:
    """An uncaught exception escaping ``function`` (defined in a file whose path ends with ``file``)."""

    key: str
    file: str
    function: str
    exceptions: tuple[type[BaseException], ...]
    summary: str

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.exceptions):
            return False
        frames = traceback.extract_tb(exc.__traceback__)
        return any(f.filename.endswith(self.file) and f.name == self.function for f in frames)


KNOWN_BUGS: list[KnownBug] = []  # none open: each fixed bug's reproducer lives on in test_known_bugs.FIXED


def known_bug(exc: BaseException) -> KnownBug | None:
    """The registry entry ``exc`` is an instance of, or None for a new finding."""
    return next((bug for bug in KNOWN_BUGS if bug.matches(exc)), None)
