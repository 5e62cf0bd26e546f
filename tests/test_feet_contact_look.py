"""The per-contact look: buffered frames, a landmark runner's heel and toe, the angles at contact."""

from __future__ import annotations

import math

import numpy as np
import pytest

from appliance.config import GaitSettings
from appliance.feet.contact_look import (
    ContactFrames,
    choose_leg,
    plan_contact,
    read_contact,
    sole_line_angle,
)
from appliance.landmarks import LEG_LANDMARKS
from appliance.pose.geometry import Roi
from appliance.types import Frame

DT = 1 / 60
ROI = Roi(320.0, 240.0, 400.0, 0.0)
SHOE = 60.0  # px heel to toe


def foot_landmarks(angle_deg: float, heel=(300.0, 400.0), other_heel=(150.0, 330.0), near="left",
                   sign: float = 1.0) -> np.ndarray:
    """[33, 5] landmarks: the ``near`` leg's heel at ``heel`` and its toe ``SHOE`` px away at
    ``angle_deg`` (toe up positive, runner's frame); the other leg's foot flat at ``other_heel``."""
    lm = np.zeros((33, 5), np.float32)
    lm[:, 3:] = 1.0
    far = "right" if near == "left" else "left"
    for side, h, a in ((near, heel, angle_deg), (far, other_heel, 0.0)):
        hip, knee, ankle, heel_i, toe_i = (int(i) for i in LEG_LANDMARKS[side])
        hx, hy = h
        r = math.radians(a)
        lm[heel_i, :2] = (hx, hy)
        lm[toe_i, :2] = (hx + sign * SHOE * math.cos(r), hy - SHOE * math.sin(r))
        lm[ankle, :2] = (hx + sign * 10, hy - 15)
        lm[knee, :2] = (hx + sign * 10, hy - 115)
        lm[hip, :2] = (hx, hy - 215)
    return lm


class FakeHeavy:
    """Returns exact landmarks per frame index; ``calls`` counts invokes."""

    def __init__(self, by_index):
        self.by_index = by_index
        self.calls = 0

    def landmarks(self, image, roi):
        self.calls += 1
        return self.by_index(int(image[0, 0, 0]) + 256 * int(image[0, 0, 1]))


def frames(n: int, t0: float = 0.0) -> list[tuple[Frame, Roi]]:
    out = []
    for i in range(n):
        img = np.zeros((4, 4, 3), np.uint8)
        img[0, 0, 0], img[0, 0, 1] = i % 256, i // 256  # the fake runner reads the index back
        out.append((Frame(t0 + i * DT, i, img), ROI))
    return out


CONTACT = 10  # frame index of the contact instant
MID = (CONTACT + 5, CONTACT + 12)


def landing(contact_deg: float, flat_deg: float = 2.0, misread: int | None = None, rate: float = 60.0):
    """A foot whose angle rises from ``contact_deg`` at CONTACT by ``rate`` deg/s (the heel coming
    down), flat at ``flat_deg`` in mid-stance; frame ``misread`` is read wildly wrong."""

    def by_index(i: int) -> np.ndarray:
        if i == misread:
            return foot_landmarks(contact_deg + 35.0)
        if MID[0] <= i <= MID[1]:
            return foot_landmarks(flat_deg)
        return foot_landmarks(contact_deg + rate * (i - CONTACT) * DT)

    return by_index


def window(pairs):
    return pairs[MID[0]][0].t, pairs[MID[1]][0].t


def test_angle_at_contact_is_read_before_the_contact_and_survives_a_misread_frame():
    """The frames before the contact are read (after it the foot turns to flat); a frame whose
    heel-toe length is far from the shoe's (heavy drawing the foot elsewhere) is dropped."""
    pairs = frames(30)
    good = landing(-20.0, flat_deg=2.0)

    def by_index(i):
        lm = good(i)
        if i == CONTACT - 1:  # misread: the toe drawn half a shoe from the heel, steeply
            hx, hy = lm[int(LEG_LANDMARKS["left"][3]), :2]
            lm[int(LEG_LANDMARKS["left"][4]), :2] = (hx + 20, hy + 20)
        return lm

    heavy = FakeHeavy(by_index)
    r = read_contact(pairs, pairs[CONTACT][0].t, window(pairs), 1.0, heavy)
    assert r.foot_angle_deg == pytest.approx(-20.0, abs=0.5)
    assert r.flat_reference_deg == pytest.approx(2.0, abs=0.5)
    assert r.strike_angle_deg == pytest.approx(-22.0, abs=0.5)
    assert r.strike == "forefoot"
    assert max(t for t, _ in r.contact_samples) <= pairs[CONTACT][0].t
    assert heavy.calls == 3 + 3 == len(r.contact_samples) + len(r.mid_samples) + r.rejected
    assert r.rejected == 1


def test_angle_is_interpolated_between_frames():
    pairs = frames(30)
    t_between = pairs[CONTACT][0].t + 0.4 * DT
    r = read_contact(pairs, t_between, window(pairs), 1.0, FakeHeavy(landing(-10.0, rate=60.0)))
    assert r.foot_angle_deg == pytest.approx(-10.0 + 60.0 * 0.4 * DT, abs=0.05)


def test_a_frame_with_a_wrong_shoe_length_is_rejected():
    pairs = frames(30)
    good = landing(-15.0)

    def by_index(i):
        lm = good(i)
        if i == MID[0]:  # a misread mid-stance foot, half a shoe long and steep
            hx, hy = lm[int(LEG_LANDMARKS["left"][3]), :2]
            lm[int(LEG_LANDMARKS["left"][4]), :2] = (hx + 20, hy + 20)
        return lm

    r = read_contact(pairs, pairs[CONTACT][0].t, window(pairs), 1.0, FakeHeavy(by_index))
    assert r.rejected == 1
    assert r.flat_reference_deg == pytest.approx(2.0, abs=0.01)


def test_strike_class_follows_the_settings_thresholds():
    pairs = frames(30)
    t = pairs[CONTACT][0].t
    heavy = FakeHeavy(landing(5.0, flat_deg=0.0))  # strike angle +5 deg
    assert read_contact(pairs, t, window(pairs), 1.0, heavy).strike == "midfoot"
    assert read_contact(pairs, t, window(pairs), 1.0, heavy,
                        settings=GaitSettings(rearfoot_above_deg=4.0)).strike == "rearfoot"
    assert read_contact(pairs, t, window(pairs), 1.0, heavy,
                        settings=GaitSettings(forefoot_below_deg=6.0, rearfoot_above_deg=10.0)).strike == "forefoot"


def test_facing_left_mirrors_the_angle():
    pairs = frames(30)

    def by_index(i):
        return foot_landmarks(-12.0 if i < MID[0] else 0.0, heel=(300.0, 400.0), other_heel=(450.0, 330.0), sign=-1.0)

    r = read_contact(pairs, pairs[CONTACT][0].t, window(pairs), -1.0, FakeHeavy(by_index))
    assert r.foot_angle_deg == pytest.approx(-12.0, abs=0.01)
    assert r.strike_angle_deg == pytest.approx(-12.0, abs=0.01)


def test_leg_is_chosen_by_the_shoe_centre_not_the_label():
    lm = foot_landmarks(-20.0, heel=(300.0, 400.0), other_heel=(150.0, 330.0), near="right")
    assert choose_leg(lm, (330.0, 390.0), 1.0) == "right"
    assert choose_leg(lm, (180.0, 330.0), 1.0) == "left"
    assert choose_leg(lm, None, 1.0) == "right"  # without a centre: the foot further forward
    assert choose_leg(lm, None, 1.0, stance=True) == "right"  # ...or in mid-stance the lower one

    # The landing foot labelled "left" in some frames and "right" in others: the reading follows it.
    pairs = frames(30)

    def by_index(i):
        angle = 2.0 if MID[0] <= i <= MID[1] else -18.0
        return foot_landmarks(angle, near="left" if i % 2 else "right", other_heel=(150.0, 380.0))

    r = read_contact(pairs, pairs[CONTACT][0].t, window(pairs), 1.0, FakeHeavy(by_index), shoe_centre=(325.0, 395.0))
    assert r.foot_angle_deg == pytest.approx(-18.0, abs=0.01)
    assert r.rejected == 0


def test_buffer_is_bounded_by_age_and_count():
    buf = ContactFrames(max_age_s=0.5, max_frames=1000)
    for f, roi in frames(120):  # 2 s at 60 fps
        buf.add(f, roi)
    assert 30 <= len(buf) <= 31
    assert buf.span_s <= 0.5 + 1e-9
    assert [p[0].index for p in buf][-1] == 119
    small = ContactFrames(max_age_s=10.0, max_frames=8)
    for f, roi in frames(20):
        small.add(f, roi)
    assert [p[0].index for p in small] == list(range(12, 20))
    assert [p[0].index for p in small.between(12 * DT, 14 * DT)] == [12, 13, 14]
    small.add(frames(1)[0][0], None)  # time went back (a source restarted), and no region: nothing kept
    assert len(small) == 0
    f0, _ = frames(1)[0]
    assert small.add(f0, ROI) is None and len(small) == 1
    first = [p for p in frames(3)]
    kept = ContactFrames()
    kept.add(*first[0])
    assert next(iter(kept))[0] is first[0][0]  # a reference, not a copy
    with pytest.raises(ValueError):
        ContactFrames(max_age_s=0)


def test_plan_spreads_contact_frames_at_a_high_rate():
    at_240 = [(Frame(i / 240, i, np.zeros((2, 2, 3), np.uint8)), ROI) for i in range(120)]
    plan = plan_contact(at_240, 40 / 240, (70 / 240, 90 / 240))
    assert [f.index for f, _ in plan.contact] == [32, 36, 40]  # about 30 ms before, at 240 fps
    assert [f.index for f, _ in plan.mid] == [70, 80, 90]
    assert len(plan.requests()) == 6


def test_sole_line_angle_on_a_drawn_shoe():
    import cv2

    img = np.full((200, 300, 3), 90, np.uint8)
    a = math.radians(-15.0)  # toe lower than heel, facing right
    heel = np.array([100.0, 100.0])
    toe = heel + 80 * np.array([math.cos(a), -math.sin(a)])
    normal = np.array([math.sin(a), math.cos(a)])  # down, perpendicular to heel->toe
    poly = np.array([heel - 25 * normal, toe - 25 * normal, toe + 8 * normal, heel + 8 * normal])
    cv2.fillPoly(img, [np.round(poly).astype(np.int32)], (230, 230, 230))
    got = sole_line_angle(img, heel + np.array([0, -3]), toe + np.array([0, 2]), 1.0)  # landmarks a bit off
    assert got == pytest.approx(-15.0, abs=1.5)


# --- the real model on the slow-motion clip ---


@pytest.mark.model
def test_heavy_reads_a_labelled_slowmo_landing_toe_first(slowmo_clip, slowmo_labels, model_dir):
    from appliance.pose.engine import PoseEngine
    from appliance.pose.heavy import HeavyPose
    from appliance.pose.model_files import ModelError, verify_heavy
    from appliance.sources.video import VideoFileSource

    try:
        verify_heavy(model_dir)
    except ModelError as e:
        pytest.skip(f"heavy pose model not available: {e}")
    contact = int(slowmo_labels["events"][0]["frame"])  # toe-first, labelled forefoot
    assert slowmo_labels["events"][0]["strike"] == "forefoot"
    engine = PoseEngine(model_dir, threads=2)
    buf = ContactFrames(max_age_s=0.5)
    scale = 0.125  # real seconds per clip second (bench/gait_real_clip.py's assumption)
    for f in VideoFileSource(slowmo_clip, max_frames=contact + 56):
        frame = Frame(f.t * scale, f.index, f.image)
        engine.process(frame)
        buf.add(frame, engine.last_roi)
    pairs = list(buf)
    at = next(p[0] for p in pairs if p[0].index == contact)
    dt = pairs[1][0].t - pairs[0][0].t
    r = read_contact(pairs, at.t, (at.t + 35 * dt, at.t + 55 * dt), 1.0, HeavyPose(model_dir, threads=1))
    assert r.foot_angle_deg < -5.0, r  # toe lower than heel at the touch
    assert r.strike == "forefoot", r
