"""The foot stage on rendered treadmill pixels with exact truth (appliance/sim/treadmill_pixels.py).

Floors, not targets: they hold what the stage measures today on the bed's realistic landings (the
contact point arrested over 50-130 ms) at 30 fps on flat landings, 60 fps on heel and 120 fps on
toe landings (bench/feet_pixel_bed.py prints every rate and strike), so a change that loses it fails.
"""

import numpy as np
import pytest

pytest.importorskip("cv2")

from appliance.feet.stage import FootStage  # noqa: E402
from appliance.sim.treadmill_pixels import PixelScene, TreadmillRender  # noqa: E402


@pytest.fixture(scope="module")
def flat_run_30fps():
    render = TreadmillRender(PixelScene(fps=30.0, strike="flat", seed=1), 16)
    stage = FootStage()
    events = []
    for frame, pose in render.frames():
        events += stage.update(frame, pose).events
    return render, stage, events


def matched(true_times, found, fps, within_frames=2.0):
    """How many true times have a found one within ``within_frames``, and how many found are extra."""
    used, hits = set(), 0
    for tt in true_times:
        near = [(abs(f - tt), i) for i, f in enumerate(found) if i not in used]
        d, i = min(near, default=(np.inf, -1))
        if d * fps <= within_frames:
            used.add(i)
            hits += 1
    return hits, len(found) - len(used)


def test_the_belt_velocity_comes_from_the_feet_alone(flat_run_30fps):
    render, stage, _ = flat_run_30fps
    vx, vy = stage.belt.velocity(1e9)
    assert vx == pytest.approx(render.belt_px_per_s, rel=0.05)
    assert abs(vy) < 0.05 * abs(render.belt_px_per_s)


def test_flat_landings_at_30fps_are_locked_and_touched(flat_run_30fps):
    render, _, events = flat_run_30fps
    locks = [e.t for e in events if e.kind == "lock"]
    touches = [e.t for e in events if e.kind == "touch"]
    # The lock is confirmed where the slip falls below LOCK_SLIP, up to a third of an arrest (~40
    # ms) before the bed's exact lock (the end of the arrest).
    hits, extra = matched([s.t_lock for s in render.truth], locks, 30.0)
    assert hits >= 11 and extra <= 1
    hits, extra = matched([s.t_touch for s in render.truth], touches, 30.0)
    assert hits >= 12 and extra <= 0


@pytest.mark.parametrize(("fps", "strike", "floor", "most_extra"), [(60.0, "heel", 13, 2), (120.0, "toe", 14, 1)])
def test_touches_at_60_and_120fps(fps, strike, floor, most_extra):
    render = TreadmillRender(PixelScene(fps=fps, strike=strike, seed=1), 16)
    stage = FootStage()
    touches = [e.t for frame, pose in render.frames() for e in stage.update(frame, pose).events if e.kind == "touch"]
    hits, extra = matched([s.t_touch for s in render.truth], touches, fps)
    assert hits >= floor and extra <= most_extra
