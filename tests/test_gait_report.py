"""The offline report of ``appliance analyze`` and its plots, and the tracker's live state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from appliance.gait import GaitTracker
from appliance.gait.plots import plot_gait
from appliance.gait.report import gait_report
from appliance.landmarks import L
from appliance.sim import RunnerParams, SimulatedRunner
from appliance.sim.evaluate import WARMUP_S

REQUIRED_STEP_KEYS = {
    "frame_ic", "t_ic", "foot", "frame_to", "strike", "foot_strike_angle_deg", "shank_angle_deg",
    "knee_flexion_deg", "heel_to_hip_leg_lengths", "contact_time_s", "confidence",
}


def _clip(fps=30.0, seconds=20.0, **params):
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, seed=2, **params))
    poses, truth = sim.poses(seconds, fps)
    lm = np.stack([p.landmarks[:, :4] if p is not None else np.full((33, 4), np.nan, np.float32) for p in poses])
    t = np.arange(len(poses)) / fps
    return t, lm, truth, sim


@pytest.fixture(scope="module")
def report():
    t, lm, truth, sim = _clip(strike_angle_deg=(14.0, -6.0), dropout_fraction=0.02)
    return gait_report(t, lm, sim.params.image_size), truth


def test_report_keys(report):
    rep, truth = report
    assert rep["direction"] == "right"
    assert rep["cadence_spm"] == pytest.approx(170.0, abs=0.5)
    assert len(rep["steps"]) >= 0.9 * len(truth)
    for step in rep["steps"]:
        assert REQUIRED_STEP_KEYS <= step.keys()
        assert step["strike"] in ("rearfoot", "midfoot", "forefoot", "unknown")
    assert set(rep["summary"]) == {"left", "right"}
    assert rep["summary"]["left"]["strike"] == "rearfoot"
    assert rep["summary"]["right"]["strike"] == "forefoot"
    json.dumps(rep)  # JSON-ready: no NaN, no numpy scalars
    assert "NaN" not in json.dumps(rep)


def test_report_gives_the_flat_foot_reference_and_how_steady_it_is(report):
    rep, _ = report
    ref = rep["flat_foot_reference"]
    assert ref["source"] == "mid-stance" and ref["stances"] >= 3
    assert abs(ref["angle_deg"]) < 10 and ref["spread_deg"] < 8  # feet flat in mid-stance, 1 % landmark noise
    assert rep["strike_unsteady"] is False
    # Each step carries the spread known when it was measured, for the coach to gate strike cues on.
    spreads = [s["strike_spread_deg"] for s in rep["steps"]]
    assert spreads[0] is None and all(0 <= x < 8 for x in spreads[10:])


def test_wandering_foot_landmarks_show_in_the_reference_spread():
    # The pose model's toe wandering by half a foot's length from frame to frame, as on small or
    # blurred real clips: the mid-stance foot angle, and every strike angle with it, is unsteady.
    t, lm, _, sim = _clip(seconds=12.0)
    toes = [int(L.LEFT_FOOT_INDEX), int(L.RIGHT_FOOT_INDEX)]
    heels = [int(L.LEFT_HEEL), int(L.RIGHT_HEEL)]
    foot_px = float(np.nanmedian(np.linalg.norm(lm[:, toes, :2] - lm[:, heels, :2], axis=2)))
    lm = lm.copy()
    lm[:, toes, 1] += np.random.default_rng(3).normal(0.0, 0.5 * foot_px, size=(len(t), 2))
    rep = gait_report(t, lm, sim.params.image_size)
    ref = rep["flat_foot_reference"]
    assert ref["source"] == "mid-stance" and ref["spread_deg"] > 10
    assert rep["strike_unsteady"] is True
    assert rep["steps"][-1]["strike_spread_deg"] > 10


def test_report_has_the_live_steps_and_the_warm_up_contacts():
    """The live tracker starts measuring once the belt line exists; the report replays the frames
    before it, so a clip's first contacts are in it too, and later it has the live tracker's steps."""
    t, lm, truth, sim = _clip(seconds=8.0)
    rep = gait_report(t, lm, sim.params.image_size)
    poses, _ = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, seed=2)).poses(8.0, 30.0)
    tracker = GaitTracker()
    live = {}
    for i, p in enumerate(poses):
        for s in tracker.update(p, t[i], i):
            live[s.index] = s
    live_frames = [live[k].frame_ic for k in sorted(live)]
    report_frames = [s["frame_ic"] for s in rep["steps"]]
    assert live_frames[0] > 20  # the first two contacts (frames 7.5 and 18.1) come before the line
    assert len(rep["steps"]) == len(truth)
    for step, true in zip(rep["steps"], truth, strict=True):
        assert step["t_ic"] == pytest.approx(true.t_ic, abs=2 / 30)
    assert [f for f in report_frames if f >= 45] == [f for f in live_frames if f >= 45]


def test_slow_motion_time_scale():
    # The same run recorded at 240 fps and played back at 30 fps: 8x longer in clip time.
    t, lm, _, sim = _clip(fps=240.0, seconds=10.0)
    rep = gait_report(t * 8.0, lm, sim.params.image_size, time_scale=0.125)
    assert rep["cadence_spm"] == pytest.approx(170.0, abs=0.5)
    steps = rep["steps"]
    assert steps[1]["t_ic"] - steps[0]["t_ic"] == pytest.approx(60 / 170, abs=0.05)


def test_report_rejects_bad_input():
    with pytest.raises(ValueError, match="landmarks"):
        gait_report(np.zeros(3), np.zeros((3, 17, 4)), (640, 480))
    with pytest.raises(ValueError, match="t must be"):
        gait_report(np.zeros(2), np.zeros((3, 33, 4)), (640, 480))
    with pytest.raises(ValueError, match="time_scale"):
        gait_report(np.zeros(3), np.zeros((3, 33, 4)), (640, 480), time_scale=0)


def test_plots(report, tmp_path):
    rep, _ = report
    paths = plot_gait(rep, tmp_path)
    names = {p.name for p in paths}
    assert {"gait_foot_strike_angle_deg.png", "gait_shank_angle_deg.png", "gait_cadence_spm.png",
            "gait_contact_time_s.png", "gait_heel_to_hip_leg_lengths.png"} <= names
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 5000


def test_state_follows_the_runner():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, stand_s=4.0, seed=3))
    poses, _ = sim.poses(12.0, 30.0)
    tracker = GaitTracker()
    seen = {}
    for i, p in enumerate(poses):
        tracker.update(p, i / 30.0, i)
        seen[round(i / 30.0, 2)] = tracker.state
    assert seen[3.5].moving == "standing" and not seen[3.5].running
    assert seen[11.0].moving == "running" and seen[11.0].running
    assert seen[11.0].cadence_spm == pytest.approx(170.0, abs=1.0)
    assert seen[11.0].last_step is not None
    for i in range(40):
        tracker.update(None, 12.0 + i / 30.0, 360 + i)
    assert tracker.state.moving == "absent"


def test_times_must_increase():
    tracker = GaitTracker()
    tracker.update(None, 1.0, 0)
    with pytest.raises(ValueError, match="increase"):
        tracker.update(None, 1.0, 1)


def test_each_step_emitted_at_contact_then_after_toe_off():
    poses, truth = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, seed=5)).poses(10.0, 30.0)
    true_frames = np.array([x.t_ic for x in truth]) * 30.0
    tracker = GaitTracker()
    first, final = {}, {}
    for i, p in enumerate(poses):
        for s in tracker.update(p, i / 30.0, i):
            (final if s.final else first)[s.index] = (i, s)
    assert set(final) <= set(first)
    assert len(final) >= len(first) - 2
    for k, (i, s) in first.items():
        assert np.isnan(s.contact_time_s) and s.frame_to is None
        assert i - s.frame_ic <= 3  # look-ahead of at most 3 frames after the contact frame
        if k in final:
            fi, fs = final[k]
            assert fi > i and fs.contact_time_s > 0
            # Re-timed by the belt's pull: later, or a fraction of a frame either way as the
            # height is refitted over more frames; never a different contact.
            assert fs.t_ic >= s.t_ic - 1 / 30.0
            if fs.t_ic < WARMUP_S:
                continue  # before the belt line and the belt speed are measured
            contact = true_frames[np.argmin(np.abs(true_frames - fs.t_ic * 30.0))]
            assert abs(fs.t_ic * 30.0 - contact) <= 1.5
            assert i - contact <= 3  # reported within 3 frames of the true contact


def test_report_of_a_clip_too_short_for_the_belt_to_settle_still_has_its_steps():
    t, lm, _, sim = _clip(seconds=1.2)
    rep = gait_report(t, lm, sim.params.image_size)
    truth = _clip(seconds=3.0)[2]  # the same runner: the contacts up to 1.2 s
    assert len(rep["steps"]) >= 1
    assert all(min(abs(s["t_ic"] - x.t_ic) for x in truth) < 1 / 30 for s in rep["steps"])
