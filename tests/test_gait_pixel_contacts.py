"""The gait tracker with the foot stage's evidence: its landings time the contacts, and a landing
no foot of the pose supports is dropped.

The foot stage's events are made exactly from the simulated runner's truth (touch at the true
contact, belt lock 40 ms later, confirmed two frames after it), so these tests check the tracker's
use of them, not the stage's pixels (tests/test_feet_*.py do those).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from appliance.feet.events import FootEvent
from appliance.feet.stage import FootEvidence, FootReading
from appliance.gait import GaitTracker
from appliance.landmarks import LEG_LANDMARKS
from appliance.sim import SimulatedRunner

FPS = 60.0
LOCK_AFTER_S = 0.04
BELT = (-1500.0, 0.0)  # px/s: the stage knows the belt's speed
NO_READING = FootReading(None, None, math.nan, False, None)


def shoe_centre(pose, foot: str) -> tuple[float, float]:
    _, _, _, heel, toe = (pose.landmarks[int(i), :2] for i in LEG_LANDMARKS[foot])
    c = 0.5 * (heel + toe)
    return float(c[0]), float(c[1])


def evidence_stream(poses, truth, shift_s: float = 0.0, offset_px: float = 0.0, skip: frozenset = frozenset(),
                    lock_after_s: float = LOCK_AFTER_S):
    """Per frame, the FootEvidence a perfect foot stage would give: each true contact (but those in
    ``skip``) as a touch ``shift_s`` after it and a lock ``lock_after_s`` later, both reported two
    frames after the lock, at the landing shoe (moved by ``offset_px``)."""
    due: dict[int, list] = {}
    for n, s in enumerate(truth):
        if n in skip:
            continue
        touch = s.t_ic + shift_s
        lock = touch + lock_after_s
        due.setdefault(math.ceil(lock * FPS) + 2, []).append((touch, lock, s.foot))
    out = []
    for i, pose in enumerate(poses):
        events = []
        for touch, lock, foot in due.get(i, []):
            x, y = shoe_centre(pose, foot)
            centre = (x + offset_px, y)
            events += [FootEvent("touch", touch, foot, centre), FootEvent("lock", lock, foot, centre)]
        out.append(FootEvidence(i / FPS, i, BELT, (NO_READING, NO_READING), tuple(events)))
    return out


def run(poses, feet) -> list:
    tracker = GaitTracker(replay_warm_up=True)
    latest = {}
    for i, pose in enumerate(poses):
        for step in tracker.update(pose, i / FPS, i, feet[i] if feet is not None else None):
            latest[step.index] = step
    return [latest[k] for k in sorted(latest)]


@pytest.fixture(scope="module")
def recording():
    runner = SimulatedRunner(seed=3, noise_leg_lengths=0.01)
    return runner.poses(20.0, FPS)


def matched(steps, truth):
    """Per true contact, the step nearest in time (within 0.1 s) or None."""
    return [min((s for s in steps if abs(s.t_ic - x.t_ic) < 0.1), key=lambda s: abs(s.t_ic - x.t_ic), default=None)
            for x in truth]


def test_the_pixels_time_every_contact(recording):
    poses, truth = recording
    shift = 0.013  # a touch the landmarks cannot know: 13 ms after the simulated contact
    steps = run(poses, evidence_stream(poses, truth, shift_s=shift))
    found = matched(steps, truth)
    timed = [s for s in found if s is not None and s.timed_by == "pixels"]
    assert len(timed) >= 0.9 * len(truth)
    for s, x in zip(found, truth, strict=True):
        if s is not None and s.timed_by == "pixels":
            assert s.t_ic == pytest.approx(x.t_ic + shift, abs=1e-9)
            assert s.t_touch == pytest.approx(x.t_ic + shift, abs=1e-9)
            assert s.t_lock == pytest.approx(x.t_ic + shift + LOCK_AFTER_S, abs=1e-9)
    assert len(steps) <= len(truth) + 2  # no landing counted twice (the clip's edges aside)


def test_without_the_foot_stage_the_landmarks_time_the_contacts(recording):
    poses, truth = recording
    steps = run(poses, None)
    assert steps and all(s.timed_by == "landmarks" and math.isnan(s.t_touch) for s in steps)


def test_a_landing_where_no_foot_of_the_pose_is_is_dropped(recording):
    poses, truth = recording
    leg_px = float(np.median([np.hypot(*(p.landmarks[25, :2] - p.landmarks[23, :2])) * 2 for p in poses if p is not None]))
    steps = run(poses, evidence_stream(poses, truth, shift_s=0.013, offset_px=1.5 * leg_px))
    assert all(s.timed_by == "landmarks" for s in steps)


def test_a_landing_seen_after_the_toe_off_re_times_the_step_and_sends_it_again(recording):
    """A slow machine or a late lock: the step's final emission has gone out with the landmarks'
    timing; the pixels' landing sends it again, re-timed (the recorder keeps the newest)."""
    poses, truth = recording
    shift = 0.013
    feet = evidence_stream(poses, truth, shift_s=shift, lock_after_s=0.4)  # past every toe-off
    tracker = GaitTracker(replay_warm_up=True)
    emitted = []
    for i, pose in enumerate(poses):
        emitted += tracker.update(pose, i / FPS, i, feet[i])
    resent = [s for s in emitted if s.final and s.timed_by == "pixels"]
    assert len(resent) >= 0.8 * len(truth)
    for s in resent:
        first = next(x for x in emitted if x.index == s.index and x.final)
        assert first.timed_by == "landmarks"  # the same step went out before, timed by the landmarks
        true = min(truth, key=lambda x: abs(x.t_ic - s.t_ic))
        assert s.t_ic == pytest.approx(true.t_ic + shift, abs=1e-9)
        assert s.contact_time_s == pytest.approx(first.t_to - s.t_ic, abs=1e-9)


def test_a_contact_the_pixels_do_not_see_is_reported_not_valid(recording):
    """While the foot stage sees the runner's landings, a contact only the landmarks found (a
    landmark glitch, or a landing the stage missed) is reported but never cued on."""
    poses, truth = recording
    skipped = frozenset({8, 13})
    steps = run(poses, evidence_stream(poses, truth, shift_s=0.013, skip=skipped))
    found = matched(steps, truth)
    for n in skipped:
        assert found[n] is not None and found[n].timed_by == "landmarks" and not found[n].valid
    by_pixels = [s for s in found if s is not None and s.timed_by == "pixels"]
    assert sum(s.valid for s in by_pixels) >= 0.8 * len(by_pixels)
