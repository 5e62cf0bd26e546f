"""The frontal plane: the definitions on hand-made poses, and the measures step by step against the
simulator's exact truth (a rear camera at 30 fps with 1 % landmark noise)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from appliance.frontal.measures import frontal_frame
from appliance.frontal.tracker import FrontalTracker, frontal_summary
from appliance.landmarks import LEG_LANDMARKS
from appliance.sim.rear_view import FrontalParams, simulated_pair
from appliance.sim.runner import RunnerParams


def standing(hip_px: float = 40.0) -> np.ndarray:
    """A runner seen from behind, standing square: hips 40 px apart, legs straight down."""
    lm = np.zeros((33, 4))
    lm[:, 3] = 0.9
    for side, x in (("left", 300.0), ("right", 300.0 + hip_px)):
        hip, knee, ankle, heel, toe = LEG_LANDMARKS[side]
        lm[hip, :2], lm[knee, :2], lm[ankle, :2] = (x, 200.0), (x, 300.0), (x, 400.0)
        lm[heel, :2], lm[toe, :2] = (x, 410.0), (x, 405.0)
    return lm


def test_a_square_stance_measures_zero_and_the_foot_under_its_hip() -> None:
    f = frontal_frame(standing(), 0.0)
    assert f.tilt_deg == pytest.approx(0.0)
    for side in ("left", "right"):
        leg = f.legs[side]
        assert leg.hip_adduction_deg == pytest.approx(0.0) and leg.knee_fppa_deg == pytest.approx(0.0)
        assert leg.foot_lateral_hw == pytest.approx(0.5)


def test_signs_follow_the_clinical_definitions() -> None:
    lm = standing()
    lhip, lknee, lankle, lheel, ltoe = LEG_LANDMARKS["left"]
    lm[LEG_LANDMARKS["right"][0], 1] += 40 * np.tan(np.radians(6))  # the right hip 6 deg lower
    lm[lknee, 0] += 10.0  # the left knee towards the midline
    f = frontal_frame(lm, 0.0)
    assert f.pelvic_drop_deg("left") == pytest.approx(6.0, abs=0.01)  # standing on the left, the right side drops
    assert f.pelvic_drop_deg("right") == pytest.approx(-6.0, abs=0.01)
    assert f.legs["left"].hip_adduction_deg > 6.0  # knee medial, and the hip line's perpendicular turned
    assert f.legs["left"].knee_fppa_deg == pytest.approx(2 * np.degrees(np.arctan(10 / 100)), abs=0.01)  # valgus
    lm[[lankle, lheel, ltoe], 0] += 35.0  # the left foot across the midline
    assert frontal_frame(lm, 0.0).legs["left"].foot_lateral_hw < 0


def test_sides_come_from_the_image_not_the_labels_and_a_front_view_is_mirrored() -> None:
    lm = standing()
    lm[LEG_LANDMARKS["left"][1], 0] += 10.0  # the runner's left knee valgus
    swapped = lm.copy()
    swapped[list(LEG_LANDMARKS["left"])], swapped[list(LEG_LANDMARKS["right"])] = \
        lm[list(LEG_LANDMARKS["right"])], lm[list(LEG_LANDMARKS["left"])]
    for labels in (lm, swapped):
        assert frontal_frame(labels, 0.0).legs["left"].knee_fppa_deg > 5.0
    mirrored = lm.copy()
    mirrored[:, 0] = 1000.0 - lm[:, 0]  # the same runner filmed from the front
    assert frontal_frame(mirrored, 0.0, view="front").legs["left"].knee_fppa_deg > 5.0
    assert frontal_frame(mirrored, 0.0, view="rear").legs["right"].knee_fppa_deg > 5.0


def run(case: FrontalParams, joined: bool, seconds: float = 30.0, fps: float = 30.0):
    rear = simulated_pair(RunnerParams(noise_leg_lengths=0.0, seed=3), case)
    poses, truth = rear.poses(seconds, fps)
    tracker = FrontalTracker(view=case.view)
    if joined:
        for c in rear.runner._contacts:
            tracker.add_contact(c.foot, c.t_ic, c.t_to)
    steps = []
    for i, pose in enumerate(poses):
        steps += tracker.update(pose.landmarks if pose is not None else None, i / fps)
    return steps, truth


ASYMMETRIC = FrontalParams(pelvic_drop_deg=(8.0, 3.0), knee_valgus_deg=(12.0, 2.0), foot_lateral_hw=(0.05, 0.45),
                           noise_leg_lengths=0.01, dropout_fraction=0.02, offset_m=0.1, seed=3)


@pytest.mark.parametrize("joined", [False, True], ids=["rear view alone", "joined with the side camera"])
def test_each_side_s_measures_match_the_truth_at_30fps_with_noise(joined: bool) -> None:
    steps, truth = run(ASYMMETRIC, joined)
    assert len(steps) >= len(truth) - 2
    for tr in truth[2:]:
        mine = [s for s in steps if abs(s.t_mid - 0.5 * (tr.t_ic + tr.t_to)) < 0.5 * (tr.t_to - tr.t_ic)]
        assert len(mine) == 1 and mine[0].foot == tr.foot, f"the stance at {tr.t_ic:.2f} s: {mine}"
    summary = frontal_summary(steps)
    for side in ("left", "right"):
        mine = [t for t in truth if t.foot == side]
        true = {k: float(np.median([getattr(t, k) for t in mine])) for k in
                ("pelvic_drop_deg", "hip_adduction_deg", "knee_fppa_deg", "foot_lateral_hw")}
        got = summary[side]
        assert got["pelvic_drop_deg"] == pytest.approx(true["pelvic_drop_deg"], abs=1.0), side
        assert got["hip_adduction_deg"] == pytest.approx(true["hip_adduction_deg"], abs=2.0), side
        assert got["knee_fppa_deg"] == pytest.approx(true["knee_fppa_deg"], abs=2.0), side
        assert got["foot_lateral_hw"] == pytest.approx(true["foot_lateral_hw"], abs=0.1), side
    # The asymmetry the clinician looks for is there, with the right sign.
    assert summary["asymmetry"]["pelvic_drop_deg"] > 3.0 and summary["asymmetry"]["knee_fppa_deg"] > 5.0


def test_a_crossover_runner_is_flagged() -> None:
    steps, _ = run(replace(ASYMMETRIC, foot_lateral_hw=-0.2, dropout_fraction=0.0), joined=True, seconds=10)
    assert frontal_summary(steps)["crossover_share"] > 0.9
