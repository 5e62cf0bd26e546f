"""Frontal measures step by step, from the rear camera's poses.

Each stance gives one ``FrontalStep``: the peaks of contralateral pelvic drop, hip adduction and
knee projection angle over the stance, and the foot's lateral position at mid-stance (definitions:
``measures.py``). A peak is read from a quadratic fitted over the stance's samples (least squares),
not from the largest sample: at 30 fps a stance has 7-9 frames, and the largest of noisy samples
overstates the peak by about the noise. The fit is read where this foot's recent stances peaked
(``measure_stance`` says why).

Where the stances come from:

* **joined with the side camera** (``add_contact``): its contacts (initial contact and toe-off,
  on the same capture clock) are the stances; a stance is measured once the rear frames past its
  toe-off have arrived;
* **the rear view alone**: the stance foot is the one lower in the image. Seen from behind (or in
  front) a landing foot is still further away than the foot leaving the belt, so it becomes the
  lower one a little after its contact, about when the other foot lifts; its stance ends when it
  leaves the belt, where its image height turns (carried towards the camera by the belt, the foot
  comes down the image until toe-off, then lifts and swings away). The first ~15 % of a stance can
  be missed this way; the peaks lie later. Seen from the front the landing foot is the nearer one
  and lower at once, but a foot carried away by the belt and one lifting off both rise in the
  image: its stance is taken until the other foot lands, flight included.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from appliance.frontal.measures import SIDES, FrontalFrame, frontal_frame

HISTORY_S = 3.0  # s of frames kept: longer than any stance plus the side camera's delay
MIN_SAMPLES = 3  # frames in a stance to measure it at all
FIT_SAMPLES = 5  # and to fit a quadratic for its peaks (fewer: the largest sample)
MIN_STANCE_S = 0.08  # s: shorter "stances" of the rear view alone are the feet crossing in the air
PEAK_STEPS = 9  # recent stances per foot whose peak fractions place this one's
MIN_PEAK_STEPS = 3
TURN_LEG_LENGTHS = 0.03  # the foot's image height falls this far below its lowest point: toe-off


@dataclass(frozen=True, slots=True)
class FrontalStep:
    """The frontal measures of one stance (degrees; the foot's position in hip widths)."""

    foot: str  # the runner's left or right
    t_ic: float
    t_to: float
    t_mid: float
    samples: int
    pelvic_drop_deg: float
    hip_adduction_deg: float
    knee_fppa_deg: float
    foot_lateral_hw: float
    stance_from: str  # "side": the side camera's contacts; "rear": the rear view alone

    @property
    def crossover(self) -> bool:
        """The foot landed across the pelvis midline."""
        return self.foot_lateral_hw < 0.0

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["crossover"] = self.crossover
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def fit_stance(t: np.ndarray, y: np.ndarray, lo: float, hi: float) -> np.ndarray | None:
    """The quadratic (coefficients, highest power first) fitted to ``y`` against the stance
    fraction (0 at ``lo``, 1 at ``hi``); None with fewer than FIT_SAMPLES samples."""
    if len(y) < FIT_SAMPLES:
        return None
    return np.polyfit((t - lo) / max(hi - lo, 1e-9), y, 2)


def peak_fraction(coef: np.ndarray) -> float:
    """Where in the stance (0..1) the fitted quadratic is largest."""
    c2, c1, c0 = coef
    candidates = [0.0, 1.0] + ([float(np.clip(-c1 / (2 * c2), 0.0, 1.0))] if c2 < 0 else [])
    return max(candidates, key=lambda x: c2 * x * x + c1 * x + c0)


PEAK_KEYS = ("pelvic_drop_deg", "hip_adduction_deg", "knee_fppa_deg")


def measure_stance(frames: list[FrontalFrame], foot: str, t_ic: float, t_to: float, source: str,
                   peak_at: Callable[[str, float], float] | None = None) -> FrontalStep | None:
    """The frontal step of ``foot``'s stance [t_ic, t_to] from the frames inside it.

    Each peak is its fit's value at the stance fraction ``peak_at(measure, own)`` returns, given
    where this stance's own fit peaks (None: there). The maximum of a curve fitted to noisy
    samples lies above the true peak by about the noise left in the fit (+1 deg at 30 fps and 1 %
    landmark noise on the simulator); its value at a fraction known from other stances does not."""
    inside = [f for f in frames if t_ic <= f.t <= t_to]
    if len(inside) < MIN_SAMPLES:
        return None
    t = np.array([f.t for f in inside])
    series = {
        "pelvic_drop_deg": np.array([f.pelvic_drop_deg(foot) for f in inside]),
        "hip_adduction_deg": np.array([f.legs[foot].hip_adduction_deg for f in inside]),
        "knee_fppa_deg": np.array([f.legs[foot].knee_fppa_deg for f in inside]),
    }
    peaks = {}
    for key, y in series.items():
        coef = fit_stance(t, y, t_ic, t_to)
        if coef is None:
            peaks[key] = float(np.max(y))
            continue
        own = peak_fraction(coef)
        peaks[key] = float(np.polyval(coef, own if peak_at is None else peak_at(key, own)))
    third = (t >= t_ic + (t_to - t_ic) / 3) & (t <= t_ic + 2 * (t_to - t_ic) / 3)
    lateral = np.array([f.legs[foot].foot_lateral_hw for f in inside])
    return FrontalStep(foot, t_ic, t_to, 0.5 * (t_ic + t_to), len(inside), peaks["pelvic_drop_deg"],
                       peaks["hip_adduction_deg"], peaks["knee_fppa_deg"],
                       float(np.median(lateral[third] if third.any() else lateral)), source)


class FrontalTracker:
    """Frontal steps from the rear camera's poses, causally.

    >>> tracker = FrontalTracker(view="rear")
    >>> for pose in poses:                          # the rear camera's (None: no pose)
    ...     for step in tracker.update(pose.landmarks if pose else None, pose_t):
    ...         print(step.foot, step.pelvic_drop_deg)
    >>> tracker.add_contact("left", t_ic, t_to)     # the side camera's stances, when it runs

    Once a contact has been added, stances come from the side camera only; ``joined`` True: from
    the start (a side camera runs beside it, whose first contacts come a few steps in).
    """

    def __init__(self, view: str = "rear", joined: bool = False) -> None:
        self.view = view
        self._frames: deque[FrontalFrame] = deque()
        self._contacts: deque[tuple[str, float, float]] = deque()
        self.joined = joined
        self.last_frame: FrontalFrame | None = None
        self._lower: str | None = None  # the rear view alone: the foot lower in the image
        self._stance_start: float | None = None
        self._lowest_y = -math.inf
        self._lowest_t = 0.0
        self._hip_width = deque(maxlen=64)
        # Per foot and measure, where in recent stances the fits peaked (PEAK_STEPS of them).
        self._fractions: dict[tuple[str, str], deque[float]] = {}

    def add_contact(self, foot: str, t_ic: float, t_to: float) -> None:
        """A stance seen by the side camera (times on the same capture clock)."""
        if foot not in SIDES:
            raise ValueError(f"foot must be one of {SIDES}, not {foot!r}")
        self.joined = True
        self._contacts.append((foot, t_ic, t_to))

    def update(self, landmarks: np.ndarray | None, t: float) -> list[FrontalStep]:
        """One rear frame (None: no pose); returns the steps measured now."""
        frame = frontal_frame(landmarks, t, self.view) if landmarks is not None else None
        self.last_frame = frame  # this frame's angles (None: no pose), for the mirror's view
        if frame is not None:
            self._frames.append(frame)
            self._hip_width.append(frame.hip_width_px)
        while self._frames and self._frames[0].t < t - HISTORY_S:
            self._frames.popleft()
        if self.joined:
            return self._from_contacts(t)
        return self._from_rear(frame)

    def _from_contacts(self, t: float) -> list[FrontalStep]:
        out = []
        while self._contacts and self._contacts[0][2] <= t:
            foot, t_ic, t_to = self._contacts.popleft()
            step = self._measure(foot, t_ic, t_to, "side")
            if step is not None:
                out.append(step)
        return out

    def _measure(self, foot: str, t_ic: float, t_to: float, source: str) -> FrontalStep | None:
        """measure_stance, its peaks read where this foot's recent stances peaked (the median of
        their fits' peak fractions, this one's included, once there are MIN_PEAK_STEPS)."""

        def peak_at(key: str, own: float) -> float:
            recent = self._fractions.setdefault((foot, key), deque(maxlen=PEAK_STEPS))
            recent.append(own)
            return float(np.median(recent)) if len(recent) >= MIN_PEAK_STEPS else own

        return measure_stance(list(self._frames), foot, t_ic, t_to, source, peak_at)

    def _from_rear(self, frame: FrontalFrame | None) -> list[FrontalStep]:
        if frame is None:
            return []
        y = {side: frame.legs[side].foot_y for side in SIDES}
        lower = max(SIDES, key=lambda s: y[s])
        out: list[FrontalStep] = []
        if self._lower is not None and self._stance_start is not None and self.view == "rear":
            # The stance foot's image height turning back up is its toe-off.
            turn = TURN_LEG_LENGTHS * 2.6 * float(np.median(self._hip_width))  # a leg is ~2.6 hip widths
            if y[self._lower] > self._lowest_y:
                self._lowest_y, self._lowest_t = y[self._lower], frame.t
            elif self._lowest_y - y[self._lower] > turn or lower != self._lower:
                out += self._close_rear(self._lowest_t)
        if lower != self._lower:
            if self._stance_start is not None:
                out += self._close_rear(frame.t)  # a front view's stance: until the other foot lands
            self._lower, self._stance_start = lower, frame.t
            self._lowest_y, self._lowest_t = y[lower], frame.t
        return out

    def _close_rear(self, t_to: float) -> list[FrontalStep]:
        foot, t_ic = self._lower, self._stance_start
        self._stance_start = None
        if foot is None or t_ic is None or t_to - t_ic < MIN_STANCE_S:
            return []
        step = self._measure(foot, t_ic, t_to, "rear")
        return [step] if step is not None else []


def frontal_summary(steps: list[FrontalStep]) -> dict:
    """Per side the median of each measure over its steps, and the left-right asymmetry (left
    minus right) of each; the share of crossover steps."""
    out: dict = {"steps": len(steps)}
    keys = ("pelvic_drop_deg", "hip_adduction_deg", "knee_fppa_deg", "foot_lateral_hw")
    for side in SIDES:
        mine = [s for s in steps if s.foot == side]
        out[side] = {k: (round(float(np.median([getattr(s, k) for s in mine])), 3) if mine else None) for k in keys}
        out[side]["steps"] = len(mine)
    out["asymmetry"] = {k: (round(out["left"][k] - out["right"][k], 3)
                            if out["left"][k] is not None and out["right"][k] is not None else None) for k in keys}
    out["crossover_share"] = round(sum(s.crossover for s in steps) / len(steps), 3) if steps else None
    return out
