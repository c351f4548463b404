"""Continuous ratings (valence, arousal, dominance traced while the video plays) as series.

A rating pass samples the rater's current value at a fixed rate; the samples are stored as a series
of kind ``"trace"`` with one channel (the dimension), ``sample_rate_hz``, ``start_us = 0``, the
dimensional tier it belongs to (``tier_id``) and the annotator. Sample ``i`` is the rating at session
time ``i / sample_rate_hz`` s; NaN means "not rated".
"""

from __future__ import annotations

import math

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.base import EditRefused
from dyadlab.core.edits.series import WriteSeriesFrames
from dyadlab.core.store import Store

TRACE_RATE_HZ = 25.0


def find_trace_series(store: Store, tier: model.Tier) -> model.Series | None:
    with store.transaction() as tx:
        for s in tx.series.list(tier.session_id, kind="trace", participant_id=tier.participant_id):
            if s.tier_id == tier.id:
                return s
    return None


def ensure_trace_series(store: Store, tier: model.Tier, *, rate_hz: float = TRACE_RATE_HZ) -> model.Series:
    """The trace series of a dimensional tier, created (empty) on first use."""
    if tier.kind != "dimensional":
        raise EditRefused(f"tier {tier.name!r} is {tier.kind}; only dimensional tiers take continuous ratings")
    found = find_trace_series(store, tier)
    if found is not None:
        return found
    with store.transaction() as tx:
        return tx.series.add("trace", tier.session_id, tier.name, [tier.name], participant_id=tier.participant_id,
                             tier_id=tier.id, annotator_id=tier.annotator_id, sample_rate_hz=rate_hz,
                             attributes={"scheme_id": tier.scheme_id})


def sample_index(series: model.Series, t_us: int) -> int:
    """Index of the sample covering session time ``t_us`` (floor)."""
    rate = series.sample_rate_hz or TRACE_RATE_HZ
    return max(0, math.floor((t_us - series.start_us) * rate / 1e6 + 1e-9))


def sample_time_us(series: model.Series, i: int) -> int:
    rate = series.sample_rate_hz or TRACE_RATE_HZ
    return series.start_us + round(i * 1e6 / rate)


def write_trace(series: model.Series, first_sample: int, values: np.ndarray, *, annotator_id: int) -> WriteSeriesFrames:
    """An undoable write of rating samples starting at ``first_sample``."""
    return WriteSeriesFrames(series.id, first_sample, np.asarray(values, np.float32).reshape(-1, 1),
                             annotator_id=annotator_id, text=f"Rate {series.name}")


def read_trace(store: Store, series: model.Series) -> tuple[np.ndarray, np.ndarray]:
    """(times in seconds, values) of a whole trace, for drawing."""
    with store.transaction() as tx:
        values = tx.series.read(series.id)[:, 0]
    rate = series.sample_rate_hz or TRACE_RATE_HZ
    return series.start_us / 1e6 + np.arange(len(values)) / rate, values
