"""The rear camera's framing advice on synthetic landmarks: the simulated runner seen by a camera
placed well, then moved off centre, too low, too high, too far, turned round; and hand-made frames
with a foot cut off or hidden and nobody seen. Each piece of advice is checked where it must appear
and where it must not."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.frontal.framing import MIN_HIP_WIDTH_PX, NOBODY, check_framing, seen_from, typical_landmarks
from appliance.landmarks import LEG_LANDMARKS, L
from appliance.sim.rear_view import FrontalParams, simulated_pair

IMAGE = (640, 480)


def rear_frame(t: float = 1.0, **params) -> np.ndarray:
    """The simulated runner's noise-free landmarks at ``t`` as the second camera sees them."""
    return simulated_pair(frontal=FrontalParams(noise_leg_lengths=0.0, **params)).landmarks(t)


def advice_about(check, words: str) -> list[str]:
    return [a for a in check.advice if words in a]


@pytest.mark.parametrize("t", [0.5, 0.8, 1.0, 1.3])
def test_a_camera_placed_as_the_mounting_guide_says_gets_no_advice(t: float) -> None:
    for view in ("rear", "front"):
        check = check_framing(rear_frame(t, view=view), IMAGE, view=view)
        assert check.advice == [], (view, check.advice)
        assert check.seen_from == view and check.hip_width_px > MIN_HIP_WIDTH_PX
        assert abs(check.off_centre_hw) < 0.2 and 0.4 < check.hip_height_share < 0.6
        assert check.notes[0].endswith("as set.")
        assert check.notes[2].startswith("Hip line ") and "hip widths from the midline" in check.notes[2]


def test_a_runner_standing_square_reads_a_level_hip_line_and_feet_half_a_hip_width_out() -> None:
    """The mounting guide's standing check, read from the notes."""
    lm = np.zeros((33, 4))
    lm[:, 3] = 0.9
    lm[L.NOSE, 3] = 0.1  # the face hidden: seen from behind
    for side, x in (("left", 300.0), ("right", 340.0)):
        hip, knee, ankle, heel, toe = LEG_LANDMARKS[side]
        lm[hip, :2], lm[knee, :2], lm[ankle, :2], lm[heel, :2], lm[toe, :2] = (x, 240), (x, 330), (x, 420), (x, 430), (x, 425)
    check = check_framing(lm, IMAGE)
    assert check.advice == [] and check.notes[2] == ("Hip line level; feet 0.5 (left) and 0.5 "
                                                     "(right) hip widths from the midline.")
    lm[L.RIGHT_HIP, 1] += 1.4  # 2 deg
    assert check_framing(lm, IMAGE).notes[2].startswith("Hip line tilted 2.0° (right hip lower)")


@pytest.mark.parametrize(("offset_m", "direction"), [(0.4, "left"), (-0.4, "right")])
def test_a_camera_off_the_belt_s_centre_line_is_told_which_way_to_slide(offset_m: float, direction: str) -> None:
    # A camera to the runner's right of the centre line sees the runner left of the image centre.
    check = check_framing(rear_frame(offset_m=offset_m), IMAGE)
    [said] = advice_about(check, "off the belt's centre line")
    assert f"{direction} of the image's centre" in said and f"to the {direction} (your {direction}" in said
    assert "about 40 cm" in said  # 0.4 m, estimated from the hip width
    assert advice_about(check_framing(rear_frame(offset_m=0.05), IMAGE), "centre line") == []  # 5 cm is within


def test_the_front_camera_s_direction_is_also_the_camera_s_own() -> None:
    check = check_framing(rear_frame(offset_m=0.4, view="front"), IMAGE, view="front")
    [said] = advice_about(check, "off the belt's centre line")
    assert "to the right (your right" in said  # in front, the runner's right is the camera's left


def test_a_camera_below_or_above_hip_height_is_told_to_move_up_or_down() -> None:
    low = check_framing(rear_frame(height_m=0.35), IMAGE)
    [said] = advice_about(low, "hip height")
    assert "below hip height" in said and "raise it" in said and low.hip_height_share < 1 / 3
    high = check_framing(rear_frame(height_m=1.5), IMAGE)
    [said] = advice_about(high, "hip height")
    assert "above hip height" in said and "lower it" in said
    assert advice_about(check_framing(rear_frame(height_m=1.0), IMAGE), "hip height") == []


def test_a_runner_too_small_in_the_image_is_told_to_come_closer() -> None:
    # The simulated runner fills 85 % of the image's height: a small image is a small runner.
    small = check_framing(rear_frame(image_size=(320, 240)), (320, 240))
    [said] = advice_about(small, "small in the image")
    assert "move the camera closer" in said and small.hip_width_px < MIN_HIP_WIDTH_PX
    assert small.advice == [said]  # nothing else is wrong with it
    assert advice_about(check_framing(rear_frame(), IMAGE), "small") == []


def test_the_advice_is_judged_on_a_second_of_frames_not_one_odd_frame() -> None:
    """One frame's hips can look narrow (the pelvis turning, the model's noise); the last second's
    typical landmarks do not flip the advice for it."""
    frames = [rear_frame(0.5 + i / 30) for i in range(30)]
    odd = frames[7].copy()
    mid = 0.5 * (odd[L.LEFT_HIP, :2] + odd[L.RIGHT_HIP, :2])
    for hip in (L.LEFT_HIP, L.RIGHT_HIP):
        odd[hip, :2] = mid + 0.5 * (odd[hip, :2] - mid)  # hips half as far apart in this one frame
    odd[L.LEFT_KNEE, :2] = np.nan  # and a landmark lost
    frames[7] = odd
    assert advice_about(check_framing(odd, IMAGE), "small in the image")
    typical = typical_landmarks(frames)
    assert np.isfinite(typical[L.LEFT_KNEE, :2]).all()
    assert check_framing(typical, IMAGE).advice == []
    assert typical_landmarks([]) is None


def test_a_view_that_is_not_the_one_set_is_said_with_the_setting_to_change() -> None:
    facing = check_framing(rear_frame(view="front"), IMAGE, view="rear")
    assert facing.seen_from == "front"
    assert advice_about(facing, "set rear_camera.view to front")
    back = check_framing(rear_frame(view="rear"), IMAGE, view="front")
    assert advice_about(back, "set rear_camera.view to rear") and back.notes[0] == "Seen from behind (set: front)."


def test_the_view_is_read_from_the_face_s_visibility_and_the_model_s_depth() -> None:
    lm = rear_frame(view="front")
    assert seen_from(lm) == "front"
    lm[L.NOSE, 2] = 0.3  # the nose further from the camera than the ears: the back of the head
    assert seen_from(lm) == "rear"
    lm = rear_frame(view="rear")
    assert seen_from(lm) == "rear"  # the face hidden
    lm[L.NOSE, 3] = 0.9
    lm[L.NOSE, 2], lm[L.LEFT_EAR, 2], lm[L.RIGHT_EAR, 2] = -0.2, 0.0, 0.0
    assert seen_from(lm) == "front"


def test_feet_cut_off_at_the_bottom_or_hidden_are_said() -> None:
    lm = rear_frame()
    cut = lm.copy()
    heel = LEG_LANDMARKS["left"][3]
    cut[heel, 1] = IMAGE[1] - 2
    [said] = advice_about(check_framing(cut, IMAGE), "cut off at the bottom")
    assert said.startswith("A foot is") and "tilt the camera down" in said
    both = lm.copy()
    both[[*LEG_LANDMARKS["left"][2:], *LEG_LANDMARKS["right"][2:]], 1] = IMAGE[1] + 30
    assert advice_about(check_framing(both, IMAGE), "cut off")[0].startswith("Both feet are")
    hidden = lm.copy()
    hidden[list(LEG_LANDMARKS["right"][2:]), 3] = 0.1
    [said] = advice_about(check_framing(hidden, IMAGE), "hidden or outside")
    assert said.startswith("A foot is")
    outside = lm.copy()
    outside[list(LEG_LANDMARKS["right"][2:]), 0] = IMAGE[0] + 10
    assert advice_about(check_framing(outside, IMAGE), "hidden or outside")
    assert not advice_about(check_framing(lm, IMAGE), "foot") and not advice_about(check_framing(lm, IMAGE), "feet")


def test_a_pelvis_out_of_view_is_said_and_nothing_is_judged_on_it() -> None:
    lm = rear_frame()
    lm[L.RIGHT_HIP, 3] = 0.1
    check = check_framing(lm, IMAGE)
    assert advice_about(check, "pelvis is not fully in view") and check.hip_width_px is None
    assert not advice_about(check_framing(rear_frame(), IMAGE), "pelvis")


def test_nobody_seen_says_where_to_stand() -> None:
    assert check_framing(None, IMAGE).advice == [NOBODY]
    assert check_framing(np.full((33, 4), np.nan), IMAGE).advice == [NOBODY]
    assert check_framing(None, IMAGE).seen_from is None


def test_a_view_that_is_neither_rear_nor_front_is_refused() -> None:
    with pytest.raises(ValueError, match="view must be one of"):
        check_framing(rear_frame(), IMAGE, view="side")


def test_the_mounting_guide_states_the_limits_the_page_checks() -> None:
    """hardware/mounting.md's set-up check names the same limits and words as the advice."""
    from pathlib import Path

    from appliance.frontal.framing import MAX_OFF_CENTRE_HW

    guide = " ".join((Path(__file__).resolve().parents[1] / "hardware" / "mounting.md").read_text().split())
    assert f"{MIN_HIP_WIDTH_PX:.0f} px apart" in guide
    assert MAX_OFF_CENTRE_HW == 0.5 and "more than half a hip width" in guide
    for words in ("Framing looks good.", "cut off at the bottom of the image", "off the belt's centre line",
                  "middle third", "rear_camera.view", "rear_camera.source"):
        assert words in guide, words
