"""The foot's angle at a contact, read by a sharper model on the frames buffered around it.

The pose engine's *full* model sees a shoe as 20-30 px of its 256 px crop and its heel and toe
wander: on the slow-motion treadmill clip the mid-stance foot angle spreads about 20 deg from step to
step, as wide as the strike classes themselves. Per contact (not per frame) the *heavy* model is run
on a few frames kept around the contact instant and on a few mid-stance frames, on the same region
the engine used for each (``PoseEngine.last_roi``), and the angles are read from its landmarks:

* ``ContactFrames``: the last ``max_age_s`` seconds of (Frame, Roi) pairs, references only.
* ``plan_contact``: which buffered frames to read (the frame nearest the contact instant and two
  before it, over about 30 ms, and a few frames spread over the mid-stance window).
* ``reading_from_landmarks``: the reading from those frames' [33, 5] landmarks (heavy's, or any
  model's): the landing leg chosen per frame as the one whose heel and toe are nearest the shoe the
  foot stage followed (never the model's left/right label), frames whose heel-toe length is far from
  the median shoe length dropped, the contact angles from a Theil-Sen line through the remaining
  frames evaluated at the contact instant, the flat
  reference as the median mid-stance foot angle, and the strike class by the thresholds in
  ``GaitSettings``.
* ``read_contact``: the two joined with a synchronous runner (``HeavyPose``), for a caller that is
  already off the control loop; a caller on the loop submits ``plan.requests()`` to a
  ``HeavyWorker`` and calls ``reading_from_landmarks`` once their results are polled.
* ``sole_line_angle``: the shoe's lower edge fitted in the pixels at full resolution (an
  alternative to the landmarks' heel-toe line, measured in ``bench/heavy_contact_angles.py``): on
  the slow-motion clip it agrees with heavy (strike angle median |difference| 2.0 deg, 9/9
  forefoot) when its box is placed by heavy's heel and toe, but not when placed by full's (7/9);
  on the phone clip it locks onto the belt's edge with a deeper box and follows heavy's line with
  a shallower one. A check, not the reading.

Angles are in degrees in the runner's frame (``facing_sign`` +1 facing right, -1 facing left), the
foot's toe up positive, as ``appliance.gait.geometry``. No I/O: numpy, OpenCV for the sole line,
and the landmark runner passed in.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from appliance.config import GaitSettings
from appliance.feet.tuning import FEET_TUNING, ContactLookTuning
from appliance.landmarks import LEG_LANDMARKS
from appliance.pose.geometry import Roi
from appliance.types import Frame

if TYPE_CHECKING:
    from appliance.pose.heavy import LandmarkRunner

HIP, KNEE, ANKLE, HEEL, TOE = range(5)  # rows of a leg's points, as appliance.gait.geometry


def _geometry():
    # Lazy: appliance.gait's package imports its tracker, which will import this module to read
    # contacts; a module-level import here would make that a cycle. The angles stay defined once.
    from appliance.gait import geometry

    return geometry


SIDES = ("left", "right")


class ContactFrames:
    """The recent (Frame, Roi) pairs, bounded by age: the frames a contact's look is read from.

    Keeps references only (frames are immutable values; a source that reuses its buffers must copy
    before ``add``). Pairs older than ``max_age_s`` before the newest are dropped, and never more
    than ``max_frames`` are kept. A frame without a region (no pose) is not kept: heavy has nowhere
    to look. Time going backwards (a source restarted) empties the buffer.

    >>> frames = ContactFrames(max_age_s=0.5)
    >>> frames.add(frame, engine.last_roi)          # every frame, after the engine
    >>> frames.between(t_contact - 0.05, t_contact + 0.2)
    """

    def __init__(self, max_age_s: float = FEET_TUNING.contact_look.buffer_s,
                 max_frames: int = FEET_TUNING.contact_look.buffer_max_frames):
        if not max_age_s > 0:
            raise ValueError(f"max_age_s must be positive, got {max_age_s}")
        if max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {max_frames}")
        self.max_age_s = float(max_age_s)
        self._pairs: deque[tuple[Frame, Roi]] = deque(maxlen=int(max_frames))

    def add(self, frame: Frame, roi: Roi | None) -> None:
        if self._pairs and frame.t < self._pairs[-1][0].t:
            self._pairs.clear()
        if roi is not None:
            self._pairs.append((frame, roi))
        while self._pairs and self._pairs[0][0].t < frame.t - self.max_age_s:
            self._pairs.popleft()

    def between(self, t0: float, t1: float) -> list[tuple[Frame, Roi]]:
        """The kept pairs captured in [t0, t1], oldest first."""
        return [p for p in self._pairs if t0 <= p[0].t <= t1]

    @property
    def span_s(self) -> float:
        """Capture time from the oldest to the newest kept frame (0 when fewer than two)."""
        return self._pairs[-1][0].t - self._pairs[0][0].t if len(self._pairs) > 1 else 0.0

    def __len__(self) -> int:
        return len(self._pairs)

    def __iter__(self) -> Iterator[tuple[Frame, Roi]]:
        return iter(list(self._pairs))

    def clear(self) -> None:
        self._pairs.clear()


@dataclass(frozen=True, slots=True)
class ContactPlan:
    """The buffered frames one contact's look reads: ``contact`` around the contact instant and
    ``mid`` over the mid-stance window, oldest first, as (Frame, Roi) pairs."""

    t_contact: float
    contact: tuple[tuple[Frame, Roi], ...]
    mid: tuple[tuple[Frame, Roi], ...]

    def requests(self) -> list[tuple[tuple[str, int], np.ndarray, Roi]]:
        """(key, image, roi) for ``HeavyWorker.submit``: keys ("contact" | "mid", position)."""
        return ([(("contact", i), f.image, r) for i, (f, r) in enumerate(self.contact)]
                + [(("mid", i), f.image, r) for i, (f, r) in enumerate(self.mid)])


@dataclass(frozen=True, slots=True)
class ContactReading:
    """The foot at one contact, from the landmarks of a few frames around it.

    Angles in degrees, runner's frame. ``foot_angle_deg``: heel-to-toe line against the image
    horizontal at ``t_contact`` (toe up positive: negative is toe lower than heel, a toe-first
    landing); ``shank_angle_deg`` (to the belt's normal, ankle ahead of knee positive) and
    ``knee_flexion_deg`` (0 = straight) at the same instant; ``flat_reference_deg``: the median
    foot angle over the mid-stance frames (the foot flat on the belt); ``strike_angle_deg`` =
    foot angle - flat reference, and ``strike`` its Altman & Davis class by the settings'
    thresholds ("unknown" when either angle is missing). ``side`` is the model's label of the leg
    read at the frame nearest the contact (the leg itself is chosen by the shoe's position).
    ``contact_samples`` / ``mid_samples`` are the (t, foot angle) of the frames kept, and
    ``rejected`` the frames dropped (no landmarks, or a heel-toe length far from the median
    ``shoe_length_px``). ``sole_angle_deg`` / ``sole_flat_reference_deg`` /
    ``sole_strike_angle_deg`` are the same read from the shoe's lower edge in the pixels (NaN when
    not asked for or not found). ``model_ms``: wall time spent in the landmark runner (0 when the
    landmarks were given).
    """

    t_contact: float
    side: str
    foot_angle_deg: float
    shank_angle_deg: float
    knee_flexion_deg: float
    flat_reference_deg: float
    strike_angle_deg: float
    strike: str
    shoe_length_px: float
    contact_samples: tuple[tuple[float, float], ...]
    mid_samples: tuple[tuple[float, float], ...]
    rejected: int
    sole_angle_deg: float = math.nan
    sole_flat_reference_deg: float = math.nan
    sole_strike_angle_deg: float = math.nan
    model_ms: float = 0.0


def _nearest(pairs: Sequence[tuple[Frame, Roi]], t: float) -> int:
    return int(np.argmin([abs(f.t - t) for f, _ in pairs]))


def plan_contact(frames_around: Sequence[tuple[Frame, Roi]], t_contact: float,
                 t_mid_stance_window: tuple[float, float], *,
                 before: int = FEET_TUNING.contact_look.contact_frames_before,
                 window_s: float = FEET_TUNING.contact_look.contact_window_s,
                 mid_frames: int = FEET_TUNING.contact_look.mid_stance_frames) -> ContactPlan:
    """Which of ``frames_around`` (time-ordered (Frame, Roi) pairs, e.g. a ``ContactFrames``) to read.

    At the contact: the frame nearest ``t_contact`` and ``before`` frames before it, spaced so that
    they reach about ``window_s`` back (adjacent frames when the frame interval is longer than
    ``window_s / before``). Mid-stance: ``mid_frames`` frames spread evenly over
    the window (all of them when it holds fewer). Missing frames at the buffer's ends are left out.
    """
    pairs = sorted(frames_around, key=lambda p: p[0].t)
    if not pairs:
        return ContactPlan(t_contact, (), ())
    contact: list[tuple[Frame, Roi]] = []
    i0 = _nearest(pairs, t_contact)
    if abs(pairs[i0][0].t - t_contact) <= max(window_s, 0.0) + _frame_interval(pairs):
        dt = _frame_interval(pairs)
        stride = max(1, int(round(window_s / before / dt))) if dt > 0 and before > 0 else 1
        idx = [i0 + k * stride for k in range(-before, 1)]
        contact = [pairs[i] for i in idx if 0 <= i < len(pairs)]
    t0, t1 = t_mid_stance_window
    inside = [p for p in pairs if t0 <= p[0].t <= t1]
    if len(inside) > mid_frames:
        pick = np.unique(np.round(np.linspace(0, len(inside) - 1, mid_frames)).astype(int))
        inside = [inside[i] for i in pick]
    return ContactPlan(t_contact, tuple(contact), tuple(inside))


def _frame_interval(pairs: Sequence[tuple[Frame, Roi]]) -> float:
    if len(pairs) < 2:
        return 0.0
    return float(np.median(np.diff([f.t for f, _ in pairs])))


def _leg(landmarks: np.ndarray, side: str) -> np.ndarray:
    """[5, 2] pixel points (hip, knee, ankle, heel, toe) of one labelled leg."""
    return landmarks[[int(i) for i in LEG_LANDMARKS[side]], :2].astype(np.float64)


def choose_leg(landmarks: np.ndarray, shoe_centre: tuple[float, float] | None, sign: float,
               roll_rad: float = 0.0, *, stance: bool = False) -> str:
    """The labelled leg ("left" / "right") whose foot is the shoe at ``shoe_centre``: the one whose
    heel and toe are nearest it (sum of both distances). Without a centre: the foot further forward
    (at a contact, the landing foot is ahead of the other), or with ``stance`` the lower foot along
    the belt's normal (in mid-stance the other foot is in swing, above the belt)."""
    best, best_cost = SIDES[0], math.inf
    for side in SIDES:
        pts = _leg(landmarks, side)
        mid = (pts[HEEL] + pts[TOE]) / 2
        if shoe_centre is not None:
            c = np.asarray(shoe_centre, np.float64)
            cost = float(np.hypot(*(pts[HEEL] - c)) + np.hypot(*(pts[TOE] - c)))
        else:
            fwd, up = _geometry().belt_components(mid, sign, roll_rad)
            cost = up if stance else -fwd
        if cost < best_cost:
            best, best_cost = side, cost
    return best


def theil_sen_at(t: np.ndarray, y: np.ndarray, t_at: float) -> float:
    """The Theil-Sen line through (t, y) evaluated at ``t_at``: median pairwise slope, median
    intercept; robust to one wild sample in five. One sample: its value; none: NaN."""
    t, y = np.asarray(t, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if len(t) == 0:
        return math.nan
    if len(t) == 1 or np.ptp(t) == 0:
        return float(np.median(y))
    i, j = np.triu_indices(len(t), 1)
    dt = t[j] - t[i]
    keep = dt != 0
    slope = float(np.median((y[j] - y[i])[keep] / dt[keep]))
    return float(np.median(y - slope * (t - t_at)))


@dataclass(frozen=True, slots=True)
class _Look:
    t: float
    side: str
    points: np.ndarray  # [5, 2] hip, knee, ankle, heel, toe of the chosen leg
    length: float
    frame: Frame | None


def _looks(landmarks: Sequence[np.ndarray | None], pairs: Sequence[tuple[Frame, Roi]],
           centre: tuple[float, float] | None, stance: bool, sign: float, roll_rad: float) -> list[_Look | None]:
    out: list[_Look | None] = []
    for lm, (frame, _) in zip(landmarks, pairs, strict=True):
        if lm is None or not np.all(np.isfinite(lm[:, :2])):
            out.append(None)
            continue
        side = choose_leg(lm, centre, sign, roll_rad, stance=stance)
        pts = _leg(lm, side)
        out.append(_Look(frame.t, side, pts, float(np.hypot(*(pts[TOE] - pts[HEEL]))), frame))
    return out


def classify_strike(strike_angle_deg: float, settings: GaitSettings) -> str:
    """Altman & Davis class of a foot-strike angle by the settings' thresholds."""
    if not math.isfinite(strike_angle_deg):
        return "unknown"
    if strike_angle_deg > settings.rearfoot_above_deg:
        return "rearfoot"
    if strike_angle_deg < settings.forefoot_below_deg:
        return "forefoot"
    return "midfoot"


def reading_from_landmarks(plan: ContactPlan, contact_landmarks: Sequence[np.ndarray | None],
                           mid_landmarks: Sequence[np.ndarray | None], facing_sign: float, *,
                           shoe_centre: tuple[float, float] | None = None, settings: GaitSettings | None = None,
                           roll_rad: float = 0.0, sole_line: bool = False, model_ms: float = 0.0,
                           tuning: ContactLookTuning = FEET_TUNING.contact_look) -> ContactReading:
    """The reading of one contact from the landmarks of ``plan``'s frames (None for a failed one).

    Contact frames: the leg nearest ``shoe_centre`` (the foot stage's shoe at the event; without
    it, the foot further forward). Mid-stance frames: the lower foot (the stance foot; the other is
    in swing). ``sole_line``: also fit the shoe's lower edge in the pixels of the kept contact frame
    nearest the instant (the frames either side blur and tilt: a line through their sole angles
    measured worse) and of the kept mid-stance frames (median).
    """
    settings = settings or GaitSettings()
    sign = 1.0 if facing_sign >= 0 else -1.0
    c_looks = _looks(contact_landmarks, plan.contact, shoe_centre, False, sign, roll_rad)
    m_looks = _looks(mid_landmarks, plan.mid, None, True, sign, roll_rad)
    found = [x for x in c_looks + m_looks if x is not None]
    shoe = float(np.median([x.length for x in found])) if found else math.nan

    def fine(x: _Look | None) -> bool:
        return x is not None and x.length > 0 and abs(x.length - shoe) <= tuning.shoe_length_tolerance * shoe

    geo = _geometry()
    cs = [x for x in c_looks if fine(x)]
    ms = [x for x in m_looks if fine(x)]
    rejected = len(c_looks) + len(m_looks) - len(cs) - len(ms)
    t = np.array([x.t for x in cs])
    foot = [float(geo.foot_angle_image_deg(x.points[HEEL], x.points[TOE], sign)) for x in cs]
    shank = [geo.shank_angle_deg(x.points[KNEE], x.points[ANKLE], sign, roll_rad) for x in cs]
    knee = [geo.knee_flexion_deg(x.points[HIP], x.points[KNEE], x.points[ANKLE]) for x in cs]
    mid = [float(geo.foot_angle_image_deg(x.points[HEEL], x.points[TOE], sign)) for x in ms]
    at = plan.t_contact
    foot_deg = theil_sen_at(t, np.array(foot), at)
    flat = float(np.median(mid)) if mid else math.nan
    fsa = foot_deg - flat
    side = min(cs, key=lambda x: abs(x.t - at)).side if cs else "unknown"
    sole = sole_flat = math.nan
    if sole_line and cs:
        nearest = min(cs, key=lambda x: abs(x.t - at))
        sole = sole_line_angle(nearest.frame.image, nearest.points[HEEL], nearest.points[TOE], sign, tuning=tuning)
        mids = [sole_line_angle(x.frame.image, x.points[HEEL], x.points[TOE], sign, tuning=tuning) for x in ms]
        mids = [a for a in mids if math.isfinite(a)]
        sole_flat = float(np.median(mids)) if mids else math.nan
    return ContactReading(
        t_contact=at, side=side, foot_angle_deg=foot_deg, shank_angle_deg=theil_sen_at(t, np.array(shank), at),
        knee_flexion_deg=theil_sen_at(t, np.array(knee), at), flat_reference_deg=flat, strike_angle_deg=fsa,
        strike=classify_strike(fsa, settings), shoe_length_px=shoe,
        contact_samples=tuple((x.t, a) for x, a in zip(cs, foot, strict=True)),
        mid_samples=tuple((x.t, a) for x, a in zip(ms, mid, strict=True)), rejected=rejected,
        sole_angle_deg=sole, sole_flat_reference_deg=sole_flat, sole_strike_angle_deg=sole - sole_flat,
        model_ms=model_ms,
    )


def read_contact(frames_around: Sequence[tuple[Frame, Roi]], t_contact: float,
                 t_mid_stance_window: tuple[float, float], facing_sign: float, heavy: LandmarkRunner, *,
                 shoe_centre: tuple[float, float] | None = None, settings: GaitSettings | None = None,
                 roll_rad: float = 0.0, sole_line: bool = False,
                 before: int = FEET_TUNING.contact_look.contact_frames_before,
                 window_s: float = FEET_TUNING.contact_look.contact_window_s,
                 mid_frames: int = FEET_TUNING.contact_look.mid_stance_frames, tuning: ContactLookTuning = FEET_TUNING.contact_look) -> ContactReading:
    """Run ``heavy`` (``HeavyPose`` or any ``landmarks(image, roi) -> [33, 5]``) on the frames
    ``plan_contact`` picks from ``frames_around`` and read the contact from its landmarks
    (``reading_from_landmarks``). Blocks for about (before + 1 + mid_frames) invokes: call it
    off the control loop. A frame the runner fails on (raises) counts as rejected."""
    plan = plan_contact(frames_around, t_contact, t_mid_stance_window, before=before, window_s=window_s,
                        mid_frames=mid_frames)
    t0 = time.perf_counter()

    def run(pairs):
        out = []
        for frame, roi in pairs:
            try:
                out.append(np.asarray(heavy.landmarks(frame.image, roi)))
            except Exception:  # noqa: BLE001 - a frame heavy cannot read is a rejected frame
                out.append(None)
        return out

    contact, mid = run(plan.contact), run(plan.mid)
    ms = (time.perf_counter() - t0) * 1000
    return reading_from_landmarks(plan, contact, mid, facing_sign, shoe_centre=shoe_centre, settings=settings,
                                  roll_rad=roll_rad, sole_line=sole_line, model_ms=ms, tuning=tuning)


# --- the sole line from the pixels ---

def sole_line_angle(image: np.ndarray, heel: np.ndarray, toe: np.ndarray, sign: float,
                    seed: int = 0, tuning: ContactLookTuning = FEET_TUNING.contact_look) -> float:
    """The angle of the shoe's lower edge near the heel-toe line, in the runner's frame (toe up
    positive, like ``foot_angle_image_deg``), or NaN when no edge line is found.

    A box aligned with heel->toe is resampled from the full-resolution image so the shoe is
    ``sole_px_per_shoe`` px long; in each column between heel and toe the strongest
    horizontal-ish edge (Sobel across the line, gradient within ``sole_max_tilt_deg`` of the box's
    vertical) below the line's top part is an edge point; a RANSAC line through them (inliers
    within ``sole_inlier_px``, refitted by least squares) is the sole (``ContactLookTuning``). The line's tilt in the box
    plus the heel-toe line's angle gives its angle in the image.
    """
    line = sole_line(image, heel, toe, seed, tuning)
    if line is None:
        return math.nan
    return float(_geometry().foot_angle_image_deg(line[0], line[1], sign))


def sole_line(image: np.ndarray, heel: np.ndarray, toe: np.ndarray, seed: int = 0,
              tuning: ContactLookTuning = FEET_TUNING.contact_look) -> tuple[np.ndarray, np.ndarray] | None:
    """The fitted sole as two image points (below the heel, below the toe), or None (see
    ``sole_line_angle``)."""
    import cv2  # lazy: python3-opencv on the Pi, opencv-python-headless elsewhere

    heel, toe = np.asarray(heel, np.float64), np.asarray(toe, np.float64)
    d = toe - heel
    length = float(np.hypot(*d))
    if not length > 2:
        return None
    u = d / length  # along heel->toe in the image
    n = np.array([-u[1], u[0]])  # perpendicular; pick the one pointing down in the image
    if n[1] < 0:
        n = -n
    box_px, along, across, columns = tuning.sole_px_per_shoe, tuning.sole_along, tuning.sole_across, tuning.sole_columns
    k = length / box_px  # image px per box px
    w = int(round((along[1] - along[0]) * box_px))
    h = int(round((across[1] - across[0]) * box_px))
    origin = heel + u * along[0] * length + n * across[0] * length
    box_to_image = np.array([[u[0] * k, n[0] * k, origin[0]], [u[1] * k, n[1] * k, origin[1]]])
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    box = cv2.warpAffine(grey, box_to_image, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    box = cv2.GaussianBlur(box, (5, 5), 1.2)
    gx = cv2.Sobel(box, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(box, cv2.CV_32F, 0, 1, ksize=3)
    strength = np.abs(gy)
    strength[np.abs(gx) > np.abs(gy) * math.tan(math.radians(tuning.sole_max_tilt_deg))] = 0
    c0 = int(round((columns[0] - along[0]) * box_px))
    c1 = int(round((columns[1] - along[0]) * box_px))
    cols = np.arange(max(c0, 0), min(c1, w))
    if len(cols) < 8:
        return None
    rows = np.argmax(strength[:, cols], axis=0)
    peak = strength[rows, cols]
    strong = peak > max(1e-6, 0.25 * float(np.percentile(peak, 90)))
    xs, ys = cols[strong].astype(np.float64), rows[strong].astype(np.float64)
    if len(xs) < 8:
        return None
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(200):
        i, j = rng.choice(len(xs), 2, replace=False)
        if xs[i] == xs[j]:
            continue
        a = (ys[j] - ys[i]) / (xs[j] - xs[i])
        if abs(a) > 1.0:  # steeper than 45 deg in the box: not a sole
            continue
        res = np.abs(ys - (ys[i] + a * (xs - xs[i]))) / math.hypot(1, a)
        inl = res <= tuning.sole_inlier_px
        if best is None or inl.sum() > best.sum():
            best = inl
    if best is None or best.sum() < tuning.sole_min_inliers * len(cols):
        return None
    a, b = np.polyfit(xs[best], ys[best], 1)
    ends = np.array([[c0, a * c0 + b], [c1, a * c1 + b]], np.float64)  # box px (x along u, y along n)
    pts = ends @ box_to_image[:, :2].T + box_to_image[:, 2]
    return pts[0], pts[1]
