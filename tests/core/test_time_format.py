"""Times shown to the user round before they carry into minutes and hours (no 0:60.000)."""

from __future__ import annotations

import pytest

from dyadlab.core.time_format import format_time


@pytest.mark.parametrize(("seconds", "precision", "shown"), [
    (59.9996, 3, "1:00.000"),  # the last frame of a one-minute session used to read 0:60.000
    (59.9994, 3, "0:59.999"),
    (59.96, 1, "1:00.0"),
    (3599.9999, 3, "1:00:00.000"),  # carries through minutes into the hour (was 59:60.000)
    (3599.6, 0, "1:00:00"),
    (7199.9996, 3, "2:00:00.000"),
    (61.05, 2, "1:01.05"),
    (123.456789, 3, "2:03.457"),
    (3725.5, 0, "1:02:06"),
    (0.0, 3, "0:00.000"),
    (-1.25, 3, "-0:01.250"),
    (-59.9996, 3, "-1:00.000"),
    (-0.0004, 3, "0:00.000"),  # rounds to zero: no minus sign in front of it
])
def test_rounding_carries_into_minutes_and_hours(seconds: float, precision: int, shown: str) -> None:
    assert format_time(seconds, precision=precision) == shown
