"""The pixel test bed of the foot stage: a rendered treadmill side view whose truth must be exact."""

from __future__ import annotations

import math
from itertools import islice

import cv2
import numpy as np
import pytest

from appliance.landmarks import VISIBILITY, L
from appliance.sim.treadmill_pixels import (
    HEEL_X,
    SHOE_OUTLINE_M,
    TOE_X,
    PixelScene,
    TreadmillRender,
    _ShoePose,
)

SHARP = {"noise_sigma": 0.0, "exposure": 0.0, "landmark_noise_px": 0.0}


def first_frames(render: TreadmillRender, n: int):
    return list(islice(render.frames(), n))


def belt_strip_grey(render: TreadmillRender, image: np.ndarray) -> np.ndarray:
    """The belt band below the sole line, where no shoe ever is."""
    top = int(render.belt_y_px + 2.5)
    bottom = int(render.belt_y_px + 0.075 * render.scene.px_per_m)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[top:bottom].astype(np.float32)


def measured_belt_shift(render: TreadmillRender, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The belt strip's x shift from image a to image b by phase correlation: cv2.phaseCorrelate's own
    estimate, and that refined by the slope of the cross-power spectrum's phase.

    OpenCV's sub-pixel estimate (a weighted centroid of the correlation peak) leans towards whole
    pixels: on exactly shifted band-limited noise it reads 0.25 px as 0.02 and 0.5 px as 0.17 or 0.83.
    So its whole-pixel part aligns the strips, and the remaining fraction is read from the phase of
    their cross-power spectrum, which for a translation is linear in frequency.
    """
    strip_a, strip_b = belt_strip_grey(render, a), belt_strip_grey(render, b)
    window = cv2.createHanningWindow(strip_a.shape[::-1], cv2.CV_32F)
    (coarse, _), _ = cv2.phaseCorrelate(strip_a, strip_b, window)
    whole = int(round(coarse))
    lo, hi = max(0, -whole), strip_a.shape[1] - max(0, whole)
    aligned_a = strip_a[:, lo:hi].astype(np.float64)
    aligned_b = strip_b[:, lo + whole:hi + whole].astype(np.float64)
    taper = np.hanning(hi - lo)
    spectra = [np.fft.rfft((s - s.mean(axis=1, keepdims=True)) * taper, axis=1) for s in (aligned_a, aligned_b)]
    cross = (spectra[1] * np.conj(spectra[0])).sum(axis=0)
    k = np.arange(1, (hi - lo) // 6)  # the well-measured low frequencies
    weight, phase = np.abs(cross[k]), np.angle(cross[k])
    fraction = -np.sum(weight * phase * k) / (2 * np.pi / (hi - lo) * np.sum(weight * k * k))
    return coarse, whole + fraction


def velocity_px(render: TreadmillRender, t: float, foot: str, dt: float = 1e-4):
    """Image velocity (px/s) of the heel and toe sole points at t."""
    before, after = render.sole_points_px(t - dt, foot), render.sole_points_px(t + dt, foot)
    return [((a[0] - b[0]) / (2 * dt), (a[1] - b[1]) / (2 * dt)) for b, a in zip(before, after, strict=True)]


def test_same_seed_renders_the_same_frames_and_truth():
    scene = PixelScene(fps=30, seed=3, camera_shake_px=1.0)
    a, b = TreadmillRender(scene, 3), TreadmillRender(scene, 3)
    assert a.truth == b.truth
    for (fa, pa), (fb, pb) in zip(first_frames(a, 6), first_frames(b, 6), strict=True):
        assert np.array_equal(fa.image, fb.image)
        assert np.array_equal(pa.landmarks, pb.landmarks)
    # frames() starts over: a second pass gives the same frames
    assert np.array_equal(first_frames(a, 2)[1][0].image, first_frames(b, 2)[1][0].image)
    other = TreadmillRender(PixelScene(fps=30, seed=4, camera_shake_px=1.0), 3)
    assert other.truth != a.truth
    assert not np.array_equal(first_frames(other, 1)[0][0].image, first_frames(a, 1)[0][0].image)


@pytest.mark.parametrize("strike", ["heel", "flat", "toe"])
def test_truth_is_ordered_and_alternates_at_the_cadence(strike):
    scene = PixelScene(fps=30, strike=strike, cadence_spm=170.0)
    render = TreadmillRender(scene, 40)
    truth = render.truth
    assert len(truth) == 40
    assert [s.foot for s in truth] == ["near", "far"] * 20
    for step in truth:
        assert step.t_touch < step.t_lock < step.t_heel_rise < step.t_release
        assert 0.2 <= step.t_release - step.t_touch <= 0.3
    # the lock comes with the arrest's end (50-130 ms) or, on a toe landing, the roll's (50-90 ms)
    assert all(0.05 - 1e-9 <= s.t_lock - s.t_touch <= 0.13 + 1e-9 for s in truth)
    assert np.std([s.t_lock - s.t_touch for s in truth]) > 0.01
    locked = TreadmillRender(PixelScene(fps=30, strike=strike, cadence_spm=170.0, arrest_s=0.0), 40).truth
    roll = {"heel": (0.03, 0.06), "flat": (0.008, 0.035), "toe": (0.05, 0.09)}[strike]
    assert all(roll[0] - 1e-9 <= s.t_lock - s.t_touch <= roll[1] + 1e-9 for s in locked)
    # the arrest has its own random stream: the rest of the truth is the same with it or without
    assert [(s.t_touch, s.touch_angle_deg, s.t_release) for s in locked] == [
        (s.t_touch, s.touch_angle_deg, s.t_release) for s in truth]
    intervals = np.diff([s.t_touch for s in truth])
    assert np.median(intervals) == pytest.approx(60.0 / 170.0, rel=0.01)
    assert np.all(np.abs(intervals / (60.0 / 170.0) - 1) < 0.06)
    # a flight phase between one foot's release and the other's touch; the frames start and end in one
    assert all(a.t_release < b.t_touch for a, b in zip(truth, truth[1:], strict=False))
    assert 0 < truth[0].t_touch and truth[-1].t_release < render.duration_s
    assert render.n_frames == math.ceil(render.duration_s * scene.fps)


def test_the_shoe_outline_is_lowest_at_its_heel_or_toe_point_at_every_angle():
    for angle_deg in np.arange(-42.0, 26.0, 0.5):
        shoe = _ShoePose(0.0, 0.0, HEEL_X, math.radians(angle_deg))
        heights = [shoe.world(x, y)[1] for x, y in SHOE_OUTLINE_M]
        sole_ends = min(shoe.world(HEEL_X, 0.0)[1], shoe.world(TOE_X, 0.0)[1])
        assert min(heights) >= sole_ends - 1e-12, angle_deg


@pytest.mark.parametrize("strike", ["heel", "flat", "toe"])
def test_touch_angles_have_the_strikes_sign_and_the_right_sole_point_lands(strike):
    render = TreadmillRender(PixelScene(strike=strike, seed=5), 12)
    angles = [s.touch_angle_deg for s in render.truth]
    if strike == "heel":
        assert all(a > 5 for a in angles) and np.std(angles) > 0.5
    elif strike == "toe":
        assert all(a < -4 for a in angles) and np.std(angles) > 0.5
    else:
        assert all(abs(a) <= 1.5 for a in angles)
    for step in render.truth:
        heel, toe = render.sole_points_px(step.t_touch, step.foot)
        landing, other = (heel, toe) if step.touch_angle_deg >= 0 else (toe, heel)
        assert landing[1] == pytest.approx(render.belt_y_px, abs=1e-6)
        if strike != "flat":
            assert other[1] < render.belt_y_px - 5  # the other end is well up
        early = render.sole_points_px(step.t_touch - 1e-4, step.foot)
        assert max(p[1] for p in early) < render.belt_y_px  # still in the air just before
    given = TreadmillRender(PixelScene(strike="heel", touch_angle_deg=7.0), 6)
    assert all(s.touch_angle_deg == 7.0 for s in given.truth)


@pytest.mark.parametrize("arrest_s", [None, 0.0])
@pytest.mark.parametrize("strike", ["heel", "flat", "toe"])
def test_lock_is_the_first_instant_the_shoe_moves_flat_with_the_belt(strike, arrest_s):
    render = TreadmillRender(PixelScene(strike=strike, belt_speed_mps=3.0, seed=2, arrest_s=arrest_s), 8)
    belt = render.belt_px_per_s
    for step in render.truth:
        after_lock = np.linspace(step.t_lock + 1e-3, step.t_heel_rise - 1e-3, 7)
        for t in after_lock:
            for vx, vy in velocity_px(render, t, step.foot):
                assert vx == pytest.approx(belt, abs=0.5) and vy == pytest.approx(0.0, abs=0.5)
            for _, y in render.sole_points_px(t, step.foot):
                assert y == pytest.approx(render.belt_y_px, abs=1e-6)
        # before lock the shoe still rotates (heel/toe) or slips (flat): clearly half-way, a little just before
        for t, least in ((step.t_touch + 0.5 * (step.t_lock - step.t_touch), 20.0), (step.t_lock - 1e-3, 0.01)):
            (hvx, hvy), (tvx, tvy) = velocity_px(render, t, step.foot)
            assert max(abs(hvx - belt), abs(tvx - belt), abs(hvy), abs(tvy)) > least
        if strike != "flat" and arrest_s == 0.0:  # without an arrest: the contact point is carried at once
            i = 0 if step.touch_angle_deg >= 0 else 1
            assert velocity_px(render, step.t_touch + 5e-3, step.foot)[i][0] == pytest.approx(belt, abs=0.5)
        heel, toe = render.sole_points_px(step.t_release, step.foot)
        assert toe[1] == pytest.approx(render.belt_y_px, abs=1e-6) and heel[1] < toe[1] - 20
        assert render.sole_points_px(step.t_release + 2e-3, step.foot)[1][1] < render.belt_y_px - 0.5


@pytest.mark.parametrize("strike", ["heel", "flat", "toe"])
def test_the_contact_point_is_arrested_from_its_approach_velocity_to_the_belts(strike):
    render = TreadmillRender(PixelScene(strike=strike, seed=3), 8)
    belt = render.belt_px_per_s
    ppm = render.scene.px_per_m
    for step in render.truth:
        arrest = step.t_lock - step.t_touch if strike != "toe" else None
        i = 0 if step.touch_angle_deg >= 0 else 1  # the landing sole point
        approach = step.touch_velocity_mps[0] * ppm
        before = velocity_px(render, step.t_touch - 2e-4, step.foot, 1e-4)[i][0]
        after = velocity_px(render, step.t_touch + 2e-4, step.foot, 1e-4)[i][0]
        assert after == pytest.approx(before, abs=0.02 * abs(belt))  # no jump: friction needs time
        assert after == pytest.approx(approach, abs=0.02 * abs(belt))
        assert abs(after - belt) > 0.3 * abs(belt)
        if arrest is not None:  # a constant deceleration: half-way there half-way through
            half = velocity_px(render, step.t_touch + 0.5 * arrest, step.foot)[i][0]
            assert half == pytest.approx(0.5 * (approach + belt), abs=0.01 * abs(belt))
        for _, y in render.sole_points_px(step.t_touch + 0.01, step.foot)[i:i + 1]:
            assert y == pytest.approx(render.belt_y_px, abs=1e-6)  # on the belt all along
    fixed = TreadmillRender(PixelScene(strike="flat", seed=3, arrest_s=0.1), 4)
    assert all(s.t_lock - s.t_touch == pytest.approx(0.1) for s in fixed.truth)


@pytest.mark.parametrize("fps", [30.0, 120.0])
def test_first_frame_after_touch_shows_the_shoe_on_the_belt_line(fps):
    render = TreadmillRender(PixelScene(fps=fps, strike="heel", seed=1, **SHARP), 9)
    sole_row = render.belt_y_px - 0.5  # the last pixel row above the sole line
    seen_above = 0
    for step in [s for s in render.truth if s.foot == "near"]:
        index = math.floor(step.t_touch * fps) + 1
        frame = render.render_frame(index)
        mask = render.shoe_mask(frame.t, "near")
        rows, cols = np.nonzero(mask)
        assert abs(rows.max() - sole_row) <= 1
        # the frame shows it: light midsole just above the lowest shoe pixel, dark belt just below
        col = int(cols[rows == rows.max()].mean())
        assert frame.image[rows.max() - 6:rows.max() - 1, col].max() > 180
        assert frame.image[rows.max() + 2:rows.max() + 5, col].max() < 130
        # the frame before: the shoe is still above, as high as the kinematics put it
        before = render.shoe_mask((index - 1) / fps, "near")
        lowest_before = np.nonzero(before.any(axis=1))[0].max()
        expected = max(p[1] for p in render.sole_points_px((index - 1) / fps, "near"))
        assert abs(lowest_before - (expected - 0.5)) <= 1
        if expected < render.belt_y_px - 1.0:
            assert lowest_before < sole_row
            seen_above += 1
    assert seen_above >= 2


@pytest.mark.parametrize("fps", [30.0, 60.0, 240.0])
@pytest.mark.parametrize("facing", ["right", "left"])
def test_belt_moves_by_belt_px_per_s_between_frames(fps, facing):
    # 2.9 m/s: a fractional shift per frame (38.67, 19.33 and 4.83 px); motion blur on, no noise
    render = TreadmillRender(PixelScene(fps=fps, facing=facing, belt_speed_mps=2.9, noise_sigma=0.0), 2)
    assert render.belt_px_per_s == pytest.approx(-1160.0 if facing == "right" else 1160.0)
    expected = render.belt_px_per_s / fps
    images = [f.image for f, _ in first_frames(render, 4)]
    for a, b in zip(images, images[1:], strict=False):
        coarse, refined = measured_belt_shift(render, a, b)
        assert coarse == pytest.approx(expected, abs=0.4)
        assert refined == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("fps", [60.0, 240.0])
def test_belt_shift_through_blur_and_noise(fps):
    render = TreadmillRender(PixelScene(fps=fps, belt_speed_mps=2.9, seed=7), 2)
    images = [f.image for f, _ in first_frames(render, 6)]
    for a, b in zip(images, images[1:], strict=False):
        assert measured_belt_shift(render, a, b)[1] == pytest.approx(render.belt_px_per_s / fps, abs=0.1)


def test_facing_left_mirrors_everything():
    right = TreadmillRender(PixelScene(fps=60, seed=9, camera_shake_px=1.5), 2)
    left = TreadmillRender(PixelScene(fps=60, seed=9, camera_shake_px=1.5, facing="left"), 2)
    assert left.truth == right.truth and left.belt_y_px == right.belt_y_px
    assert left.belt_px_per_s == -right.belt_px_per_s > 0
    width = right.scene.size[0]
    for (fr, _), (fl, _) in zip(first_frames(right, 3), first_frames(left, 3), strict=True):
        assert np.array_equal(fl.image, fr.image[:, ::-1])
    t = right.truth[0].t_touch + 0.01
    lm_right, lm_left = right.landmarks(t, 5), left.landmarks(t, 5)
    # the camera sees the near side: LEFT landmarks facing right, RIGHT ones facing left
    pairs = [(L.LEFT_HEEL, L.RIGHT_HEEL), (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX), (L.RIGHT_KNEE, L.LEFT_KNEE),
             (L.LEFT_ANKLE, L.RIGHT_ANKLE)]
    for i_right, i_left in pairs:
        assert lm_left[i_left, 0] == pytest.approx(width - 1 - lm_right[i_right, 0], abs=1e-3)
        assert lm_left[i_left, 1] == pytest.approx(lm_right[i_right, 1], abs=1e-3)
    assert left.camera_offset(5)[0] == -right.camera_offset(5)[0] != 0
    heel_r, toe_r = right.sole_points_px(t, "near")
    heel_l, toe_l = left.sole_points_px(t, "near")
    assert toe_r[0] > heel_r[0] and toe_l[0] < heel_l[0]  # toes point the way the runner faces
    assert np.array_equal(left.shoe_mask(t, "near"), right.shoe_mask(t, "near")[:, ::-1])


def test_pose_landmarks_sit_on_the_legs_and_shoes():
    render = TreadmillRender(PixelScene(fps=60, seed=4, landmark_noise_px=2.0), 6)
    errors = []
    for frame, pose in islice(render.frames(), 0, 60, 3):
        assert pose.landmarks.shape == (33, 5) and pose.landmarks.dtype == np.float32
        assert pose.t == frame.t and pose.frame_index == frame.index and pose.image_size == (640, 480)
        exact = render.landmarks(frame.t, frame.index)
        errors.append(pose.landmarks[:, :2] - exact[:, :2])
        assert exact[L.LEFT_HEEL, VISIBILITY] == pytest.approx(0.9)
        assert exact[L.RIGHT_HEEL, VISIBILITY] == pytest.approx(0.6)  # the far leg
        for foot, (heel_i, toe_i) in {"near": (L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
                                      "far": (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX)}.items():
            heel, toe = render.sole_points_px(frame.t, foot)
            assert math.dist(exact[heel_i, :2], heel) < 0.04 * render.scene.px_per_m
            assert math.dist(exact[toe_i, :2], toe) < 0.04 * render.scene.px_per_m
            mask = render.shoe_mask(frame.t, foot)
            x, y = (int(round(v)) for v in exact[toe_i, :2])
            assert mask[y - 2:y + 3, x - 2:x + 3].any()  # the toe landmark is on the drawn shoe
        hip, knee, ankle = exact[L.LEFT_HIP, :2], exact[L.LEFT_KNEE, :2], exact[L.LEFT_ANKLE, :2]
        assert math.dist(hip, knee) == pytest.approx(0.46 * 400, rel=0.01)
        assert knee[1] > hip[1] and ankle[1] > hip[1]
        assert exact[L.NOSE, 1] < exact[L.LEFT_SHOULDER, 1] < hip[1]
    assert float(np.std(errors)) == pytest.approx(2.0, rel=0.2)


def test_camera_shake_moves_the_whole_image_and_the_landmarks():
    still = TreadmillRender(PixelScene(fps=60, seed=2, noise_sigma=0.0), 2)
    shaken = TreadmillRender(PixelScene(fps=60, seed=2, noise_sigma=0.0, camera_shake_px=3.0), 2)
    (frame_still, _), (frame_shaken, _) = first_frames(still, 4)[3], first_frames(shaken, 4)[3]
    offset = shaken.camera_offset(3)
    assert math.hypot(*offset) > 0.3

    def mean_difference_when_shifted_by(dx: float, dy: float) -> float:
        moved = cv2.warpAffine(frame_still.image.astype(np.float32), np.float32([[1, 0, dx], [0, 1, dy]]),
                               (640, 480), flags=cv2.INTER_LINEAR)
        inside = (slice(20, 460), slice(20, 620))
        return float(np.abs(moved[inside] - frame_shaken.image[inside]).mean())

    assert mean_difference_when_shifted_by(*offset) < 0.3 * mean_difference_when_shifted_by(0.0, 0.0)
    assert mean_difference_when_shifted_by(*offset) < 1.0
    moved = shaken.landmarks(frame_shaken.t, 3)[:, :2] - still.landmarks(frame_still.t, 3)[:, :2]
    assert np.allclose(moved, offset, atol=1e-3)


def test_exposure_blurs_the_moving_belt():
    def belt_sharpness(exposure: float) -> float:
        render = TreadmillRender(PixelScene(fps=30, exposure=exposure, noise_sigma=0.0), 2)
        strip = belt_strip_grey(render, render.render_frame(0).image)
        return float(np.abs(np.diff(strip, axis=1)).mean())

    assert belt_sharpness(0.5) < 0.5 * belt_sharpness(0.0)


def test_invalid_scenes_are_refused():
    with pytest.raises(ValueError, match="strike"):
        PixelScene(strike="midfoot")
    with pytest.raises(ValueError, match="facing"):
        PixelScene(facing="up")
    with pytest.raises(ValueError, match="arrest_s"):
        PixelScene(arrest_s=-0.01)
    with pytest.raises(ValueError, match="n_steps"):
        TreadmillRender(PixelScene(), 0)
