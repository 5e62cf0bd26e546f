"""The simulated runner seen by a second camera behind (or in front of) the treadmill, with exact truth.

The sagittal model (runner.py) gives every point's forward position ``u`` and height ``v`` and the
contact schedule; this module adds the frontal plane, the lateral position ``w`` (metres, positive
to the runner's right, 0 on the belt's centre line):

* the pelvis sways ``sway_m`` towards the stance foot and, in single-leg stance, tilts: the
  unsupported side drops by up to ``pelvic_drop_deg`` (contralateral pelvic drop), a half sine
  over the stance;
* each foot lands ``foot_lateral_hw`` hip widths from the pelvis midline (mid-stance) and stays
  there while it is on the belt (a planted foot does not slide sideways); in swing it moves
  smoothly to its next landing place;
* the knee lies on the line from hip to ankle, except in stance, where it moves medially by up to
  the amount that gives a knee frontal-plane projection angle of ``knee_valgus_deg`` (a half sine).
  Hip adduction follows from the pelvis, the knee and the foot, as in a real runner: a narrower
  step, more pelvic drop or more valgus each add to it.

The camera is a pinhole at ``distance_m`` behind the pelvis (``view="front"``: in front of it,
looking back, the image mirrored accordingly), ``height_m`` above the belt and ``offset_m`` to the
runner's right of the belt's centre line, looking along the belt; the runner fills about 85 % of
the image's height. Landmark noise (Gaussian, ``noise_leg_lengths`` of the leg's length in the
image) and dropped frames (runs of 1-5) can be added.

Truth per step (``FrontalTruth``) is computed with the same definitions the gait stage uses
(``appliance.frontal.measures``) on the noise-free landmarks sampled every millisecond of the
stance: the peaks of contralateral pelvic drop, hip adduction and knee projection angle, and the
foot's lateral position (median over the middle third of the stance).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from appliance.frontal.measures import frontal_frame
from appliance.landmarks import NUM_LANDMARKS, L
from appliance.sim.runner import HALF_WIDTH_M, LEG_M, RunnerParams, SimulatedRunner, per_foot
from appliance.types import Pose

HIP_WIDTH_M = 2 * HALF_WIDTH_M["leg"]
SIDE_SIGN = {"left": -1.0, "right": 1.0}  # lateral direction of each side (runner's right positive)
TRUTH_DT = 0.001


@dataclass(frozen=True)
class FrontalParams:
    """The frontal plane of the simulated runner and the second camera. Per-foot values may be
    given as a (left, right) pair; a foot's value applies to the stances on that foot."""

    pelvic_drop_deg: float | tuple[float, float] = 5.0
    knee_valgus_deg: float | tuple[float, float] = 6.0
    foot_lateral_hw: float | tuple[float, float] = 0.3
    sway_m: float = 0.02
    view: str = "rear"
    distance_m: float = 2.5
    height_m: float = 0.9
    offset_m: float = 0.0
    image_size: tuple[int, int] = (640, 480)
    noise_leg_lengths: float = 0.01
    dropout_fraction: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class FrontalTruth:
    """The exact frontal measures of one simulated stance."""

    foot: str
    t_ic: float
    t_to: float
    pelvic_drop_deg: float
    hip_adduction_deg: float
    knee_fppa_deg: float
    foot_lateral_hw: float


@dataclass
class RearView:
    """The runner's frontal plane seen by the second camera (module docstring).

    >>> rear = RearView(SimulatedRunner(RunnerParams(cadence_spm=170)), FrontalParams(pelvic_drop_deg=8))
    >>> poses, truth = rear.poses(10.0, fps=30)
    """

    runner: SimulatedRunner
    params: FrontalParams = field(default_factory=FrontalParams)

    def __post_init__(self) -> None:
        p = self.params
        if p.view not in ("rear", "front"):
            raise ValueError(f"view must be 'rear' or 'front', not {p.view!r}")
        if not 1.0 <= p.distance_m <= 10.0:
            raise ValueError(f"distance_m {p.distance_m} is outside 1..10")
        w, h = p.image_size
        self.focal_px = 0.85 * h * p.distance_m / 1.85
        self.leg_px = self.focal_px * LEG_M / p.distance_m
        self.rng = np.random.default_rng(p.seed)
        self._dropped_until = -math.inf

    # --- kinematics ----------------------------------------------------------------------------
    def _stance(self, foot: str, t: float) -> tuple[float, float] | None:
        """(progress 0..1, t_ic) of ``foot``'s stance at ``t``, or None in swing."""
        for c in self.runner._contacts:
            if c.foot == foot and c.t_ic <= t < c.t_to:
                return (t - c.t_ic) / c.contact_s, c.t_ic
        return None

    def _foot_w(self, foot: str, t: float) -> float:
        """The foot's lateral position: fixed on the belt in stance, eased between landings in swing."""
        p = self.params
        # The pelvis sways sway_m towards the planted foot by mid-stance.
        planted = SIDE_SIGN[foot] * (per_foot(p.foot_lateral_hw, foot) * HIP_WIDTH_M + p.sway_m)
        if self._stance(foot, t) is not None:
            return planted
        # In swing the foot swings out a little (a third of its landing offset) and comes back.
        mine = [c for c in self.runner._contacts if c.foot == foot]
        for a, b in zip(mine, mine[1:], strict=False):
            if a.t_to <= t < b.t_ic:
                s = (t - a.t_to) / (b.t_ic - a.t_to)
                return planted * (1.0 + 0.3 * math.sin(math.pi * s))
        return planted

    def world(self, t: float) -> dict[str, np.ndarray]:
        """Noise-free points at ``t`` as (u, v, w) in metres: per side 'left_hip', 'left_knee', ...,
        and 'left_shoulder', 'right_shoulder', 'head'."""
        p = self.params
        sag = self.runner.world(t)
        tilt = 0.0  # positive: the right hip lower
        sway = 0.0
        for foot in ("left", "right"):
            stance = self._stance(foot, t)
            if stance is not None:
                bump = math.sin(math.pi * stance[0])
                tilt = (1.0 if foot == "left" else -1.0) * per_foot(p.pelvic_drop_deg, foot) * bump
                sway = SIDE_SIGN[foot] * p.sway_m * bump
        pelvis = np.array([sag["hip"][0], sag["hip"][1], sway])
        a = math.radians(tilt)
        half = 0.5 * HIP_WIDTH_M * np.array([0.0, -math.sin(a), math.cos(a)])  # left hip to mid, along (u, v, w)
        out: dict[str, np.ndarray] = {}
        for foot in ("left", "right"):
            hip = pelvis + SIDE_SIGN[foot] * half
            w_foot = self._foot_w(foot, t)
            ankle = np.array([*sag[f"{foot}_ankle"], w_foot])
            heel = np.array([*sag[f"{foot}_heel"], w_foot])
            toe = np.array([*sag[f"{foot}_toe"], w_foot])
            knee = np.array([*sag[f"{foot}_knee"], 0.0])
            # On the hip-ankle line at the knee's height, then medially for valgus in stance.
            f = (hip[1] - knee[1]) / max(hip[1] - ankle[1], 1e-6)
            knee[2] = hip[2] + f * (ankle[2] - hip[2])
            stance = self._stance(foot, t)
            if stance is not None:
                peak = math.radians(per_foot(p.knee_valgus_deg, foot))
                # A knee displaced d from the line bends it by about d/thigh + d/shank (both ~0.45 m).
                d = math.tan(0.5 * peak) * 0.45 * math.sin(math.pi * stance[0])
                knee[2] -= SIDE_SIGN[foot] * d
            out[f"{foot}_hip"], out[f"{foot}_knee"], out[f"{foot}_ankle"] = hip, knee, ankle
            out[f"{foot}_heel"], out[f"{foot}_toe"] = heel, toe
            shoulder = np.array([*sag["shoulder"], pelvis[2] + SIDE_SIGN[foot] * HALF_WIDTH_M["shoulder"]])
            out[f"{foot}_shoulder"] = shoulder
            out[f"{foot}_elbow"] = np.array([*sag[f"{foot}_elbow"], shoulder[2] + SIDE_SIGN[foot] * 0.04])
            out[f"{foot}_wrist"] = np.array([*sag[f"{foot}_wrist"], shoulder[2]])
        out["head"] = np.array([*sag["head"], pelvis[2]])
        return out

    # --- camera --------------------------------------------------------------------------------
    def _to_image(self, uvw: np.ndarray) -> np.ndarray:
        """Pinhole projection of (u, v, w) points to image pixels."""
        p = self.params
        w_img, h_img = p.image_size
        if p.view == "rear":
            depth, x = p.distance_m + uvw[..., 0], uvw[..., 2] - p.offset_m
        else:
            depth, x = p.distance_m - uvw[..., 0], -(uvw[..., 2] - p.offset_m)
        depth = np.maximum(depth, 0.1)
        return np.stack([w_img / 2 + self.focal_px * x / depth,
                         h_img / 2 - self.focal_px * (uvw[..., 1] - p.height_m) / depth], axis=-1)

    def landmarks(self, t: float) -> np.ndarray:
        """Noise-free [33, 5] landmarks (x px, y px, z, visibility, presence) at ``t``."""
        with self.runner.lock:  # the side view may extend or trim the contact schedule meanwhile
            pts = self.world(t)
        lm = np.zeros((NUM_LANDMARKS, 5))
        xyz = np.zeros((NUM_LANDMARKS, 3))
        for foot in ("left", "right"):
            up = foot.upper()
            for name, key in (("SHOULDER", "shoulder"), ("ELBOW", "elbow"), ("WRIST", "wrist"), ("HIP", "hip"),
                              ("KNEE", "knee"), ("ANKLE", "ankle"), ("HEEL", "heel"), ("FOOT_INDEX", "toe")):
                xyz[L[f"{up}_{name}"]] = pts[f"{foot}_{key}"]
            for hand in ("PINKY", "INDEX", "THUMB"):
                xyz[L[f"{up}_{hand}"]] = pts[f"{foot}_wrist"] + np.array([0.0, -0.07, 0.0])
        for k in (L.NOSE, L.LEFT_EYE_INNER, L.LEFT_EYE, L.LEFT_EYE_OUTER, L.RIGHT_EYE_INNER, L.RIGHT_EYE,
                  L.RIGHT_EYE_OUTER, L.LEFT_EAR, L.RIGHT_EAR, L.MOUTH_LEFT, L.MOUTH_RIGHT):
            xyz[k] = pts["head"]
        lm[:, :2] = self._to_image(xyz)
        lm[:, 3], lm[:, 4] = 0.95, 0.99
        face_seen = 0.95 if self.params.view == "front" else 0.2
        lm[: L.MOUTH_RIGHT + 1, 3] = face_seen
        return lm

    def truth(self, foot: str, t_ic: float, t_to: float) -> FrontalTruth:
        """The exact measures of ``foot``'s stance from ``t_ic`` to ``t_to`` (module docstring)."""
        frames = [frontal_frame(self.landmarks(t), t, self.params.view)
                  for t in np.arange(t_ic, t_to, TRUTH_DT)]
        drop = max(f.pelvic_drop_deg(foot) for f in frames)
        adduction = max(f.legs[foot].hip_adduction_deg for f in frames)
        fppa = max(f.legs[foot].knee_fppa_deg for f in frames)
        n = len(frames)
        lateral = float(np.median([f.legs[foot].foot_lateral_hw for f in frames[n // 3: max(n // 3 + 1, 2 * n // 3)]]))
        return FrontalTruth(foot, t_ic, t_to, drop, adduction, fppa, lateral)

    # --- recordings ----------------------------------------------------------------------------
    def _observe(self, t: float, index: int, dt: float) -> Pose | None:
        """What the pose model reports at ``t``: noisy landmarks, or None for a dropped frame
        (runs of 1-5 frames, ``dropout_fraction`` of them in all)."""
        p = self.params
        if t < self._dropped_until:
            return None
        if p.dropout_fraction > 0 and self.rng.random() < p.dropout_fraction / 3.0:
            self._dropped_until = t + (int(self.rng.integers(1, 6)) - 0.5) * dt
            return None
        lm = self.landmarks(t)
        if p.noise_leg_lengths > 0:
            lm[:, :2] += self.rng.normal(0.0, p.noise_leg_lengths * self.leg_px, (NUM_LANDMARKS, 2))
        return Pose(t, index, lm.astype(np.float32), 0.95, tuple(p.image_size))

    def poses(self, duration_s: float, fps: float) -> tuple[list[Pose | None], list[FrontalTruth]]:
        """A recording of ``duration_s`` at ``fps`` (one Pose or None per frame) and the truth of
        every stance inside it."""
        frames = list(self.stream(fps, int(round(duration_s * fps))))
        end = (len(frames) - 1) / fps
        truth = [self.truth(c.foot, c.t_ic, c.t_to) for c in list(self.runner._contacts)
                 if c.t_ic >= 0.0 and c.t_to <= end]
        return frames, truth

    def stream(self, fps: float, n_frames: int | None = None) -> Iterator[Pose | None]:
        """Frames at ``fps`` from time 0 (forever when ``n_frames`` is None)."""
        i = 0
        while n_frames is None or i < n_frames:
            yield self._observe(i / fps, i, 1.0 / fps)
            i += 1


def simulated_pair(runner: RunnerParams | None = None, frontal: FrontalParams | None = None) -> RearView:
    """A side-view runner and its rear view sharing one body and one contact schedule."""
    return RearView(SimulatedRunner(runner or RunnerParams()), frontal or FrontalParams())
