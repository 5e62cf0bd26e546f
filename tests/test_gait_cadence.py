"""Rolling cadence from contact times: what the panel shows and the coach cues on."""

from __future__ import annotations

import math

import pytest

from appliance.gait.cadence import CadenceEstimator
from appliance.gait.tuning import GAIT_TUNING

MIN_CONTACTS = GAIT_TUNING.rhythm.min_contacts

PERIOD_S = 60.0 / 164.0
FRAME_S = 1.0 / 30.0


def feed(times: list[float]) -> list[float]:
    est = CadenceEstimator()
    return [est.add(t, i % 2)[0] for i, t in enumerate(times)]


def test_no_rolling_cadence_until_enough_contacts_then_the_runners_rate() -> None:
    rolling = feed([i * PERIOD_S for i in range(8)])
    assert all(math.isnan(c) for c in rolling[: MIN_CONTACTS - 1])
    assert rolling[MIN_CONTACTS - 1:] == pytest.approx([164.0] * (8 - MIN_CONTACTS + 1), abs=0.01)


def test_one_contact_a_frame_late_at_30_fps_moves_the_first_value_by_less_than_a_single_interval_would() -> None:
    # A single interval with a one-frame error is ~9 % off; the first rolling value must be well under that.
    times = [i * PERIOD_S for i in range(MIN_CONTACTS)]
    times[1] += FRAME_S
    first = feed(times)[-1]
    assert abs(first / 164.0 - 1) < 0.05
    assert abs(60.0 / (times[1] - times[0]) / 164.0 - 1) > 0.08


def test_a_missed_contact_does_not_halve_the_cadence() -> None:
    times = [i * PERIOD_S for i in range(10) if i != 5]  # the 6th contact was not seen
    tracks = [i % 2 for i in range(10) if i != 5]
    est = CadenceEstimator()
    rolling = [est.add(t, k)[0] for t, k in zip(times, tracks, strict=True)]
    assert rolling[-1] == pytest.approx(164.0, abs=0.5)


def test_a_contact_retimed_after_it_was_added_counts_at_its_new_time() -> None:
    est = CadenceEstimator()
    times = [i * PERIOD_S for i in range(8)]
    for i, t in enumerate(times[:-1]):
        est.add(t, i % 2)
    early = times[-1] - 2 * FRAME_S  # first timed from the height, two frames early
    est.add(early, 1)
    rolling, instant = est.retime(early, times[-1])
    assert instant == pytest.approx(164.0, abs=0.01)
    assert rolling == pytest.approx(164.0, abs=0.01)
    with pytest.raises(ValueError, match="no contact"):
        est.retime(early, times[-1])
