"""The belt line from stance-phase foot positions (appliance/gait/belt.py)."""

from __future__ import annotations

import numpy as np

from appliance.gait.belt import BeltEstimator

LEG_PX = 100.0


def _feed(belt: BeltEstimator, fps: float, seconds: float, stance_y: dict, rng: np.random.Generator) -> None:
    """Two feet over ``seconds`` at ``fps``: a third of the frames on the belt (at ``stance_y``
    [track, 'heel'/'toe'] +- 1.5 px, rounded to whole pixels as a small image's landmarks often
    are), the rest in the air 8-40 px above it."""
    n = int(fps * seconds)
    for i in range(n):
        t = i / fps
        for track in (0, 1):
            on_belt = (i + 5 * track) % 6 < 2
            lift = 0.0 if on_belt else rng.uniform(8.0, 40.0)
            x = rng.uniform(150.0, 300.0)
            heel = np.array([x, round(stance_y[track, "heel"] - lift + (rng.normal(0, 1.5) if on_belt else 0.0))])
            toe = np.array([x + 25.0, round(stance_y[track, "toe"] - lift + (rng.normal(0, 1.5) if on_belt else 0.0))])
            belt.add(t, heel, toe, track)
        belt.update(t, LEG_PX)


def test_levels_from_a_few_seconds_at_30_fps():
    # With few samples the densest cluster of a level can be a handful of identical pixel values,
    # whose spread says nothing about the noise: the fit must still give the line (before: none at
    # all over a 3-second clip at 30 fps of the labelled real runner).
    stance_y = {(0, "heel"): 222.0, (0, "toe"): 230.0, (1, "heel"): 215.0, (1, "toe"): 223.0}
    for seed in range(5):
        belt = BeltEstimator()
        _feed(belt, 30.0, 1.5, stance_y, np.random.default_rng(seed))
        assert belt.line is not None, seed
        for key, y in stance_y.items():
            assert abs(belt.line.intercepts[key] + belt.line.slope * 225.0 - y) <= 2.0, (seed, key, belt.line)


def test_far_foot_keeps_its_own_level():
    # Perspective: the far foot's contact is seen higher in the image; each foot keeps its own level.
    stance_y = {(0, "heel"): 222.0, (0, "toe"): 230.0, (1, "heel"): 212.0, (1, "toe"): 220.0}
    belt = BeltEstimator()
    _feed(belt, 60.0, 4.0, stance_y, np.random.default_rng(7))
    line = belt.line
    assert line is not None
    near = line.height_px(np.array([225.0, 230.0]), "toe", 0)
    far = line.height_px(np.array([225.0, 230.0]), "toe", 1)
    assert abs(near) <= 1.5 and abs(far + 10.0) <= 1.5, (near, far)
