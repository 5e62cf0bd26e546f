"""The frontal plane: the definitions on hand-made poses, and the measures step by step against the
simulator's exact truth (a rear camera at 30 fps with 1 % landmark noise)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from appliance.frontal.measures import frontal_frame
from appliance.frontal.tracker import frontal_summary
from appliance.landmarks import LEG_LANDMARKS
from appliance.sim.evaluate import track_rear_view
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
    assert frontal_frame(swapped, 0.0).labels == {"left": "right", "right": "left"}  # what the mirror draws
    mirrored = lm.copy()
    mirrored[:, 0] = 1000.0 - lm[:, 0]  # the same runner filmed from the front
    assert frontal_frame(mirrored, 0.0, view="front").legs["left"].knee_fppa_deg > 5.0
    assert frontal_frame(mirrored, 0.0, view="rear").legs["right"].knee_fppa_deg > 5.0


def run(case: FrontalParams, joined: bool, seconds: float = 30.0, fps: float = 30.0):
    return track_rear_view(simulated_pair(RunnerParams(noise_leg_lengths=0.0, seed=3), case), seconds, fps, joined)


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


def test_the_frontal_report_plots_and_overlay_of_a_rear_recording(tmp_path) -> None:
    """analyze --frontal's steps, plots and overlay, on the simulated rear view drawn into a video."""
    import cv2

    from appliance.frontal.analyze import (
        detect_view,
        frontal_steps,
        hips_apart,
        plot_frontal,
        write_frontal_overlay,
    )

    fps = 30.0
    rear = simulated_pair(RunnerParams(noise_leg_lengths=0.0), replace(ASYMMETRIC, dropout_fraction=0.0))
    poses, _ = rear.poses(6.0, fps)
    lm = np.stack([p.landmarks for p in poses]).astype(np.float64)
    clip = tmp_path / "rear.avi"
    out = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), fps, rear.params.image_size)
    for frame_lm in lm:
        image = np.full((rear.params.image_size[1], rear.params.image_size[0], 3), 40, np.uint8)
        for x, y in frame_lm[23:33, :2]:
            cv2.circle(image, (int(x), int(y)), 4, (255, 255, 255), -1)
        out.write(image)
    out.release()
    assert hips_apart(lm) == pytest.approx(0.2, abs=0.05)
    steps = frontal_steps(np.arange(len(lm)) / fps, lm, "rear")
    assert len(steps) >= 14 and {s.foot for s in steps} == {"left", "right"}
    report = {"steps": [dict(s.to_dict(), frame_mid=int(round(s.t_mid * fps))) for s in steps],
              "summary": frontal_summary(steps)}
    assert len(plot_frontal(report, tmp_path)) == 4
    assert write_frontal_overlay(clip, lm, report["steps"], tmp_path / "overlay.png") == "overlay.png"
    tiles = cv2.imread(str(tmp_path / "overlay.png"))
    assert tiles.shape[0] >= 2 * 240 and tiles.shape[1] == 4 * 240
    lm_z = lm.copy()
    lm_z[:, 0, 2], lm_z[:, 7:9, 2] = 0.1, -0.1  # the nose further from the camera than the ears
    assert detect_view(lm_z) == "rear"
    lm_z[:, 0, 2] = -0.3
    assert detect_view(lm_z) == "front"


def test_analyze_frontal_on_a_side_clip_writes_its_report_and_says_it_is_a_side_view(tmp_path, slowmo_clip, model_dir):
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "appliance", "analyze", str(slowmo_clip), "--frontal", "--out",
                        str(tmp_path), "--max-frames", "60", "--model-dir", str(model_dir)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "looks like a side view" in r.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["plane"] == "frontal" and report["side_view_suspected"] and report["frames"] == 60
