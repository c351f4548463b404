"""The ruler's labels: round media-player times, never closer than the label gap, at any zoom."""

from __future__ import annotations

import pytest

from dyadlab.app.timeline.time_axis import (
    LABEL_GAP_PX,
    STEPS,
    TimeAxis,
    format_time,
    label_step,
    minor_step,
    ticks,
)
from dyadlab.app.timeline.viewbox import TrackViewBox


@pytest.mark.parametrize("seconds_per_px", [1e-6, 3e-5, 0.0007, 0.01, 0.05, 0.3, 2.0, 40.0])
def test_the_label_step_is_the_finest_that_keeps_labels_apart(seconds_per_px: float) -> None:
    step = label_step(seconds_per_px)
    assert step / seconds_per_px >= LABEL_GAP_PX or step == STEPS[-1]
    finer = [s for s in STEPS if s < step]
    assert not finer or finer[-1] / seconds_per_px < LABEL_GAP_PX
    minor = minor_step(step, seconds_per_px)
    assert minor is None or (step / minor == round(step / minor) and minor < step)


def test_ticks_are_exact_multiples_in_the_range() -> None:
    assert ticks(0.95, 2.05, 0.5) == [1.0, 1.5, 2.0]
    assert [format_time(t, precision=1) for t in ticks(0.25, 0.65, 0.1)] == ["0:00.3", "0:00.4", "0:00.5", "0:00.6"]
    assert ticks(-3.0, 3.0, 2) == [-2, 0, 2]
    assert format_time(3725.5, precision=0) == "1:02:06"


def test_the_axis_labels_follow_its_view(qapp) -> None:
    vb, axis = TrackViewBox(), TimeAxis()
    axis.link_to_view(vb)
    axis.resize(700, 20)
    vb.setXRange(10.0, 20.0, padding=0.0)  # 10 s over 700 px: a label every 1 s
    assert [text for _, text in axis.labels()] == [f"0:{s}" for s in range(10, 21)]
    vb.setXRange(0.0, 600.0, padding=0.0)  # 10 min: every minute
    assert [text for _, text in axis.labels()][:3] == ["0:00", "1:00", "2:00"]
