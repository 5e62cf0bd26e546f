"""A kinematic treadmill runner seen from the side, yielding BlazePose-like poses with exact truth.

The runner is a planar model in metres: forward ``u`` (the way the runner faces), up ``v`` (the belt
is ``v = 0``), the pelvis fixed above ``u = 0`` as on a treadmill. Each leg is a thigh and a shank
(knee found by two-link inverse kinematics, knee pointing forward) and a rigid foot with two sole
points (rear and front). In stance the sole point on the belt moves backwards at belt speed; the
foot rolls heel-down (rearfoot) or heel-down after a toe landing (forefoot), stays flat, then rolls
over the front sole point to toe-off. In swing the lowest sole point follows a smooth curve from
toe-off to the next contact, with the foot pre-positioned at its strike angle for the last 20 % of
the swing (held still, or still rotating toe-up into contact at ``terminal_swing_rotation_dps``) and
moving backwards at contact (swing retraction).

Truth is exact: initial contact (IC) is the instant the lowest sole point reaches the belt, toe-off
(TO) the instant the front sole point leaves it, and every metric at IC is computed from the
noise-free landmarks with the definitions of DOMAIN.md.

The camera is a fixed side view: metres become pixels with a scale, an optional roll and an optional
yaw away from square-on (the body's sides then no longer overlap), the runner faces right or left,
the near leg is the runner's left when facing right. Landmark noise (Gaussian, a fraction of the
leg length), dropouts (no pose), left/right label swaps of the legs, legs misplaced for a few
milliseconds (glitches) and steps with low landmark visibility can be injected (pose_errors.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from appliance.config import GaitSettings
from appliance.feet.contact_look import classify_strike
from appliance.landmarks import NUM_LANDMARKS, L
from appliance.sim.pose_errors import LEFT_LEG, RIGHT_LEG, PoseErrors
from appliance.types import Pose

THIGH_M = 0.46
SHANK_M = 0.44
LEG_M = THIGH_M + SHANK_M  # "leg length" throughout: hip-knee plus knee-ankle
# Foot geometry relative to the ankle with the foot flat (u forward, v up), metres.
REAR_SOLE = np.array([-0.06, -0.075])
FRONT_SOLE = np.array([0.19, -0.075])
# The heel landmark sits on the back of the heel counter, above the sole; the toe landmark near the
# sole at the tip. Their line is therefore tilted toe-down by ~3.9 deg when the foot is flat: the
# offset the standing calibration exists to remove.
HEEL_MARK = np.array([-0.065, -0.055])
TOE_MARK = np.array([0.19, -0.072])
TOE_OFF_PITCH_DEG = -35.0  # plantarflexion at toe-off
TRUNK_M = 0.50
STAND_HIP_V = 0.955
RUN_HIP_V = 0.92
PELVIS_OSCILLATION_M = 0.03  # half of the peak-to-peak vertical oscillation (6 cm, typical)
# How far each side's points lie from the body's mid-plane (m): the hip joint centres and the legs
# below them (hip joints ~18 cm apart), the shoulders, the arms. Seen square-on they overlap; a
# yawed camera (``RunnerParams.yaw_deg``) shows them apart.
HALF_WIDTH_M = {"leg": 0.09, "shoulder": 0.18, "arm": 0.21}



def per_foot(value, foot: str) -> float:
    """A per-foot setting's value for ``foot``: one value for both, or a (left, right) pair."""
    if isinstance(value, tuple | list):
        return float(value[0] if foot == "left" else value[1])
    return float(value)


def strike_class(angle_deg: float, gait: GaitSettings | None = None) -> str:
    """The class of a true foot-strike angle, by the same rule and thresholds as the gait tracker's
    (the settings', Altman & Davis 2012 by default)."""
    return classify_strike(angle_deg, gait or GaitSettings())


@dataclass(frozen=True)
class RunnerParams:
    """What the simulated runner does and how the camera sees it.

    Per-foot values may be given as a (left, right) pair.
    """

    cadence_spm: float = 170.0
    speed_mps: float = 3.0
    strike_angle_deg: float | tuple[float, float] = 12.0  # foot pitch at IC, toe up positive
    # The foot still rotating toe-up into contact as the knee extends in terminal swing (deg/s over
    # the last 20 % of swing); both real clips show ~500 deg/s in the last 100 ms of toe-first
    # landings. For a heel landing keep it below strike angle / 0.1 s, so that the foot does not
    # pass flat in the air (the toe would then be the lowest point until just before contact).
    terminal_swing_rotation_dps: float = 0.0
    overstride_leg_lengths: float | tuple[float, float] = 0.20  # heel ahead of hip at IC
    duty_factor: float = 0.36  # contact time / stride time
    # Vertical speed of the lowest sole point leaving the belt: it sets the sole's clearance in
    # swing (at 160 steps/min ~18 cm at 2 m/s; a shuffling jogger's ~10 cm at 0.8 m/s).
    foot_lift_mps: float = 2.0
    asymmetry: float = 0.0  # the left step lasts (1 + a) and the right step (1 - a) step periods
    trunk_lean_deg: float = 6.0
    direction: str = "right"  # the way the runner faces in the image
    image_size: tuple[int, int] = (640, 480)
    px_per_m: float | None = None  # None: the runner fills ~85 % of the image height
    roll_deg: float = 0.0  # camera roll: the belt line's slope in the image
    # Camera yaw from square-on (deg, positive: turned towards the runner's front). Orthographic: a
    # forward distance is seen shortened by cos(yaw), and the near and far side apart by sin(yaw).
    yaw_deg: float = 0.0
    noise_leg_lengths: float = 0.01  # std of landmark noise per coordinate
    dropout_fraction: float = 0.0  # fraction of frames without a pose (in runs of 1-5 frames)
    swaps_per_min: float = 0.0  # left/right leg label swaps (runs of 2-10 frames)
    # The pose model drawing the far leg straight out ahead of the body at knee height (runs of
    # 30-100 ms), as it does on real side views while the legs cross.
    ghost_legs_per_min: float = 0.0
    # The pose model misplacing one leg's knee, ankle, heel and toe together by 0.05-0.3 leg lengths
    # for 3-25 ms (at 30 fps one frame or none, at 240 fps a few in a row), per leg and second. On the labelled
    # 480x360 clip the near foot is off by > 0.05 leg lengths in ~10 % of frames, the far foot in ~25 %.
    leg_glitches_per_s: float = 0.0
    # The pose model losing the stance foot while the swing foot passes it, in a fraction of steps:
    # for 50-150 ms of mid-stance the stance leg is drawn 60-100 % of the way onto the swing leg
    # (the labelled clip, frames 233-263: the stance leg's markers jump to the passing foot).
    stance_loss_fraction: float = 0.0
    low_visibility_fraction: float = 0.0  # fraction of steps whose legs are barely visible at IC
    stand_s: float = 0.0  # quiet standing before running (for calibration)
    far_foot_raise_leg_lengths: float = 0.0  # perspective: the far leg's knee, ankle and foot seen higher
    seed: int = 0

    def per_foot(self, value, foot: str) -> float:
        return per_foot(value, foot)


@dataclass(frozen=True)
class StepTruth:
    """The exact values of one simulated step (metrics at its initial contact)."""

    index: int
    foot: str
    t_ic: float
    t_to: float
    strike_angle_deg: float
    strike: str
    shank_angle_deg: float
    knee_flexion_deg: float
    heel_to_hip_leg_lengths: float
    contact_time_s: float
    cadence_spm: float
    low_visibility: bool


@dataclass
class _Contact:
    index: int
    foot: str
    t_ic: float
    contact_s: float
    pitch_ic_deg: float
    pivot_u_ic: float  # belt position of the landing sole point at IC
    pivot: str  # "rear" | "front": the sole point that lands first
    speed: float
    cadence_spm: float
    low_visibility: bool
    lost: tuple[float, float, float] | None = None  # from, until, how far onto the swing leg

    @property
    def t_to(self) -> float:
        return self.t_ic + self.contact_s


def _rot(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s], [s, c]])


def foot_points(pivot: str, pivot_u: float, pivot_v: float, pitch_deg: float) -> dict[str, np.ndarray]:
    """Ankle, sole points and landmarks of a rigid foot with ``pivot`` sole point at (u, v)."""
    r = _rot(pitch_deg)
    local = REAR_SOLE if pivot == "rear" else FRONT_SOLE
    ankle = np.array([pivot_u, pivot_v]) - r @ local
    return {
        "ankle": ankle,
        "rear": ankle + r @ REAR_SOLE,
        "front": ankle + r @ FRONT_SOLE,
        "heel": ankle + r @ HEEL_MARK,
        "toe": ankle + r @ TOE_MARK,
    }


def knee_position(hip: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """Knee by two-link inverse kinematics, bending forward (+u); straight when out of reach."""
    d_vec = ankle - hip
    d = float(np.hypot(*d_vec))
    e = d_vec / d
    n = np.array([-e[1], e[0]])  # e rotated +90 deg: forward for a leg pointing down
    if n[0] < 0:
        n = -n
    if d >= LEG_M - 1e-6:
        return hip + e * THIGH_M
    a = (THIGH_M**2 - SHANK_M**2 + d**2) / (2 * d)
    h = math.sqrt(max(THIGH_M**2 - a**2, 0.0))
    return hip + a * e + h * n


def _ease(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return 0.5 - 0.5 * math.cos(math.pi * x)


def _hermite(p0: float, p1: float, m0: float, m1: float, s: float) -> float:
    s2, s3 = s * s, s * s * s
    return (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * m1


class SimulatedRunner:
    """A treadmill runner that can be sampled at any time; see the module docstring.

    ``poses(duration_s, fps)`` gives a finished recording with its truth; ``stream(fps, start_t)``
    yields forever (standing for ``stand_s`` first), following ``target_cadence_spm`` when set.

    Example::

        sim = SimulatedRunner(RunnerParams(cadence_spm=165, noise_leg_lengths=0.01))
        poses, truth = sim.poses(20.0, fps=30)
    """

    def __init__(self, params: RunnerParams | None = None, **overrides):
        p = params or RunnerParams()
        self.params = replace(p, **overrides) if overrides else p
        if self.params.direction not in ("left", "right"):
            raise ValueError(f"direction must be 'left' or 'right', not {self.params.direction!r}")
        if not 60 <= self.params.cadence_spm <= 260:
            raise ValueError(f"cadence_spm {self.params.cadence_spm} is outside 60..260")
        if not 0.15 <= self.params.duty_factor <= 0.6:
            raise ValueError(f"duty_factor {self.params.duty_factor} is outside 0.15..0.6")
        if not 0.3 <= self.params.foot_lift_mps <= 4.0:
            raise ValueError(f"foot_lift_mps {self.params.foot_lift_mps} is outside 0.3..4")
        self.rng = np.random.default_rng(self.params.seed)
        w, h = self.params.image_size
        self.px_per_m = self.params.px_per_m or 0.85 * h / 1.85
        self.leg_px = LEG_M * self.px_per_m
        self.run_start = self.params.stand_s
        self.cadence_spm = self.params.cadence_spm
        self.target_cadence_spm: float | None = None
        # Cadence adapts to a target with this time constant (s): a runner following a metronome
        # settles over a few tens of steps.
        self.cadence_time_constant_s = 8.0
        self._contacts: list[_Contact] = []
        self.lock = threading.RLock()  # the contact schedule, shared with a rear view (rear_view.py)
        self.errors = PoseErrors(self.params, self.rng, self.leg_px)
        self._last_t: float | None = None

    # --- schedule ------------------------------------------------------------------------------
    def _new_contact(self) -> _Contact:
        p = self.params
        n = len(self._contacts)
        foot = "left" if n % 2 == 0 else "right"
        if n == 0:
            t_ic = self.run_start + 0.25
        else:
            prev = self._contacts[-1]
            if self.target_cadence_spm is not None:
                period = 60.0 / self.cadence_spm
                k = 1 - math.exp(-period / self.cadence_time_constant_s)
                self.cadence_spm += k * (self.target_cadence_spm - self.cadence_spm)
            step = 60.0 / self.cadence_spm
            step *= 1 + p.asymmetry if prev.foot == "left" else 1 - p.asymmetry
            t_ic = prev.t_ic + step
        step_s = 60.0 / self.cadence_spm
        pitch = p.per_foot(p.strike_angle_deg, foot)
        pivot = "rear" if pitch >= 0 else "front"
        # Overstride shrinks with the step length when cadence rises at the same speed.
        over = p.per_foot(p.overstride_leg_lengths, foot) * step_s / (60.0 / p.cadence_spm)
        at_zero = foot_points(pivot, 0.0, 0.0, pitch)
        pivot_u = over * LEG_M - at_zero["heel"][0]
        low_vis = bool(self.rng.random() < p.low_visibility_fraction)
        contact_s = p.duty_factor * 2 * step_s
        lost = None
        if p.stance_loss_fraction > 0 and self.rng.random() < p.stance_loss_fraction:
            start = t_ic + self.rng.uniform(0.3, 0.5) * contact_s
            lost = (start, min(start + self.rng.uniform(0.05, 0.15), t_ic + contact_s - 0.01),
                    self.rng.uniform(0.6, 1.0))
        return _Contact(n, foot, t_ic, contact_s, pitch, pivot_u, pivot,
                        p.speed_mps, self.cadence_spm, low_vis, lost)

    def _ensure_contacts(self, t: float) -> None:
        with self.lock:  # a second camera's view of the same runner reads it from its own thread
            while len(self._contacts) < 4 or self._contacts[-3].t_ic <= t:
                self._contacts.append(self._new_contact())

    # --- kinematics ----------------------------------------------------------------------------
    def _stance_foot(self, c: _Contact, t: float) -> dict[str, np.ndarray]:
        tau = (t - c.t_ic) / c.contact_s
        if tau < 0.15:
            pitch = c.pitch_ic_deg * (1 - _ease(tau / 0.15))
        elif tau < 0.45:
            pitch = 0.0
        else:
            pitch = TOE_OFF_PITCH_DEG * ((tau - 0.45) / 0.55) ** 2
        moved = c.speed * (t - c.t_ic)
        sole = FRONT_SOLE[0] - REAR_SOLE[0]
        rear_u = c.pivot_u_ic - moved - (sole if c.pivot == "front" else 0.0)
        if pitch > 0:
            return foot_points("rear", rear_u, 0.0, pitch)
        return foot_points("front", rear_u + sole, 0.0, pitch)

    def _swing_foot(self, prev: _Contact, nxt: _Contact, t: float) -> dict[str, np.ndarray]:
        t0, t1 = prev.t_to, nxt.t_ic
        dur = t1 - t0
        s = (t - t0) / dur
        at_to = self._stance_foot(prev, t0)
        # Eased from the toe-off angle to the pre-positioned one by 80 % of swing, then rotating
        # toe-up into the strike angle at terminal_swing_rotation_dps (0: held still).
        rotation = self.params.terminal_swing_rotation_dps
        held = nxt.pitch_ic_deg - rotation * 0.2 * dur
        pitch = TOE_OFF_PITCH_DEG + (held - TOE_OFF_PITCH_DEG) * _ease(s / 0.8)
        if s > 0.8:
            pitch = nxt.pitch_ic_deg - rotation * (t1 - t)
        pivot_u0 = at_to[nxt.pivot][0]
        # Forward speed of the landing sole point: belt speed backwards at toe-off, and backwards
        # at 80 % of belt speed at contact (swing-phase retraction: the foot is pulled back before
        # landing, almost matching the belt, as a runner does to limit braking).
        u = _hermite(pivot_u0, nxt.pivot_u_ic, -prev.speed * dur, -0.8 * nxt.speed * dur, s)
        # Height of the lowest sole point: leaves the belt at foot_lift_mps, lands at 0.8 m/s.
        low = _hermite(0.0, 0.0, self.params.foot_lift_mps * dur, -0.8 * dur, s)
        f = foot_points(nxt.pivot, u, 0.0, pitch)
        lowest = min(f["rear"][1], f["front"][1])
        return {k: v + np.array([0.0, low - lowest]) for k, v in f.items()}

    def _foot_at(self, foot: str, t: float) -> dict[str, np.ndarray]:
        mine = [c for c in self._contacts if c.foot == foot]
        if t < mine[0].t_ic:
            if t < self.run_start:
                return foot_points("rear", REAR_SOLE[0] + (0.03 if foot == "left" else -0.03), 0.0, 0.0)
            # Leaving the standing position: a swing from standing to the first contact.
            standing = _Contact(-1, foot, self.run_start - 1.0, 1.0, 0.0, REAR_SOLE[0], "rear",
                                0.0, self.cadence_spm, False)  # speed 0: starts from rest
            return self._swing_foot(standing, mine[0], t)
        for a, b in zip(mine, mine[1:], strict=False):
            if a.t_ic <= t < b.t_ic:
                return self._stance_foot(a, t) if t < a.t_to else self._swing_foot(a, b, t)
        raise AssertionError("contact schedule not extended far enough")

    def _hip_height(self, t: float) -> float:
        if t < self.run_start:
            return STAND_HIP_V
        cs = self._contacts
        if t < cs[0].t_ic:
            return STAND_HIP_V + (RUN_HIP_V - STAND_HIP_V) * _ease((t - self.run_start) / 0.25)
        c = next(c for c, d in zip(cs, cs[1:], strict=False) if c.t_ic <= t < d.t_ic)
        i = cs.index(c)
        step = cs[i + 1].t_ic - c.t_ic
        return RUN_HIP_V - PELVIS_OSCILLATION_M * math.cos(2 * math.pi * (t - c.t_ic - c.contact_s / 2) / step)

    def world(self, t: float) -> dict[str, np.ndarray]:
        """Noise-free body points in metres at time ``t``: per-leg keys like 'left_knee'."""
        self._ensure_contacts(t)
        running = t >= self.run_start
        hip = np.array([0.0, self._hip_height(t) if running else STAND_HIP_V])
        pts: dict[str, np.ndarray] = {"hip": hip}
        for foot in ("left", "right"):
            f = self._foot_at(foot, t)
            pts[f"{foot}_ankle"] = f["ankle"]
            pts[f"{foot}_heel"] = f["heel"]
            pts[f"{foot}_toe"] = f["toe"]
            pts[f"{foot}_knee"] = knee_position(hip, f["ankle"])
        lean = math.radians(self.params.trunk_lean_deg if running else 0.0)
        trunk = np.array([math.sin(lean), math.cos(lean)])
        pts["shoulder"] = hip + TRUNK_M * trunk
        pts["head"] = pts["shoulder"] + 0.22 * trunk
        # Arms swing opposite to the same-side leg, following the knee.
        for foot, other in (("left", "right"), ("right", "left")):
            swing = float(np.clip((pts[f"{other}_knee"][0] - hip[0]) / 0.3, -1, 1)) if running else 0.0
            upper = _rot(-90 + 35 * swing) @ np.array([0.28, 0.0])
            fore = _rot(-90 + 35 * swing + (90 if running else 10)) @ np.array([0.26, 0.0])
            pts[f"{foot}_elbow"] = pts["shoulder"] + upper
            pts[f"{foot}_wrist"] = pts[f"{foot}_elbow"] + fore
        return pts

    # --- camera --------------------------------------------------------------------------------
    def _to_image(self, uv: np.ndarray) -> np.ndarray:
        w, h = self.params.image_size
        sgn = 1.0 if self.params.direction == "right" else -1.0
        x = sgn * uv[..., 0] * self.px_per_m
        y = -uv[..., 1] * self.px_per_m
        r = _rot(-self.params.roll_deg)  # image y points down: a positive roll tilts the belt down to the right
        xy = np.stack([x, y], axis=-1) @ r.T
        return xy + np.array([w / 2, 0.93 * h])

    def landmarks(self, t: float) -> np.ndarray:
        """Noise-free [33, 5] landmark array (x px, y px, z, visibility, presence) at time ``t``."""
        pts = self.world(t)
        near = "left" if self.params.direction == "right" else "right"
        lm = np.zeros((NUM_LANDMARKS, 5), np.float64)
        uv = np.zeros((NUM_LANDMARKS, 2))
        z = np.zeros(NUM_LANDMARKS)
        depth = 0.12 * self.px_per_m
        head = pts["head"]
        fwd = np.array([1.0, 0.0])
        face = {
            L.NOSE: head + 0.10 * fwd, L.LEFT_EYE_INNER: head + [0.08, 0.04], L.LEFT_EYE: head + [0.07, 0.04],
            L.LEFT_EYE_OUTER: head + [0.06, 0.04], L.RIGHT_EYE_INNER: head + [0.08, 0.04],
            L.RIGHT_EYE: head + [0.07, 0.04], L.RIGHT_EYE_OUTER: head + [0.06, 0.04],
            L.LEFT_EAR: head + [-0.02, 0.02], L.RIGHT_EAR: head + [-0.02, 0.02],
            L.MOUTH_LEFT: head + [0.08, -0.05], L.MOUTH_RIGHT: head + [0.08, -0.05],
        }
        for k, v in face.items():
            uv[k] = v
        lateral = np.zeros(NUM_LANDMARKS)  # towards the camera from the mid-plane (m)
        for side in ("left", "right"):
            up = side.upper()
            sz = -depth if side == near else depth
            toward = 1.0 if side == near else -1.0
            for part, names in (("shoulder", ("SHOULDER",)), ("arm", ("ELBOW", "WRIST", "PINKY", "INDEX", "THUMB")),
                                ("leg", ("HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX"))):
                for name in names:
                    lateral[L[f"{up}_{name}"]] = toward * HALF_WIDTH_M[part]
            uv[L[f"{up}_SHOULDER"]] = pts["shoulder"]
            uv[L[f"{up}_ELBOW"]] = pts[f"{side}_elbow"]
            uv[L[f"{up}_WRIST"]] = pts[f"{side}_wrist"]
            for hand, off in (("PINKY", [0.02, -0.07]), ("INDEX", [0.05, -0.07]), ("THUMB", [0.04, -0.03])):
                uv[L[f"{up}_{hand}"]] = pts[f"{side}_wrist"] + off
            uv[L[f"{up}_HIP"]] = pts["hip"]
            uv[L[f"{up}_KNEE"]] = pts[f"{side}_knee"]
            uv[L[f"{up}_ANKLE"]] = pts[f"{side}_ankle"]
            uv[L[f"{up}_HEEL"]] = pts[f"{side}_heel"]
            uv[L[f"{up}_FOOT_INDEX"]] = pts[f"{side}_toe"]
            for name in ("SHOULDER", "ELBOW", "WRIST", "PINKY", "INDEX", "THUMB", "HIP", "KNEE", "ANKLE",
                         "HEEL", "FOOT_INDEX", "EYE", "EYE_INNER", "EYE_OUTER", "EAR"):
                z[L[f"{up}_{name}"]] = sz
            z[L[f"MOUTH_{up}"]] = sz * 0.3
        if self.params.yaw_deg:
            yaw = math.radians(self.params.yaw_deg)
            uv[:, 0] = uv[:, 0] * math.cos(yaw) + lateral * math.sin(yaw)
        lm[:, :2] = self._to_image(uv)
        lm[:, 2] = z
        lm[:, 3] = 0.98
        lm[:, 4] = 0.99
        far_legs = LEFT_LEG if near == "right" else RIGHT_LEG
        lm[list(far_legs), 3] = 0.9
        # Perspective: a camera above the belt sees the far foot's contact higher in the image.
        lm[list(far_legs[1:]), 1] -= self.params.far_foot_raise_leg_lengths * self.leg_px
        return lm

    # --- recordings ----------------------------------------------------------------------------
    def _observe(self, t: float, index: int, dt: float) -> Pose | None:
        """What the pose model reports at ``t`` (pose_errors.py), or None for a dropped frame."""
        if self.errors.dropped(t, dt):
            return None
        lm = self.landmarks(t)
        self.errors.apply(lm, t, dt, self._contacts)
        return Pose(t, index, lm.astype(np.float32), 0.95, tuple(self.params.image_size))

    def truth(self, c: _Contact) -> StepTruth:
        """Exact metrics of contact ``c`` from the noise-free geometry at its IC."""
        pts = self.world(c.t_ic)
        hip, knee, ankle = pts["hip"], pts[f"{c.foot}_knee"], pts[f"{c.foot}_ankle"]
        shank = math.degrees(math.atan2(ankle[0] - knee[0], knee[1] - ankle[1]))
        thigh_dir, shank_dir = knee - hip, ankle - knee
        cosang = float(np.dot(thigh_dir, shank_dir) / (np.linalg.norm(thigh_dir) * np.linalg.norm(shank_dir)))
        flexion = math.degrees(math.acos(np.clip(cosang, -1, 1)))
        heel_to_hip = (pts[f"{c.foot}_heel"][0] - hip[0]) / LEG_M
        return StepTruth(c.index, c.foot, c.t_ic, c.t_to, c.pitch_ic_deg, strike_class(c.pitch_ic_deg),
                         shank, flexion, heel_to_hip, c.contact_s, c.cadence_spm, c.low_visibility)

    def _start_at(self, start_t: float) -> None:
        """Begin the schedule at ``start_t`` (e.g. a monotonic clock reading): standing for
        ``stand_s`` from there, then running."""
        if not self._contacts:
            self.run_start = start_t + self.params.stand_s

    def poses(self, duration_s: float, fps: float, start_t: float = 0.0) -> tuple[list[Pose | None], list[StepTruth]]:
        """A recording of ``duration_s`` at ``fps``: one Pose (or None) per frame, and the truth of
        every step whose contact ended inside the recording."""
        self._start_at(start_t)
        n = int(round(duration_s * fps))
        out = [self._observe(start_t + i / fps, i, 1.0 / fps) for i in range(n)]
        end = start_t + (n - 1) / fps
        steps = [self.truth(c) for c in list(self._contacts) if c.t_to <= end and c.t_ic >= start_t]
        return out, steps

    def stream(self, fps: float, start_t: float = 0.0) -> Iterator[tuple[Pose | None, list[StepTruth]]]:
        """Endless frames at ``fps`` from ``start_t``: (pose or None, truth of steps whose IC happened
        since the previous frame). Set ``target_cadence_spm`` at any time to make the runner follow it."""
        self._start_at(start_t)
        i = 0
        reported = 0
        while True:
            t = start_t + i / fps
            pose = self._observe(t, i, 1.0 / fps)
            new = []
            while reported < len(self._contacts) and self._contacts[reported].t_ic <= t:
                new.append(self.truth(self._contacts[reported]))
                reported += 1
            yield pose, new
            i += 1
            # Forget contacts long past so an endless stream runs in constant memory.
            if len(self._contacts) > 64 and reported > 40:
                drop = 20
                with self.lock:
                    self._contacts = self._contacts[drop:]
                reported -= drop
