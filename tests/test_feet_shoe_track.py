"""Shoe tracks: a landmark glitch does not move a shoe, a label swap does not swap the feet."""

import numpy as np
import pytest

from appliance.feet.shoe_track import Shoe, ShoeTrack, assign
from appliance.feet.tuning import FEET_TUNING

REACQUIRE_S = FEET_TUNING.shoe_track.reacquire_s


def shoe_at(x: float, y: float = 400.0, side: str | None = "left") -> Shoe:
    return Shoe(np.array([x - 40.0, y]), np.array([x + 40.0, y]), np.array([x - 30.0, y - 40.0]), 80.0, side)


def test_landmarks_that_agree_place_the_shoe():
    track = ShoeTrack()
    seen = shoe_at(105.0)
    assert track.choose(0.0, shoe_at(100.0, side=None), seen) is seen


def test_a_foot_drawn_at_knee_height_is_not_followed_until_it_persists():
    track = ShoeTrack()
    followed = shoe_at(100.0, side=None)
    glitch = shoe_at(100.0, y=250.0)  # two shoe lengths up: the pose model drew the foot on the knee
    assert track.choose(0.0, followed, glitch) is followed
    assert track.choose(REACQUIRE_S / 2, followed, glitch) is followed
    assert track.choose(REACQUIRE_S * 1.01, followed, glitch) is glitch  # believed after a while


def test_a_track_unmeasured_for_long_is_lost():
    track = ShoeTrack()
    track.record(0, 0.0, shoe_at(100.0), True)
    track.record(1, 0.05, shoe_at(100.0), False)
    assert track.at(1) is not None
    track.record(2, 0.5, shoe_at(100.0), False)
    assert track.at(2) is None and track.at(1) is None


def test_a_left_right_label_swap_keeps_each_foot_on_its_track():
    followed = [shoe_at(100.0, side=None), shoe_at(300.0, side=None)]
    swapped = [shoe_at(305.0, side="left"), shoe_at(98.0, side="right")]
    matched = assign(followed, swapped)
    assert matched[0].side == "right" and matched[1].side == "left"


def test_a_single_shoe_goes_to_the_nearer_track():
    matched = assign([shoe_at(100.0, side=None), shoe_at(300.0, side=None)], [shoe_at(290.0)])
    assert matched[0] is None and matched[1] is not None


def test_a_track_is_one_chain_when_the_baseline_spans_several_frames():
    """At 240 fps the motion is measured over 4 frames: where the shoe was 4 frames back is the
    newest placement moved back by its velocity, not that frame's own (older) record."""
    track = ShoeTrack()
    fps, v = 240.0, (-960.0, 0.0)  # 4 px a frame
    for i in range(8):
        track.record(i, i / fps, shoe_at(400.0 - 4.0 * i + (30.0 if i == 3 else 0.0)), True, v)  # frame 3 misplaced
    back = track.followed(3, 3 / fps)
    assert back.centre[0] == pytest.approx(400.0 - 4.0 * 3)  # from the newest, not the misplaced record
    assert track.followed(7, 7 / fps).centre[0] == pytest.approx(400.0 - 4.0 * 7)
