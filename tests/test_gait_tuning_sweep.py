"""The defaults of the most sensitive gait tuning values sit where the accuracy holds.

bench/gait_tuning_sweep.py scales every value on the simulated runner; on a clean run (1 % landmark
noise, 30 fps) these four move the figures most. For each, the default and a quarter either side
keep contacts, contact times and strike classes right, and the value taken far enough off breaks
them: it matters, and the default is not at the edge of what works.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from appliance.gait.tuning import GAIT_TUNING

_SPEC = importlib.util.spec_from_file_location(
    "gait_tuning_sweep", Path(__file__).resolve().parents[1] / "bench" / "gait_tuning_sweep.py")
sweep = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = sweep  # its dataclass looks its module up there
_SPEC.loader.exec_module(sweep)

RUNNERS = {name: sweep.RUNNERS[name] for name in ("rearfoot 14°", "forefoot -8° +500°/s")}
SECONDS = 20.0
# (value, a scale far enough off to break the accuracy, on which runner): from the sweep.
SENSITIVE = [
    ("belt.low_quantile", 0.5, "rearfoot 14°"),  # stance samples too few: contacts missed
    ("belt.stance_band", 5.0, "rearfoot 14°"),  # swing samples taken for stance: contacts missed
    ("tracker.noise_multiplier", 3.0, "forefoot -8° +500°/s"),  # contact height too high: read late, flatter
    ("landing.event_fit_s", 3.0, "forefoot -8° +500°/s"),  # the descent fit reaches into the swing
]


def holds(a) -> bool:
    """The tracker's accuracy on a clean simulated run: contacts within 0.7 frames, contact times
    within 0.6 frames (medians), strike class right in 85 % of steps, at most 2 % missed or extra."""
    return (a.ic_error_frames <= 0.7 and a.contact_error_frames <= 0.6 and a.strike_agreement >= 85.0
            and a.missed + a.extra <= 2.0)


def _accuracy(path: str | None, scale: float, runner: str):
    tuning = GAIT_TUNING if path is None else GAIT_TUNING.replaced(path, GAIT_TUNING.value(path) * scale)
    return sweep.accuracy(tuning, RUNNERS[runner], 30.0, SECONDS)


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_the_defaults_hold(runner):
    assert holds(_accuracy(None, 1.0, runner))


@pytest.mark.parametrize(("path", "far", "breaks_on"), SENSITIVE)
def test_a_sensitive_value_holds_near_its_default_and_breaks_far_off(path, far, breaks_on):
    for scale in (0.75, 1.25):
        for runner in RUNNERS:
            assert holds(_accuracy(path, scale, runner)), f"{path} x{scale} on {runner}"
    assert not holds(_accuracy(path, far, breaks_on)), f"{path} x{far} does not matter on {breaks_on}"
