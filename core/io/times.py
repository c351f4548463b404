"""Times and whole numbers read from files, checked once for every reader.

Why one module: a time in a corpus or label file becomes an integer number of microseconds that ends up
in a database column. A damaged file (``1e308``, a 400-digit number, 99999999999999999999 hours) used to
reach float ``inf`` or an integer past 64 bits, and fail deep in the store with ``OverflowError``. Every
reader converts through these helpers instead, so the range lives in one place (``core.model``:
``seconds_to_us`` / ``check_time_us``, ±``MAX_TIME_US``) and a bad value is an ``ImportFormatError``
naming the file, the line and the value, raised before anything is written.
"""

from __future__ import annotations

import math
from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.model import MAX_TIME_SECONDS, TimeRangeError, check_time_us, seconds_to_us

# A person's age in years, as participant metadata gives it: anything outside is a wrong column or unit.
MAX_AGE = 150


def _where(where: str, message: str) -> str:
    return f"{where}: {message}" if where else message


def shown_value(value: float | str) -> str:
    """The value as the message quotes it: cut short when a damaged file holds hundreds of digits."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:16]}… ({len(text)} characters)"


def time_us(seconds: float | str, what: str, *, path: Path, line: int | None = None, where: str = "") -> int:
    """``seconds`` (a number, or the text a file holds) as whole microseconds of session time.

    Raises ``ImportFormatError`` naming ``path``, ``line`` and the value when it is not a number, not
    finite, or outside ±``MAX_TIME_SECONDS``.
    """
    try:
        number = float(seconds)
    except ValueError:
        raise ImportFormatError(_where(where, f"{what} {shown_value(seconds)} is not a number of seconds"), path=path,
                                line=line) from None
    except OverflowError:  # an int too large for a float
        number = math.inf
    try:
        return seconds_to_us(number)
    except TimeRangeError:
        raise ImportFormatError(_where(where, f"{what} {shown_value(seconds)} s is not a usable time"), path=path, line=line,
                                hint=f"times must be finite and within ±{MAX_TIME_SECONDS:g} s") from None


def checked_seconds(text: str, what: str, *, path: Path, line: int | None = None, where: str = "") -> float:
    """``text`` as float seconds, refused (as ``time_us`` does) unless ``seconds_to_us`` can convert it.

    For parsers whose records keep seconds as the file wrote them (IEMOCAP turns and transcript lines).
    """
    time_us(text, what, path=path, line=line, where=where)
    return float(text)


def checked_us(us: int, what: str, *, path: Path, line: int | None = None, where: str = "") -> int:
    """A time already in microseconds (SRT fields, ELAN milliseconds), refused outside ±``MAX_TIME_US``."""
    try:
        return check_time_us(us)
    except TimeRangeError:
        shown = f"{us / 1e6:.6g} s" if abs(us) < 10**300 else f"a {len(str(abs(us)))}-digit number of µs"
        raise ImportFormatError(_where(where, f"{what} {shown} is not a usable time"), path=path, line=line,
                                hint=f"times must be within ±{MAX_TIME_SECONDS:g} s") from None


def whole_number(value: float, what: str, low: int, high: int, *, path: Path, line: int | None = None,
                 where: str = "") -> int:
    """The whole part of ``value`` (an age, a count from metadata) when within ``low``..``high``.

    Truncates as ``int()`` always did here (a spreadsheet's ``23.0`` is 23, an age of 23.7 is 23); NaN,
    infinities and values outside the range are an ``ImportFormatError`` naming the file and line, instead
    of an ``OverflowError`` from the database.
    """
    if not math.isfinite(value) or not low <= int(value) <= high:
        raise ImportFormatError(_where(where, f"{what} {value!r} is not a whole number from {low} to {high}"),
                                path=path, line=line)
    return int(value)
