"""A treadmill runner's feet rendered to pixels from the side, with exact truth: the foot stage's test bed.

The foot stage times each landing from the camera pixels around the feet (DOMAIN.md, "three moments
at each landing"): **touch** (the shoe's downward motion stops at the belt: initial contact),
**belt lock** (the whole shoe moves with the belt) and **release** (the toe leaves the belt). This
module renders a side view of a treadmill with a runner's legs and shoes in which those instants are
known exactly, continuous in time (at 30 fps a touch falls between frames), for every strike type,
at any frame rate, with motion blur, pixel noise and an optional hand-held camera's shake.

World model (metres): ``u`` forward (the way the runner faces), ``v`` up, the belt surface at
``v = 0`` moving backwards at the belt speed, the hip fixed above ``u = 0``. Each shoe is rigid
(0.28 m long, 0.09 m high) with a straight sole from its heel point to its toe point; its outline is
shaped so that the lowest point of the shoe is always one of those two (tests check it). A landing:

* swing: the landing sole point (heel for a heel-first landing, toe for a toe-first one) follows a
  cubic path from the release to the touch, the sole eased to the touch angle by 75 % of the swing
  and held there; the lowest point descends at 0.5-1 m/s and moves, at touch, between slightly
  forwards and backwards at half the belt speed (per step, from the seed);
* touch: the lowest point reaches the belt. Heel first: the shoe rotates about the heel contact to
  flat in 30-60 ms; toe first: about the toe, in 50-90 ms; flat (``strike="flat"``): it lands flat
  (within ~1 deg);
* arrest: from the touch the contact point stays on the belt surface but is not carried at once:
  its forward velocity blends linearly in time (a constant deceleration) from its approach velocity
  to the belt's over ``arrest_s`` (per step from the seed, 50-130 ms, unless the scene sets it).
  Why: a shoe meets the belt with its forward velocity, and only friction drags it to the belt's
  speed; the friction is bounded (mu times a load that is still building during the impact), so the
  drag takes tens of milliseconds, and the heel's and the midsole's compliance lets the sole creep
  meanwhile. Measured on the labelled phone clip (bench/labels/running_form_img5396.json, 60 fps,
  the sole's velocity from the foot stage's LK motion): at the labelled touch the sole still moves
  forwards in the image, and its velocity falls about linearly to the belt's over 4-8 frames (65-130
  ms, ~6-8 g); the bed's old landings locked the contact point to the belt at once (heel, toe) or
  within 15-35 ms (flat). ``arrest_s=0`` gives those old landings again, frame for frame;
* belt lock: the first instant from which the shoe is flat and moves with the belt (the later of
  the roll's end and the arrest's);
* heel rise from about mid-stance: the shoe rotates about its toe point (carried by the belt) to
  30-38 deg toe down, and the toe leaves the belt at release (contact 0.7 step periods, 0.2-0.3 s).

Knees follow from two-link inverse kinematics between the hip and the ankle (the thigh and shank of
:mod:`appliance.sim.runner`). The first frame falls in a flight phase and the last in the flight after
the last release, so every contact seen in the frames is in ``truth`` and no other.

Camera and scene: a static gym wall, the treadmill's far rail, the **belt band** (the belt's top
surface seen from about knee height: a strip around ``belt_y_px``, 0.03 m of belt visible above the
sole line and 0.08 m below it, with a fine random texture that translates at exactly
``belt_px_per_s``, sub-pixel exact: a periodic band-limited texture upsampled 4x and sampled at a
fractional offset), the near side rail and the floor. The far leg is drawn first and darker; the
trunk next; the near leg over both. Pixel coordinates put pixel centres on integers; the sole line
``belt_y_px`` lies half-way between two rows.

A frame's shutter is open for ``exposure / fps`` seconds centred on its time ``index / fps``: the
belt's blur is an exact box filter of the texture, the legs and shoes are averaged over sub-frame
renders (about one per pixel of shoe travel, fewer for the limbs), then the image is shifted by the
camera shake, rounded, and Gaussian noise is added (drawn from a bank of pre-computed fields,
a different field in consecutive frames).

Facing: the scene is rendered facing right and mirrored for ``facing="left"`` (image, landmarks,
belt velocity, shake): frames of a left-facing scene are exactly the left-right flip of the
right-facing ones with the same seed. The camera sees the runner's near side: the near leg's
landmarks are the LEFT ones when the runner faces right and the RIGHT ones when it faces left.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from appliance.landmarks import NUM_LANDMARKS, PRESENCE, VISIBILITY, L
from appliance.sim.runner import SHANK_M, THIGH_M
from appliance.types import Frame, Pose

# --- the shoe, in its own frame: x forward along the sole, y up from it, origin at the heel point ---
SHOE_LENGTH_M = 0.28
SHOE_HEIGHT_M = 0.09
HEEL_X, TOE_X = 0.0, SHOE_LENGTH_M
SHOE_OUTLINE_M = (
    (HEEL_X, 0.0), (TOE_X, 0.0),  # the sole line: heel point to toe point
    (TOE_X + 0.004, 0.012), (TOE_X - 0.002, 0.028), (TOE_X - 0.020, 0.041), (TOE_X - 0.050, 0.049),  # toe cap
    (TOE_X - 0.110, 0.063), (0.125, 0.078), (0.100, 0.088), (0.060, 0.086),  # laces, collar
    (0.012, 0.090), (-0.006, 0.076), (-0.010, 0.045), (-0.008, 0.020), (-0.004, 0.006),  # heel counter
)
ANKLE_IN_SHOE_M = (0.075, 0.075)
HEEL_MARK_IN_SHOE_M = (-0.006, 0.030)  # where a pose model puts the heel: the back of the heel counter
TOE_MARK_IN_SHOE_M = (TOE_X - 0.012, 0.015)
MIDSOLE_TOP_M = 0.022
OUTSOLE_TOP_M = 0.005
SPRITE_MARGIN_M = 0.02

# --- the body ---
HIP_HEIGHT_M = 0.90  # mean; lowest at mid-stance
HIP_BOB_M = 0.03
TRUNK_M = 0.50
TRUNK_LEAN_DEG = 6.0
THIGH_WIDTH_M = (0.15, 0.10)  # at the hip, at the knee
SHANK_WIDTH_M = (0.10, 0.065)  # at the knee, at the ankle
SHORTS_FRACTION = 0.5  # of the thigh, from the hip
SOCK_M = 0.05  # sock visible above the shoe, along the shank from the ankle

# --- landings ---
DEFAULT_TOUCH_ANGLE_DEG = {"heel": 15.0, "flat": 0.0, "toe": -12.0}
TOUCH_ANGLE_SPREAD_DEG = {"heel": 2.5, "flat": 0.6, "toe": 2.0}  # per step, from the seed
TOUCH_ANGLE_LIMITS_DEG = {"heel": (8.0, 24.0), "flat": (-1.5, 1.5), "toe": (-20.0, -5.0)}
ROLL_TO_FLAT_S = {"heel": (0.03, 0.06), "flat": (0.008, 0.02), "toe": (0.05, 0.09)}
FLAT_SLIP_S = (0.015, 0.035)  # with arrest_s=0 only: a flat landing's slide
ARREST_S = (0.05, 0.13)  # touch to the contact point carried by the belt (module docstring: measured)
# Where the heel point lands (flat-equivalent), ahead of the middle of the stance's belt travel.
LANDING_AHEAD_M = {"heel": 0.06, "flat": 0.0, "toe": -0.08}
CONTACT_STEP_FRACTION = 0.70  # contact time / step period (duty factor 0.35)
HEEL_RISE_FRACTION = 0.5  # of the contact time, from touch
RELEASE_ANGLE_DEG = (-38.0, -30.0)
SWING_ANGLE_SET_FRACTION = 0.75  # the sole reaches its touch angle by this fraction of the swing
STEP_JITTER = 0.01  # relative std of the step period

# --- colours (RGB) ---
NEAR_SHOE = {"upper": (40, 80, 190), "midsole": (236, 236, 228), "outsole": (48, 48, 54),
             "logo": (245, 245, 245), "accent": (250, 200, 40), "laces": (210, 210, 215)}
NEAR_LEG = {"shorts": (35, 45, 80), "skin": (205, 150, 120), "sock": (235, 235, 232)}
SHIRT = (165, 45, 55)
FAR_SHADE = 0.55  # the far leg and shoe: darker

SUBFRAME_TRAVEL_PX = {"shoe": 1.0, "limb": 2.5}  # blur: one sub-frame per this much travel
MAX_SUBFRAMES = {"shoe": 40, "limb": 16}
NOISE_FIELDS = 6
NOISE_MARGIN_PX = 16
BELT_UPSAMPLING = 4
LANDMARK_VISIBILITY = {"near": 0.9, "far": 0.6, "off_image": 0.1}

FEET = ("near", "far")


@dataclass(frozen=True)
class PixelScene:
    """What is rendered: camera, belt, runner, landing style, image degradations."""

    fps: float = 60.0
    size: tuple[int, int] = (640, 480)  # width, height
    px_per_m: float = 400.0  # scale at the belt plane
    belt_speed_mps: float = 3.0
    cadence_spm: float = 170.0
    strike: str = "heel"  # "heel" | "flat" | "toe"
    # Sole angle to the belt at touch, + toe up (heel first), - toe down; None: a default per strike
    # (heel 15, flat 0, toe -12), varied a little per step by the seed.
    touch_angle_deg: float | None = None
    facing: str = "right"  # the runner faces this way in the image; the belt moves the other way
    exposure: float = 0.5  # motion blur: fraction of the frame interval the shutter is open (0 = sharp)
    noise_sigma: float = 3.0  # Gaussian pixel noise, grey levels
    landmark_noise_px: float = 2.0  # noise on the synthetic landmarks
    camera_shake_px: float = 0.0  # a hand-held phone: a random global shift per frame (std, px)
    # Touch to the contact point moving with the belt (s; see the module docstring): None draws it
    # per step from ARREST_S by the seed; 0 locks the contact point at touch (flat: slips 15-35 ms).
    arrest_s: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        checks = (
            (self.fps >= 5.0, f"fps {self.fps} is below 5"),
            (self.size[0] >= 160 and self.size[1] >= 120, f"size {self.size} is smaller than 160x120"),
            (self.px_per_m >= 50.0, f"px_per_m {self.px_per_m} is below 50"),
            (0.5 <= self.belt_speed_mps <= 8.0, f"belt_speed_mps {self.belt_speed_mps} is outside 0.5..8"),
            (120.0 <= self.cadence_spm <= 230.0, f"cadence_spm {self.cadence_spm} is outside 120..230"),
            (self.strike in DEFAULT_TOUCH_ANGLE_DEG, f"strike must be heel, flat or toe, not {self.strike!r}"),
            (self.facing in ("left", "right"), f"facing must be 'left' or 'right', not {self.facing!r}"),
            (0.0 <= self.exposure <= 1.0, f"exposure {self.exposure} is outside 0..1"),
            (self.noise_sigma >= 0 and self.landmark_noise_px >= 0 and self.camera_shake_px >= 0,
             "noise_sigma, landmark_noise_px and camera_shake_px must not be negative"),
            (self.touch_angle_deg is None or -25.0 <= self.touch_angle_deg <= 25.0,
             f"touch_angle_deg {self.touch_angle_deg} is outside -25..25"),
            (self.arrest_s is None or 0.0 <= self.arrest_s <= 0.2, f"arrest_s {self.arrest_s} is outside 0..0.2"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class StepTruth:
    """The exact instants and touch angle of one contact (times in seconds from frame 0)."""

    foot: str  # "near" | "far"
    t_touch: float  # the first instant the shoe's lowest point reaches the belt surface
    t_lock: float  # the first instant from which the whole shoe moves with the belt (flat, no slip)
    t_release: float  # the last instant the shoe touches the belt (the toe leaves)
    touch_angle_deg: float  # sole angle to the belt at t_touch (+ toe up)
    t_heel_rise: float = float("nan")  # the heel starts to rise (rotation about the toe begins)
    # Velocity of the landing sole point just before touch (m/s): forward (the way the runner faces,
    # against the belt's motion) and up (negative: descending).
    touch_velocity_mps: tuple[float, float] = (float("nan"), float("nan"))


# ------------------------------------------------------------------------------------------------
# Kinematics
# ------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Step:
    """One contact's schedule and landing parameters (steps outside the rendered span included)."""

    index: int
    foot: str
    t_touch: float
    touch_angle_deg: float
    pivot_x: float  # shoe x of the landing sole point: HEEL_X or TOE_X
    pivot_u: float  # its belt-frame position at touch (m)
    touch_forward_mps: float
    touch_down_mps: float
    roll_s: float  # touch to flat
    slip_s: float  # touch to no slip (flat landings without an arrest)
    arrest_s: float  # touch to the contact point moving with the belt (linear velocity blend)
    t_heel_rise: float
    t_release: float
    release_angle_deg: float
    lift_mps: float  # the toe's upward speed leaving the belt

    @property
    def t_lock(self) -> float:
        return self.t_touch + max(self.roll_s, self.slip_s, self.arrest_s)


@dataclass(slots=True)
class _ShoePose:
    """A rigid shoe: shoe point (pivot_x, 0) at world (pivot_u, pivot_v), the sole at ``angle`` (rad)."""

    pivot_u: float
    pivot_v: float
    pivot_x: float
    angle: float

    def world(self, x: float, y: float) -> tuple[float, float]:
        """World (u, v) of the shoe point (x, y)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx = x - self.pivot_x
        return self.pivot_u + c * dx - s * y, self.pivot_v + s * dx + c * y


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _hermite(p0: float, p1: float, m0: float, m1: float, s: float) -> float:
    """Cubic Hermite curve from p0 (slope m0) at s=0 to p1 (slope m1) at s=1."""
    s2, s3 = s * s, s * s * s
    return (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * m1


def _knee_from_ik(hip: tuple[float, float], ankle: tuple[float, float]) -> tuple[float, float]:
    """Knee position (world m) by two-link inverse kinematics, bending forward; straight out of reach."""
    du, dv = ankle[0] - hip[0], ankle[1] - hip[1]
    d = math.hypot(du, dv)
    eu, ev = du / d, dv / d
    if d >= THIGH_M + SHANK_M - 1e-9:
        return hip[0] + eu * THIGH_M, hip[1] + ev * THIGH_M
    along = (THIGH_M**2 - SHANK_M**2 + d * d) / (2 * d)
    across = math.sqrt(max(THIGH_M**2 - along * along, 0.0))
    nu, nv = -ev, eu
    if nu < 0:
        nu, nv = -nu, -nv
    return hip[0] + along * eu + across * nu, hip[1] + along * ev + across * nv


class _Gait:
    """The contact schedule of both feet and the shoes' poses at any instant (world metres)."""

    def __init__(self, scene: PixelScene, n_steps: int, rng: np.random.Generator,
                 arrest_rng: np.random.Generator | None = None):
        self.scene = scene
        self._arrest_rng = arrest_rng if arrest_rng is not None else np.random.default_rng(0)
        self.step_s = 60.0 / scene.cadence_spm
        # Two steps before the first rendered one and two after the last: their swings are seen.
        self.steps = self._schedule(n_steps + 4, rng, first_index=-2)
        self.rendered = self.steps[2:-2]
        self._by_foot = {f: [s for s in self.steps if s.foot == f] for f in FEET}
        self._touches = {f: [s.t_touch for s in self._by_foot[f]] for f in FEET}
        self._all_touches = [s.t_touch for s in self.steps]
        # Where each step's release leaves the sole point its foot lands on next, and how fast it moves.
        self._release = {a.index: self._release_motion(a, b.pivot_x)
                         for f in FEET for a, b in zip(self._by_foot[f], self._by_foot[f][1:], strict=False)}
        last = self.rendered[-1]
        self.end_s = last.t_release + 0.5 * (self.steps[-2].t_touch - last.t_release)

    def _schedule(self, count: int, rng: np.random.Generator, first_index: int) -> list[_Step]:
        """Draw every contact: the first rendered touch falls half-way through a flight phase."""
        nominal_contact = CONTACT_STEP_FRACTION * self.step_s
        t = 0.5 * (self.step_s - nominal_contact) + first_index * self.step_s
        steps = []
        for i in range(count):
            index = first_index + i
            steps.append(self._draw_step(index, "near" if index % 2 == 0 else "far", t, rng))
            t += self.step_s * (1.0 + float(np.clip(rng.normal(0.0, STEP_JITTER), -2.5 * STEP_JITTER,
                                                    2.5 * STEP_JITTER)))
        return steps

    def _draw_step(self, index: int, foot: str, t_touch: float, rng: np.random.Generator) -> _Step:
        """One contact's landing, stance and release, drawn from the scene's strike and the seed."""
        strike, belt = self.scene.strike, self.scene.belt_speed_mps
        angle = self._touch_angle(rng)
        contact = CONTACT_STEP_FRACTION * self.step_s * rng.uniform(0.95, 1.05)
        roll = 0.0 if angle == 0.0 else rng.uniform(*ROLL_TO_FLAT_S[strike])
        slip = rng.uniform(*FLAT_SLIP_S) if strike == "flat" else 0.0
        # Its own stream: the other draws, and so arrest_s=0's frames, are as they were without it.
        drawn = float(self._arrest_rng.uniform(*ARREST_S))
        arrest = drawn if self.scene.arrest_s is None else float(self.scene.arrest_s)
        if arrest > 0.0:
            slip = 0.0  # the arrest is the flat landing's slide too
        pivot_x = HEEL_X if angle >= 0.0 else TOE_X
        heel_u = 0.5 * (belt * contact - SHOE_LENGTH_M) + LANDING_AHEAD_M[strike] + rng.uniform(-0.03, 0.03)
        t_heel_rise = t_touch + max(HEEL_RISE_FRACTION * contact, max(roll, slip, arrest) + 0.03)
        return _Step(
            index=index, foot=foot, t_touch=t_touch, touch_angle_deg=angle, pivot_x=pivot_x,
            pivot_u=heel_u + pivot_x, touch_forward_mps=rng.uniform(-0.5 * belt, 0.2),
            touch_down_mps=rng.uniform(0.5, 1.0), roll_s=roll, slip_s=slip, arrest_s=arrest,
            t_heel_rise=t_heel_rise,
            t_release=t_touch + contact, release_angle_deg=rng.uniform(*RELEASE_ANGLE_DEG),
            lift_mps=rng.uniform(1.0, 1.6),
        )

    def _touch_angle(self, rng: np.random.Generator) -> float:
        """The scene's touch angle, or the strike's default varied by the seed (drawn either way)."""
        strike = self.scene.strike
        varied = DEFAULT_TOUCH_ANGLE_DEG[strike] + rng.normal(0.0, TOUCH_ANGLE_SPREAD_DEG[strike])
        if self.scene.touch_angle_deg is not None:
            return float(self.scene.touch_angle_deg)
        return float(np.clip(varied, *TOUCH_ANGLE_LIMITS_DEG[strike]))

    # --- poses ---
    def stance_pose(self, step: _Step, t: float) -> _ShoePose:
        """The shoe on the belt between touch and release."""
        belt = self.scene.belt_speed_mps
        tau = t - step.t_touch
        contact_u = step.pivot_u - belt * tau
        if step.slip_s > 0.0:
            # The landing's horizontal mismatch with the belt decays as (1 - s)^2 over slip_s.
            s = min(tau / step.slip_s, 1.0)
            contact_u += (step.touch_forward_mps + belt) * step.slip_s * (1.0 - (1.0 - s) ** 3) / 3.0
        if step.arrest_s > 0.0:
            # Its velocity relative to the belt falls linearly to 0 over arrest_s: (1 - s) of the touch's.
            s = min(tau / step.arrest_s, 1.0)
            contact_u += (step.touch_forward_mps + belt) * step.arrest_s * (s - 0.5 * s * s)
        if t >= step.t_heel_rise:
            toe_u = contact_u + (TOE_X - step.pivot_x)
            s = (t - step.t_heel_rise) / (step.t_release - step.t_heel_rise)
            return _ShoePose(toe_u, 0.0, TOE_X, math.radians(step.release_angle_deg * _smoothstep(s)))
        angle = 0.0
        if tau < step.roll_s:
            angle = step.touch_angle_deg * math.cos(0.5 * math.pi * tau / step.roll_s)
        return _ShoePose(contact_u, 0.0, step.pivot_x, math.radians(angle))

    def swing_pose(self, left: _Step, landing: _Step, t: float) -> _ShoePose:
        """The shoe in the air from ``left``'s release to ``landing``'s touch."""
        duration = landing.t_touch - left.t_release
        s = (t - left.t_release) / duration
        u0, du0 = self._release[left.index]
        u = _hermite(u0, landing.pivot_u, du0 * duration, landing.touch_forward_mps * duration, s)
        lowest = _hermite(0.0, 0.0, left.lift_mps * duration, -landing.touch_down_mps * duration, s)
        eased = _smoothstep(s / SWING_ANGLE_SET_FRACTION)
        angle = math.radians(left.release_angle_deg + (landing.touch_angle_deg - left.release_angle_deg) * eased)
        # Heights of the heel and toe points above the pivot; the lower of them is the shoe's lowest.
        sin_a = math.sin(angle)
        drop = min(sin_a * (HEEL_X - landing.pivot_x), sin_a * (TOE_X - landing.pivot_x))
        return _ShoePose(u, lowest - drop, landing.pivot_x, angle)

    def _release_motion(self, step: _Step, sole_x: float) -> tuple[float, float]:
        """Forward position and velocity of the sole point ``sole_x`` at the instant of release."""
        dt = 1e-5
        u1 = self.stance_pose(step, step.t_release).world(sole_x, 0.0)[0]
        u0 = self.stance_pose(step, step.t_release - dt).world(sole_x, 0.0)[0]
        return u1, (u1 - u0) / dt

    def shoe_pose(self, foot: str, t: float) -> _ShoePose:
        """The pose of ``foot``'s shoe at time ``t``."""
        steps = self._by_foot[foot]
        i = bisect.bisect_right(self._touches[foot], t) - 1
        if i < 0 or i + 1 >= len(steps):
            raise ValueError(f"t={t:.3f} s is outside the scheduled steps")
        step = steps[i]
        if t <= step.t_release:
            return self.stance_pose(step, t)
        return self.swing_pose(step, steps[i + 1], t)

    def hip(self, t: float) -> tuple[float, float]:
        """Hip joint (world m): above u = 0, lowest at mid-stance of the current step."""
        i = min(max(bisect.bisect_right(self._all_touches, t) - 1, 0), len(self.steps) - 2)
        step = self.steps[i]
        period = self.steps[i + 1].t_touch - step.t_touch
        mid_stance = step.t_touch + 0.5 * (step.t_release - step.t_touch)
        return 0.0, HIP_HEIGHT_M - HIP_BOB_M * math.cos(2.0 * math.pi * (t - mid_stance) / period)


# ------------------------------------------------------------------------------------------------
# Scenery: background, belt texture, shoe sprites
# ------------------------------------------------------------------------------------------------

def _periodic_blur(rows: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur along x of a band that wraps around in x (the belt is a loop)."""
    spectrum = np.fft.rfft(rows, axis=1)
    f = np.fft.rfftfreq(rows.shape[1])
    return np.fft.irfft(spectrum * np.exp(-2.0 * (math.pi * sigma_px * f) ** 2), n=rows.shape[1], axis=1)


def _belt_texture(height: int, period: int, rng: np.random.Generator) -> np.ndarray:
    """Grey levels of one turn of the belt (rows x period): fine and coarser rubber grain, mottling,
    transverse scuffs, specks and a seam."""
    fine = _periodic_blur(rng.standard_normal((height, period)), 0.9)
    fine = cv2.GaussianBlur(fine.astype(np.float32), (1, 5), 0, sigmaY=0.8).astype(np.float64)
    fine *= 8.0 / max(float(fine.std()), 1e-6)
    grain = _periodic_blur(rng.standard_normal((height, period)), 2.5)
    grain = cv2.GaussianBlur(grain.astype(np.float32), (1, 9), 0, sigmaY=1.5).astype(np.float64)
    grain *= 7.0 / max(float(grain.std()), 1e-6)
    mottle = _periodic_blur(rng.standard_normal((height, period)), 14.0)
    mottle = cv2.GaussianBlur(mottle.astype(np.float32), (1, 9), 0, sigmaY=3.0).astype(np.float64)
    mottle *= 5.0 / max(float(mottle.std()), 1e-6)
    marks = np.zeros((height, period), np.float32)
    for _ in range(period // 40):  # short transverse scuffs and weave marks
        x = rng.uniform(8, period - 8)
        y0, y1 = sorted(rng.uniform(0, height, 2))
        slant = rng.uniform(-3, 3)
        cv2.line(marks, (int(x * 16), int(y0 * 16)), (int((x + slant) * 16), int(y1 * 16)),
                 float(rng.uniform(8, 22)), 1, cv2.LINE_AA, 4)
    for _ in range(period // 12):  # dust and lint specks
        cv2.circle(marks, (int(rng.uniform(4, period - 4) * 16), int(rng.uniform(0, height) * 16)),
                   int(rng.uniform(0.6, 1.6) * 16), float(rng.uniform(15, 45)), -1, cv2.LINE_AA, 4)
    seam_x = period * 0.5
    cv2.line(marks, (int(seam_x * 16), 0), (int((seam_x + 0.4 * height) * 16), int(height * 16)),
             30.0, 2, cv2.LINE_AA, 4)
    depth_shade = np.linspace(-4.0, 3.0, height)[:, None]  # the far part of the belt a little darker
    grey = 58.0 + fine + grain + mottle + depth_shade + _periodic_blur(marks.astype(np.float64), 0.6)
    return grey


def _blur_and_upsample_belt(grey: np.ndarray, blur_px: float, factor: int) -> np.ndarray:
    """The belt texture box-blurred over ``blur_px`` of travel (the exposure) and upsampled ``factor``
    times by band-limited (Fourier) interpolation, so a linear sample at any offset is sub-pixel exact."""
    rows, period = grey.shape
    spectrum = np.fft.rfft(grey, axis=1)
    f = np.fft.rfftfreq(period)
    spectrum *= np.sinc(f * blur_px)
    spectrum *= np.exp(-2.0 * (math.pi * 0.35 * f) ** 2)  # a touch of optical softness, band-limiting
    return (np.fft.irfft(spectrum, n=period * factor, axis=1) * factor).astype(np.float32)


@dataclass(frozen=True)
class _BeltGeometry:
    """Rows of the treadmill's parts (right-facing render; rows are the same in the output)."""

    belt_row: int  # the first row fully below the sole line
    band_top: int
    band_bottom: int  # exclusive
    rail_bottom: int

    @property
    def sole_line_y(self) -> float:
        return self.belt_row - 0.5


def _belt_geometry(size: tuple[int, int], px_per_m: float) -> _BeltGeometry:
    """Place the belt so that the near rail and a strip of floor fit below it."""
    height = size[1]
    below, rail, floor = round(0.08 * px_per_m), round(0.06 * px_per_m), round(0.06 * px_per_m)
    belt_row = max(height - below - rail - floor, height // 2)
    band_top = max(belt_row - round(0.03 * px_per_m), 0)
    band_bottom = min(belt_row + below, height)
    return _BeltGeometry(belt_row, band_top, band_bottom, min(band_bottom + rail, height))


def _background(size: tuple[int, int], px_per_m: float, belt: _BeltGeometry, facing_right_front_x: float,
                rng: np.random.Generator) -> np.ndarray:
    """The static scene (right-facing render): gym wall with fittings, treadmill rails, floor. float32 RGB."""
    width, height = size
    img = np.empty((height, width, 3), np.float32)
    img[:] = (196, 190, 178)
    img += np.linspace(6, -6, height, dtype=np.float32)[:, None, None]
    blotch = cv2.GaussianBlur(rng.standard_normal((height, width)).astype(np.float32), (0, 0), 18)
    img += (blotch * (6.0 / max(float(blotch.std()), 1e-6)))[..., None]
    img += rng.normal(0.0, 2.5, (height, width, 1)).astype(np.float32)
    _wall_fittings(img, px_per_m, belt, facing_right_front_x, rng)
    _treadmill_static_parts(img, px_per_m, belt, rng)
    return np.clip(img, 0, 255)


def _wall_fittings(img: np.ndarray, px_per_m: float, belt: _BeltGeometry, front_x: float,
                   rng: np.random.Generator) -> None:
    """Dado rail, skirting, a poster, a window, a socket and the treadmill's far upright."""
    height, width = img.shape[:2]
    dado_y = int(belt.band_top - 0.55 * px_per_m)
    cv2.rectangle(img, (0, dado_y), (width, dado_y + max(int(0.02 * px_per_m), 2)), (150, 120, 90), -1)
    cv2.rectangle(img, (0, belt.band_top - int(0.10 * px_per_m)), (width, belt.band_top), (120, 118, 112), -1)
    x0 = int(rng.uniform(0.05, 0.25) * width)
    y0 = dado_y - int(0.75 * px_per_m)
    pw, ph = int(0.32 * px_per_m), int(0.45 * px_per_m)
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), (235, 232, 220), -1)
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), (60, 60, 60), 2)
    for _ in range(6):  # the poster's picture blocks and lines of text
        bx, by = x0 + int(rng.uniform(0.05, 0.6) * pw), y0 + int(rng.uniform(0.05, 0.8) * ph)
        colour = tuple(float(c) for c in rng.uniform(30, 220, 3))
        cv2.rectangle(img, (bx, by), (bx + int(0.3 * pw), by + int(0.12 * ph)), colour, -1)
    window_x = int(rng.uniform(0.55, 0.7) * width)
    ww, wh = int(0.5 * px_per_m), int(0.35 * px_per_m)
    cv2.rectangle(img, (window_x, y0), (window_x + ww, y0 + wh), (205, 220, 235), -1)
    cv2.rectangle(img, (window_x, y0), (window_x + ww, y0 + wh), (240, 240, 240), max(int(0.02 * px_per_m), 2))
    cv2.line(img, (window_x + ww // 2, y0), (window_x + ww // 2, y0 + wh), (240, 240, 240), 3)
    socket_x, socket_y = int(0.4 * width), belt.band_top - int(0.22 * px_per_m)
    s = int(0.035 * px_per_m)
    cv2.rectangle(img, (socket_x, socket_y), (socket_x + 2 * s, socket_y + s), (240, 240, 236), -1)
    cv2.rectangle(img, (socket_x, socket_y), (socket_x + 2 * s, socket_y + s), (140, 140, 140), 1)
    upright = int(front_x)
    cv2.rectangle(img, (upright, 0), (upright + int(0.05 * px_per_m), belt.band_top), (70, 72, 78), -1)
    cv2.line(img, (upright + 2, 0), (upright + 2, belt.band_top), (120, 122, 128), 1)


def _treadmill_static_parts(img: np.ndarray, px_per_m: float, belt: _BeltGeometry,
                            rng: np.random.Generator) -> None:
    """The far rail above the belt band, the near side rail below it, and the floor."""
    height, width = img.shape[:2]
    far_rail = max(int(0.012 * px_per_m), 2)
    cv2.rectangle(img, (0, belt.band_top - far_rail), (width, belt.band_top - 1), (40, 40, 44), -1)
    img[belt.band_bottom:belt.rail_bottom] = (150, 152, 158)
    if belt.rail_bottom > belt.band_bottom + 4:
        img[belt.band_bottom:belt.band_bottom + 2] = (200, 202, 208)  # the rail's lit top edge
        rail = np.ascontiguousarray(img[belt.band_bottom:belt.rail_bottom]).astype(np.uint8)  # putText: 8-bit only
        text_y = int(0.7 * (belt.rail_bottom - belt.band_bottom))
        for x in range(int(0.05 * width), width, int(0.6 * width)):
            cv2.putText(rail, "TRACKPRO 900", (x, text_y), cv2.FONT_HERSHEY_SIMPLEX, 0.0012 * px_per_m,
                        (60, 60, 70), 1, cv2.LINE_AA)
        img[belt.band_bottom:belt.rail_bottom] = rail
    floor = img[belt.rail_bottom:]
    floor[:] = (70, 70, 72)
    floor += rng.normal(0.0, 6.0, floor.shape[:2] + (1,)).astype(np.float32)
    if belt.rail_bottom < height:
        img[belt.rail_bottom:belt.rail_bottom + 3] *= 0.6  # shadow under the deck


class _ShoeSprite:
    """A premultiplied RGBA picture of the shoe in its own frame, and its mapping to shoe metres.

    Painted at 4x resolution with hard edges and reduced by area averaging: every edge is
    anti-aliased by its true coverage. Sprite pixel centres are at integer (column, row).
    """

    SUPERSAMPLING = 4

    def __init__(self, px_per_m: float, palette: dict[str, tuple[int, int, int]], shade: float,
                 rng: np.random.Generator):
        self.scale = px_per_m  # sprite pixels per metre (drawn at the image's scale)
        self.x_min = HEEL_X - SPRITE_MARGIN_M
        self.y_max = SHOE_HEIGHT_M + SPRITE_MARGIN_M
        width = int(math.ceil((SHOE_LENGTH_M + 2 * SPRITE_MARGIN_M) * px_per_m)) + 1
        height = int(math.ceil((SHOE_HEIGHT_M + 2 * SPRITE_MARGIN_M) * px_per_m)) + 1
        self.rgba = self._paint(width, height, palette, shade, rng)

    def to_sprite(self, x: float, y: float) -> tuple[float, float]:
        """Sprite pixel (column, row) of the shoe point (x, y) in metres."""
        return (x - self.x_min) * self.scale, (self.y_max - y) * self.scale

    def _fine(self, x: float, y: float) -> tuple[int, int]:
        """The shoe point (x, y) on the 4x painting canvas, in 1/16 px (cv2's shift=4)."""
        column, row = self.to_sprite(x, y)
        s = self.SUPERSAMPLING
        return round((s * column + (s - 1) / 2) * 16), round((s * row + (s - 1) / 2) * 16)

    def _polygon(self, points_m) -> np.ndarray:
        return np.array([self._fine(x, y) for x, y in points_m], np.int32)

    def _paint(self, width: int, height: int, palette, shade: float, rng: np.random.Generator) -> np.ndarray:
        """Upper with mesh texture, white logo, heel tab, laces; white midsole with grooves; dark outsole."""
        s = self.SUPERSAMPLING
        fine_shape = (height * s, width * s)
        alpha = np.zeros(fine_shape, np.float32)
        cv2.fillPoly(alpha, [self._polygon(SHOE_OUTLINE_M)], 1.0, cv2.LINE_8, 4)
        colour = np.empty(fine_shape + (3,), np.float32)
        colour[:] = palette["upper"]
        mesh = cv2.GaussianBlur(rng.standard_normal(fine_shape).astype(np.float32), (0, 0), 0.8 * s)
        colour *= (1.0 + 0.08 * mesh / max(float(mesh.std()), 1e-6))[..., None]
        self._paint_details(colour, palette)
        shoe_y = self.y_max - ((np.arange(fine_shape[0], dtype=np.float32) - (s - 1) / 2) / s) / self.scale
        colour[shoe_y < MIDSOLE_TOP_M] = palette["midsole"]
        for groove_x in np.arange(0.03, SHOE_LENGTH_M - 0.02, 0.045):  # flex grooves on the midsole
            cv2.line(colour, self._fine(groove_x, MIDSOLE_TOP_M - 0.004),
                     self._fine(groove_x + 0.006, OUTSOLE_TOP_M + 0.002), (150, 150, 150), s, cv2.LINE_8, 4)
        colour[shoe_y < OUTSOLE_TOP_M] = palette["outsole"]
        premultiplied = np.concatenate([colour * shade * alpha[..., None], 255.0 * alpha[..., None]], axis=2)
        reduced = cv2.resize(premultiplied, (width, height), interpolation=cv2.INTER_AREA)
        return np.clip(reduced + 0.5, 0, 255).astype(np.uint8)

    def _paint_details(self, colour: np.ndarray, palette) -> None:
        """The logo stripe, the heel tab, the laces and the eyelets on the upper."""
        swoosh = [(0.05, 0.030), (0.12, 0.036), (0.20, 0.050), (0.235, 0.060), (0.19, 0.042), (0.11, 0.027),
                  (0.06, 0.024)]
        cv2.fillPoly(colour, [self._polygon(swoosh)], palette["logo"], cv2.LINE_8, 4)
        tab = [(-0.012, 0.050), (0.022, 0.058), (0.024, 0.095), (-0.012, 0.095)]
        cv2.fillPoly(colour, [self._polygon(tab)], palette["accent"], cv2.LINE_8, 4)
        for i in range(5):
            x = 0.135 + 0.022 * i
            y = 0.075 - 0.011 * i
            lace = [(x - 0.008, y - 0.003), (x + 0.008, y + 0.002), (x + 0.007, y + 0.006), (x - 0.009, y + 0.001)]
            cv2.fillPoly(colour, [self._polygon(lace)], palette["laces"], cv2.LINE_8, 4)
            cv2.circle(colour, self._fine(x, y - 0.008), round(0.003 * self.scale * self.SUPERSAMPLING * 16),
                       (30, 30, 30), -1, cv2.LINE_8, 4)


# ------------------------------------------------------------------------------------------------
# The renderer
# ------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Body:
    """Where everything is at one instant, in render-image pixels (right-facing, no shake)."""

    hip: tuple[float, float]
    shoes: dict[str, _ShoePose]
    knees: dict[str, tuple[float, float]]
    ankles: dict[str, tuple[float, float]]


class TreadmillRender:
    """Frames and synthetic poses of a runner on a treadmill seen from the side, with exact truth.

    ``truth`` lists every contact seen in the frames, in time order (the first is the near foot's).
    ``belt_px_per_s`` is the belt surface's signed image-x velocity, ``belt_y_px`` the image row of
    the sole line (between two pixel rows). ``frames()`` renders ``n_frames`` frames at times
    ``index / fps`` and can be called again for identical output.

    Example::

        render = TreadmillRender(PixelScene(fps=120, strike="toe"), n_steps=20)
        for frame, pose in render.frames(): ...
    """

    def __init__(self, scene: PixelScene, n_steps: int):
        if n_steps < 1:
            raise ValueError(f"n_steps must be at least 1, not {n_steps}")
        self.scene = scene
        # One independent stream per aspect: changing how one is drawn leaves the others as they were.
        seeds = dict(zip(("schedule", "scenery", "belt", "shoes", "noise_bank", "shake", "noise", "landmarks",
                          "arrest"), np.random.SeedSequence(scene.seed).spawn(9), strict=True))
        self._seeds = seeds
        self._gait = _Gait(scene, n_steps, np.random.default_rng(seeds["schedule"]),
                           np.random.default_rng(seeds["arrest"]))
        self.truth: list[StepTruth] = [self._truth_of(s) for s in self._gait.rendered]
        self.n_frames = int(math.ceil(self._gait.end_s * scene.fps))
        self.duration_s = self._gait.end_s
        width, height = scene.size
        self._mirror = scene.facing == "left"
        self._belt = _belt_geometry(scene.size, scene.px_per_m)
        self._hip_x = 0.5 * width
        self._render_belt_px_per_s = -scene.belt_speed_mps * scene.px_per_m
        self.belt_px_per_s = -self._render_belt_px_per_s if self._mirror else self._render_belt_px_per_s
        self.belt_y_px = self._belt.sole_line_y
        self._background = _background(scene.size, scene.px_per_m, self._belt, 0.9 * width,
                                       np.random.default_rng(seeds["scenery"]))
        self._belt_fine, self._belt_tint = self._make_belt(np.random.default_rng(seeds["belt"]))
        shoe_rng = np.random.default_rng(seeds["shoes"])
        self._sprites = {"near": _ShoeSprite(scene.px_per_m, NEAR_SHOE, 1.0, shoe_rng),
                         "far": _ShoeSprite(scene.px_per_m, NEAR_SHOE, FAR_SHADE, shoe_rng)}
        self._leg_palettes = {"near": {k: (*v, 255) for k, v in NEAR_LEG.items()},
                              "far": {k: (*(c * FAR_SHADE for c in v), 255) for k, v in NEAR_LEG.items()}}
        self._noise_bank = self._make_noise_bank(np.random.default_rng(seeds["noise_bank"]))
        self._shake = np.random.default_rng(seeds["shake"]).normal(
            0.0, scene.camera_shake_px, (self.n_frames, 2)) if scene.camera_shake_px > 0 else None

    # --- truth and geometry ---
    @staticmethod
    def _truth_of(step: _Step) -> StepTruth:
        return StepTruth(step.foot, step.t_touch, step.t_lock, step.t_release, step.touch_angle_deg,
                         step.t_heel_rise, (step.touch_forward_mps, -step.touch_down_mps))

    def _to_px(self, u: float, v: float) -> tuple[float, float]:
        """Render-image pixel of a world point (right-facing, no shake)."""
        return self._hip_x + u * self.scene.px_per_m, self.belt_y_px - v * self.scene.px_per_m

    def _body(self, t: float) -> _Body:
        """Hip, knees, ankles and shoes of both legs at ``t``."""
        hip = self._gait.hip(t)
        shoes, knees, ankles = {}, {}, {}
        for foot in FEET:
            shoe = self._gait.shoe_pose(foot, t)
            ankle = shoe.world(*ANKLE_IN_SHOE_M)
            shoes[foot] = shoe
            knees[foot] = self._to_px(*_knee_from_ik(hip, ankle))
            ankles[foot] = self._to_px(*ankle)
        return _Body(self._to_px(*hip), shoes, knees, ankles)

    def _output_x(self, x: float) -> float:
        """An x of the right-facing render in the output image (mirrored when facing left)."""
        return (self.scene.size[0] - 1) - x if self._mirror else x

    def sole_points_px(self, t: float, foot: str) -> tuple[tuple[float, float], tuple[float, float]]:
        """Exact image positions (x, y px, no shake) of ``foot``'s heel point and toe point on the sole
        line at ``t``: the ground truth of where the shoe meets the belt."""
        shoe = self._gait.shoe_pose(foot, t)
        heel, toe = self._to_px(*shoe.world(HEEL_X, 0.0)), self._to_px(*shoe.world(TOE_X, 0.0))
        return (self._output_x(heel[0]), heel[1]), (self._output_x(toe[0]), toe[1])

    def shoe_mask(self, t: float, foot: str) -> np.ndarray:
        """Where ``foot``'s shoe is at the instant ``t`` (bool [H, W], sharp, no shake): the drawn
        silhouette with at least half coverage, as composited into the frames."""
        width, height = self.scene.size
        matrix = self._sprite_matrix(foot, self._gait.shoe_pose(foot, t), (0.0, 0.0))
        alpha = cv2.warpAffine(self._sprites[foot].rgba[..., 3], matrix, (width, height), flags=cv2.INTER_LINEAR)
        mask = alpha >= 128
        return mask[:, ::-1].copy() if self._mirror else mask

    def camera_offset(self, index: int) -> tuple[float, float]:
        """The camera shake's image shift (dx, dy px) in frame ``index`` (0, 0 without shake)."""
        if self._shake is None:
            return 0.0, 0.0
        dx, dy = (float(v) for v in self._shake[index])
        return (-dx if self._mirror else dx), dy

    # --- frames ---
    def frames(self) -> Iterator[tuple[Frame, Pose]]:
        """Every frame with its synthetic pose, in order."""
        noise_rng = np.random.default_rng(self._seeds["noise"])
        landmark_rng = np.random.default_rng(self._seeds["landmarks"])
        previous_field = -1
        for index in range(self.n_frames):
            t = index / self.scene.fps
            image = self._render_clean(t, index)
            if self._noise_bank is not None:
                previous_field = self._add_noise(image, noise_rng, previous_field)
            if self._mirror:
                image = cv2.flip(image, 1)
            pose = self._pose(t, index, landmark_rng)
            yield Frame(t, index, image), pose

    def render_frame(self, index: int) -> Frame:
        """Frame ``index`` alone, without noise (for looking at single instants)."""
        image = self._render_clean(index / self.scene.fps, index)
        return Frame(index / self.scene.fps, index, cv2.flip(image, 1) if self._mirror else image)

    def _render_clean(self, t: float, index: int) -> np.ndarray:
        """The blurred, shaken, rounded image of frame ``index`` (right-facing render, uint8 RGB)."""
        image = self._background.copy()
        belt = self._belt
        image[belt.band_top:belt.band_bottom] = self._belt_band(t)
        shutter = self.scene.exposure / self.scene.fps
        shoe_times, limb_times = self._subframe_times(t, shutter)
        shoe_bodies = [self._body(ts) for ts in shoe_times]
        limb_bodies = shoe_bodies if limb_times is shoe_times else [self._body(ts) for ts in limb_times]
        for foot in ("far", "near"):
            self._composite(image, self._limb_layer(foot, limb_bodies))
            self._composite(image, self._shoe_layer(foot, shoe_bodies))
        if self._shake is not None:
            dx, dy = self._shake[index]
            image = cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), self.scene.size,
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return cv2.convertScaleAbs(image)

    def _subframe_times(self, t: float, shutter: float) -> tuple[list[float], list[float]]:
        """Sub-frame instants across the shutter for the shoes (about one per pixel of their travel)
        and for the limbs (coarser)."""
        if shutter <= 0.0:
            return [t], [t]
        start, end = self._body(t - 0.5 * shutter), self._body(t + 0.5 * shutter)
        travel = 0.0
        for foot in FEET:
            for x in (HEEL_X, TOE_X):
                a = self._to_px(*start.shoes[foot].world(x, 0.0))
                b = self._to_px(*end.shoes[foot].world(x, 0.0))
                travel = max(travel, math.hypot(b[0] - a[0], b[1] - a[1]))

        def instants(kind: str) -> list[float]:
            n = int(min(max(math.ceil(travel / SUBFRAME_TRAVEL_PX[kind]), 1), MAX_SUBFRAMES[kind]))
            return [t + ((k + 0.5) / n - 0.5) * shutter for k in range(n)]

        shoe_times, limb_times = instants("shoe"), instants("limb")
        return shoe_times, (shoe_times if limb_times == shoe_times else limb_times)

    def _belt_band(self, t: float) -> np.ndarray:
        """The belt band's pixels at ``t`` (mid-exposure offset; the exposure blur is in the texture)."""
        fine = self._belt_fine
        columns = fine.shape[1]
        xs = (np.arange(self.scene.size[0], dtype=np.float64) - self._render_belt_px_per_s * t) * BELT_UPSAMPLING
        xs = np.mod(xs, columns)
        left = np.floor(xs).astype(np.int64)
        frac = (xs - left).astype(np.float32)
        right = (left + 1) % columns
        grey = fine[:, left] * (1.0 - frac) + fine[:, right] * frac
        return grey[..., None] * self._belt_tint

    def _make_belt(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The belt's texture (one turn, exposure-blurred, upsampled) and its colour tint."""
        belt = self._belt
        period = 4096
        while period < 3 * self.scene.size[0]:
            period *= 2
        grey = _belt_texture(belt.band_bottom - belt.band_top, period, rng)
        blur_px = abs(self._render_belt_px_per_s) * self.scene.exposure / self.scene.fps
        fine = _blur_and_upsample_belt(grey, blur_px, BELT_UPSAMPLING)
        return fine, np.array([0.96, 0.98, 1.05], np.float32)

    def _make_noise_bank(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Pre-drawn Gaussian noise fields (positive and negative parts, uint8) larger than the frame."""
        if self.scene.noise_sigma <= 0:
            return None
        width, height = self.scene.size
        shape = (NOISE_FIELDS, height + 2 * NOISE_MARGIN_PX, width + 2 * NOISE_MARGIN_PX, 3)
        noise = np.rint(rng.standard_normal(shape, dtype=np.float32) * self.scene.noise_sigma)
        return (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))

    def _add_noise(self, image: np.ndarray, rng: np.random.Generator, previous_field: int) -> int:
        """Add a random crop of a noise field (never the previous frame's field); returns the field used."""
        positive, negative = self._noise_bank
        chosen = int(rng.integers(NOISE_FIELDS - 1))
        if 0 <= previous_field <= chosen:
            chosen += 1
        dy, dx = (int(v) for v in rng.integers(0, 2 * NOISE_MARGIN_PX + 1, 2))
        height, width = image.shape[:2]
        window = (slice(dy, dy + height), slice(dx, dx + width))
        cv2.add(image, positive[chosen][window], dst=image)
        cv2.subtract(image, negative[chosen][window], dst=image)
        return chosen

    # --- layers ---
    def _composite(self, image: np.ndarray, layer: tuple[tuple[int, int], np.ndarray, int] | None) -> None:
        """Lay a premultiplied RGBA sum of ``n`` sub-frames over the image at its origin."""
        if layer is None:
            return
        (x0, y0), summed, n = layer
        h, w = summed.shape[:2]
        region = image[y0:y0 + h, x0:x0 + w]
        uncovered = 1.0 - cv2.extractChannel(summed, 3) * (1.0 / (255.0 * n))
        behind = cv2.multiply(region, cv2.merge((uncovered, uncovered, uncovered)))
        region[:] = cv2.scaleAdd(cv2.cvtColor(summed, cv2.COLOR_RGBA2RGB), 1.0 / n, behind)

    def _roi(self, points: list[tuple[float, float]], margin: float) -> tuple[int, int, int, int] | None:
        """Integer box (x0, y0, x1, y1) around points, clipped to the image; None if empty."""
        width, height = self.scene.size
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, y0 = max(int(min(xs) - margin), 0), max(int(min(ys) - margin), 0)
        x1, y1 = min(int(max(xs) + margin) + 2, width), min(int(max(ys) + margin) + 2, height)
        return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)

    def _sprite_matrix(self, foot: str, shoe: _ShoePose, origin: tuple[float, float]) -> np.ndarray:
        """Affine map from sprite pixels to image pixels relative to ``origin`` for a shoe pose."""
        sprite = self._sprites[foot]
        ppm = self.scene.px_per_m
        c, s = math.cos(shoe.angle), math.sin(shoe.angle)
        # sprite (col, row) -> shoe (x, y) = (x_min + col/k, y_max - row/k) -> world -> image.
        k = sprite.scale
        x_of = (1.0 / k, 0.0, sprite.x_min - shoe.pivot_x)  # x - pivot_x as a function of (col, row, 1)
        y_of = (0.0, -1.0 / k, sprite.y_max)
        u_of = [c * a - s * b for a, b in zip(x_of, y_of, strict=True)]
        v_of = [s * a + c * b for a, b in zip(x_of, y_of, strict=True)]
        u_of[2] += shoe.pivot_u
        v_of[2] += shoe.pivot_v
        row_x = [ppm * a for a in u_of]
        row_x[2] += self._hip_x - origin[0]
        row_y = [-ppm * a for a in v_of]
        row_y[2] += self.belt_y_px - origin[1]
        return np.array([row_x, row_y], np.float64)

    def _shoe_corners(self, foot: str, shoe: _ShoePose) -> list[tuple[float, float]]:
        sprite = self._sprites[foot]
        x_max = sprite.x_min + sprite.rgba.shape[1] / sprite.scale
        y_min = sprite.y_max - sprite.rgba.shape[0] / sprite.scale
        return [self._to_px(*shoe.world(x, y)) for x in (sprite.x_min, x_max) for y in (y_min, sprite.y_max)]

    def _shoe_layer(self, foot: str, bodies: list[_Body]):
        """The shoe's sub-frames warped from its sprite and summed over the shutter."""
        corners = [p for body in bodies for p in self._shoe_corners(foot, body.shoes[foot])]
        box = self._roi(corners, 2.0)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        summed = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        for body in bodies:
            matrix = self._sprite_matrix(foot, body.shoes[foot], (x0, y0))
            warped = cv2.warpAffine(self._sprites[foot].rgba, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            cv2.accumulate(warped, summed)
        return (x0, y0), summed, len(bodies)

    def _limb_layer(self, foot: str, bodies: list[_Body]):
        """The leg (and, with the near leg, the trunk behind it) drawn per sub-frame and summed."""
        reach = 0.5 * THIGH_WIDTH_M[0] * self.scene.px_per_m + 2
        points = [p for b in bodies for p in (b.hip, b.knees[foot], b.ankles[foot])]
        if foot == "near":
            points += [(b.hip[0] + dx * self.scene.px_per_m, b.hip[1] - dy * self.scene.px_per_m)
                       for b in bodies[:1] + bodies[-1:] for dx, dy in ((-0.2, 0.0), (0.3, TRUNK_M + 0.3))]
        box = self._roi(points, reach)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        summed = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        canvas = np.zeros_like(summed, dtype=np.uint8)
        for body in bodies:
            canvas[:] = 0
            if foot == "near":
                self._draw_trunk(canvas, (x0, y0), body.hip)
            self._draw_leg(canvas, (x0, y0), body.hip, body.knees[foot], body.ankles[foot],
                           self._leg_palettes[foot])
            cv2.accumulate(canvas, summed)
        return (x0, y0), summed, len(bodies)

    def _draw_trunk(self, canvas: np.ndarray, origin: tuple[int, int], hip: tuple[float, float]) -> None:
        """Shirt and shorts above the hips, leaning forward."""
        ppm = self.scene.px_per_m
        lean = math.radians(TRUNK_LEAN_DEG)
        top = (hip[0] + math.sin(lean) * (TRUNK_M + 0.3) * ppm, hip[1] - math.cos(lean) * (TRUNK_M + 0.3) * ppm)
        shirt = [(hip[0] - 0.13 * ppm, hip[1] - 0.08 * ppm), (hip[0] + 0.12 * ppm, hip[1] - 0.08 * ppm),
                 (top[0] + 0.13 * ppm, top[1]), (top[0] - 0.14 * ppm, top[1])]
        _fill(canvas, origin, shirt, (*SHIRT, 255))
        _disc(canvas, origin, hip, 0.125 * ppm, self._leg_palettes["near"]["shorts"])

    def _draw_leg(self, canvas: np.ndarray, origin: tuple[int, int], hip, knee, ankle, palette) -> None:
        """Thigh (shorts, then skin), shank (skin, then sock) as tapered limbs with round joints."""
        ppm = self.scene.px_per_m
        thigh_w = [w * ppm for w in THIGH_WIDTH_M]
        shank_w = [w * ppm for w in SHANK_WIDTH_M]
        shorts_end = _lerp(hip, knee, SHORTS_FRACTION)
        shorts_w = _lerp1(thigh_w[0], thigh_w[1], SHORTS_FRACTION) * 1.08
        _fill(canvas, origin, _tapered(hip, knee, thigh_w[0], thigh_w[1]), palette["skin"])
        _disc(canvas, origin, knee, 0.5 * thigh_w[1], palette["skin"])
        _fill(canvas, origin, _tapered(knee, ankle, shank_w[0], shank_w[1]), palette["skin"])
        shank_len = math.hypot(ankle[0] - knee[0], ankle[1] - knee[1])
        sock_start = _lerp(ankle, knee, min(SOCK_M * ppm / max(shank_len, 1e-6), 1.0))
        _fill(canvas, origin, _tapered(sock_start, ankle, shank_w[1] * 1.02, shank_w[1] * 1.02), palette["sock"])
        _fill(canvas, origin, _tapered(hip, shorts_end, thigh_w[0] * 1.08, shorts_w), palette["shorts"])
        _disc(canvas, origin, hip, 0.54 * thigh_w[0], palette["shorts"])

    # --- landmarks ---
    def _pose(self, t: float, index: int, rng: np.random.Generator) -> Pose:
        """The synthetic pose at ``t``: noise-free landmarks plus shake, mirroring and Gaussian noise."""
        landmarks = self.landmarks(t, index)
        noise = rng.normal(0.0, self.scene.landmark_noise_px, (NUM_LANDMARKS, 2))
        landmarks[:, :2] += noise.astype(np.float32)
        return Pose(t, index, landmarks, 0.9, tuple(self.scene.size))

    def landmarks(self, t: float, index: int | None = None) -> np.ndarray:
        """Noise-free [33, 5] float32 landmarks at ``t`` (x px, y px, z, visibility, presence) in the
        output image, shifted by frame ``index``'s camera shake when given."""
        body = self._body(t)
        sides = ("left", "right") if not self._mirror else ("right", "left")  # (near, far)
        points: dict[int, tuple[float, float]] = {}
        z = np.zeros(NUM_LANDMARKS, np.float32)
        depth = 0.12 * self.scene.px_per_m
        for foot, side in zip(FEET, sides, strict=True):
            up = side.upper()
            shoe = body.shoes[foot]
            points[L[f"{up}_HIP"]] = body.hip
            points[L[f"{up}_KNEE"]] = body.knees[foot]
            points[L[f"{up}_ANKLE"]] = body.ankles[foot]
            points[L[f"{up}_HEEL"]] = self._to_px(*shoe.world(*HEEL_MARK_IN_SHOE_M))
            points[L[f"{up}_FOOT_INDEX"]] = self._to_px(*shoe.world(*TOE_MARK_IN_SHOE_M))
            for name in ("HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX", "SHOULDER", "ELBOW", "WRIST", "PINKY",
                         "INDEX", "THUMB", "EYE", "EYE_INNER", "EYE_OUTER", "EAR"):
                z[L[f"{up}_{name}"]] = -depth if foot == "near" else depth
        points.update(self._upper_body_px(body, sides))
        landmarks = np.zeros((NUM_LANDMARKS, 5), np.float32)
        dx, dy = (self._shake[index] if self._shake is not None and index is not None else (0.0, 0.0))
        for i, (x, y) in points.items():
            landmarks[i, 0] = self._output_x(x + dx)
            landmarks[i, 1] = y + dy
        landmarks[:, 2] = z
        landmarks[:, VISIBILITY] = LANDMARK_VISIBILITY["near"]
        far = sides[1].upper()
        for name in ("HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX"):
            landmarks[L[f"{far}_{name}"], VISIBILITY] = LANDMARK_VISIBILITY["far"]
        landmarks[:, PRESENCE] = landmarks[:, VISIBILITY]
        width, height = self.scene.size
        outside = ((landmarks[:, 0] < 0) | (landmarks[:, 0] > width - 1)
                   | (landmarks[:, 1] < 0) | (landmarks[:, 1] > height - 1))
        landmarks[outside, VISIBILITY] = LANDMARK_VISIBILITY["off_image"]
        return landmarks

    def _upper_body_px(self, body: _Body, sides: tuple[str, str]) -> dict[int, tuple[float, float]]:
        """Shoulders, arms swinging against the legs, and the face, in render pixels."""
        ppm = self.scene.px_per_m
        lean = math.radians(TRUNK_LEAN_DEG)
        trunk = (math.sin(lean) * ppm, -math.cos(lean) * ppm)
        shoulder = (body.hip[0] + TRUNK_M * trunk[0], body.hip[1] + TRUNK_M * trunk[1])
        head = (shoulder[0] + 0.24 * trunk[0], shoulder[1] + 0.24 * trunk[1])
        points = {}
        for foot, side in zip(FEET, sides, strict=True):
            other = "far" if foot == "near" else "near"
            swing = max(min((body.knees[other][0] - body.hip[0]) / (0.3 * ppm), 1.0), -1.0)
            upper = math.radians(-90.0 + 35.0 * swing)
            fore = upper + math.radians(90.0)
            elbow = (shoulder[0] + 0.28 * ppm * math.cos(upper), shoulder[1] - 0.28 * ppm * math.sin(upper))
            wrist = (elbow[0] + 0.26 * ppm * math.cos(fore), elbow[1] - 0.26 * ppm * math.sin(fore))
            up = side.upper()
            points[L[f"{up}_SHOULDER"]] = shoulder
            points[L[f"{up}_ELBOW"]] = elbow
            points[L[f"{up}_WRIST"]] = wrist
            for hand, (hx, hy) in (("PINKY", (0.02, 0.07)), ("INDEX", (0.05, 0.07)), ("THUMB", (0.04, 0.03))):
                points[L[f"{up}_{hand}"]] = (wrist[0] + hx * ppm, wrist[1] + hy * ppm)
            for name, (fx, fy) in (("EYE_INNER", (0.08, 0.04)), ("EYE", (0.07, 0.04)), ("EYE_OUTER", (0.06, 0.04)),
                                   ("EAR", (-0.02, 0.02))):
                points[L[f"{up}_{name}"]] = (head[0] + fx * ppm, head[1] - fy * ppm)
            points[L[f"MOUTH_{up}"]] = (head[0] + 0.08 * ppm, head[1] + 0.05 * ppm)
        points[L.NOSE] = (head[0] + 0.10 * ppm, head[1])
        return points


# --- drawing helpers (pixel coordinates relative to a canvas origin; 4 fractional bits) ---

def _lerp(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f


def _lerp1(a: float, b: float, f: float) -> float:
    return a + (b - a) * f


def _tapered(p0, p1, w0: float, w1: float) -> list[tuple[float, float]]:
    """A quadrilateral limb from p0 (width w0) to p1 (width w1)."""
    du, dv = p1[0] - p0[0], p1[1] - p0[1]
    n = math.hypot(du, dv) or 1.0
    nx, ny = -dv / n, du / n
    return [(p0[0] + nx * w0 / 2, p0[1] + ny * w0 / 2), (p1[0] + nx * w1 / 2, p1[1] + ny * w1 / 2),
            (p1[0] - nx * w1 / 2, p1[1] - ny * w1 / 2), (p0[0] - nx * w0 / 2, p0[1] - ny * w0 / 2)]


def _fill(canvas: np.ndarray, origin: tuple[int, int], points, colour) -> None:
    pts = np.array([[round((x - origin[0]) * 16), round((y - origin[1]) * 16)] for x, y in points], np.int32)
    cv2.fillPoly(canvas, [pts], colour, cv2.LINE_AA, 4)


def _disc(canvas: np.ndarray, origin: tuple[int, int], centre, radius: float, colour) -> None:
    cv2.circle(canvas, (round((centre[0] - origin[0]) * 16), round((centre[1] - origin[1]) * 16)),
               max(round(radius * 16), 1), colour, -1, cv2.LINE_AA, 4)
