"""Foot identity at high frame rates: a track that accepted a wrong position recovers the foot."""

from __future__ import annotations

import numpy as np

from appliance.gait.identity import FootIdentity
from appliance.gait.tuning import GAIT_TUNING

REACQUIRE = GAIT_TUNING.identity.reacquire_observations

LEG_PX = 100.0
FPS = 240.0


def leg(heel_x: float, heel_y: float) -> tuple[np.ndarray, np.ndarray]:
    """A leg (hip, knee, ankle, heel, toe) whose foot sits at the given heel position."""
    pts = np.array([[heel_x, 100.0], [heel_x + 5, 150.0], [heel_x + 5, 195.0], [heel_x, heel_y], [heel_x + 28, heel_y + 3]])
    return pts, np.ones(5)


def test_a_track_that_took_a_hallucinated_foot_recovers_within_a_few_frames():
    ident = FootIdentity()
    t = 0.0
    near_x, far_x = 200.0, 300.0
    for _ in range(20):  # both feet seen normally, the near one carried back by the belt
        t += 1 / FPS
        near_x -= 0.8
        out = ident.assign(t, {"left": leg(near_x, 230.0), "right": leg(far_x, 225.0)}, LEG_PX)
        assert all(o.observed for o in out)
    far_track = next(k for k in (0, 1) if ident.tracks[k].pos[3, 0] > 250)
    # The model puts the far foot 10 px up for a few frames at a time (each a plausible move), so the
    # track follows it up onto the console, 90 px above the foot...
    for y in np.arange(215.0, 134.0, -10.0):
        t += 1 / FPS
        ident.assign(t, {"left": leg(near_x, 230.0), "right": leg(far_x, y)}, LEG_PX)
    # ...then finds the real foot again: rejected as a jump at first, taken back once it is seen
    # steadily, long before the track's coasting limit would have reset it.
    seen = []
    for _ in range(REACQUIRE + 2):
        t += 1 / FPS
        out = ident.assign(t, {"left": leg(near_x, 230.0), "right": leg(far_x, 225.0)}, LEG_PX)
        seen.append(out[far_track].observed)
    assert not seen[0]
    assert seen[REACQUIRE - 1:] == [True] * 3
    assert ident.tracks[far_track].pos[2, 1] == 225.0  # its heel (knee, ankle, heel, toe)


def test_a_single_wild_observation_is_still_rejected():
    ident = FootIdentity()
    t = 0.0
    for _ in range(10):
        t += 1 / FPS
        ident.assign(t, {"left": leg(200.0, 230.0), "right": leg(300.0, 225.0)}, LEG_PX)
    t += 1 / FPS
    out = ident.assign(t, {"left": leg(200.0, 230.0), "right": leg(300.0, 120.0)}, LEG_PX)
    assert [o.observed for o in out].count(False) == 1
    t += 1 / FPS
    out = ident.assign(t, {"left": leg(200.0, 230.0), "right": leg(300.0, 225.0)}, LEG_PX)
    assert all(o.observed for o in out)
