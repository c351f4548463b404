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


KNOWN_BUGS: list[KnownBug] = [
    KnownBug("time-infinite", "core/model.py", "seconds_to_us", (OverflowError,),
             "a time of 1e308 s or 309+ digits parses to float inf (EmoEvaluation, transcription, segments "
             "CSV); seconds_to_us(inf) raises OverflowError: parsers check neither finiteness nor range"),
    KnownBug("time-past-int64", "core/store/repositories.py", "_add", (OverflowError,),
             "an integer past 64 bits reaches an INSERT: a finite time past ~9.2e12 s (99999999999999999999 "
             "in an EmoEvaluation/transcription/segments CSV, or as SRT hours) in µs, or a UDIVA AGE of 1e308; "
             "'Python int too large to convert to SQLite INTEGER' escapes Store.transaction as OverflowError "
             "(the transaction is rolled back, so nothing is half-written)"),
    KnownBug("index-sub-us-timebase", "tests/hardening/test_fuzz_media.py", "_check_frame_times", (AssertionError,),
             "a damaged AVI header declaring a time base finer than 1 µs (1/4063257, 1/2147483647) makes "
             "FrameIndex.build return pts_us [0, 1, 1, 1, ...]: not strictly increasing as documented, so "
             "frame_at() never shows frames 2, 3, ...; build should refuse (MediaError) or rescale"),
]


def known_bug(exc: BaseException) -> KnownBug | None:
    """The registry entry ``exc`` is an instance of, or None for a new finding."""
    return next((bug for bug in KNOWN_BUGS if bug.matches(exc)), None)
