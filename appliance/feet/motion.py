"""One foot's image motion between two frames, from the pixels around it at full resolution.

The pose model places the heel, toe and ankle to within a good part of a shoe's length; the pixels
know better. Around the shoe the landmarks place in the earlier frame, a crop (the shoe scaled to
``shoe_px`` pixels long (``MotionTuning``), whatever the camera's resolution) is cut from both frames; corners on the
shoe (inside its outline from the heel, toe and ankle) are followed into the later frame by
pyramidal Lucas-Kanade and back again (forward-backward check: a point that does not come back to
where it started was not followed). A stance foot at 25-30 fps moves half a shoe or more between
frames, and a landing foot's velocity turns from forwards to the belt's within one frame, so the
search starts from each of a few predicted motions (the foot's last velocity, the belt's, none) and
keeps the one whose points come back best.

A shoe is rigid: the followed points give its translation and rotation (least squares with the
outliers dropped), so the velocity of any point of the shoe is known from all of them. The
velocity of its lowest point (the sole where it meets the belt: the heel in a heel-first landing,
the toe at push-off) is what times touch and release; its rotation tells a foot still rolling
down from one flat on the belt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from appliance.feet.tuning import FEET_TUNING, MotionTuning


@dataclass(frozen=True, slots=True)
class FootMotion:
    """How one shoe moved between two frames: ``t`` is the midpoint of their capture times and
    ``dt`` the time between them; the velocities are image pixels per second (x right, y down) of
    the shoe's centre and of its lowest point; ``angular_velocity`` (rad/s, clockwise in the image)
    is its rotation; ``texture`` (0..1) is the share of the shoe's tracked points that were
    followed and fit the rigid motion."""

    t: float
    velocity: tuple[float, float]
    low_velocity: tuple[float, float]
    texture: float
    dt: float = 0.0
    angular_velocity: float = 0.0


def _cv2():
    import cv2  # lazy: python3-opencv on the Pi, opencv-python-headless elsewhere

    return cv2


def shoe_box(heel: np.ndarray, toe: np.ndarray, ankle: np.ndarray, shoe_len_px: float,
             image_size: tuple[int, int], margin: float = FEET_TUNING.motion.box_margin) -> tuple[int, int, int, int] | None:
    """The pixel box (x0, y0, x1, y1) around the shoe with ``margin`` shoe lengths, clipped to the
    image; None when less than half of it is in the image."""
    pts = np.stack([heel, toe, ankle])
    pad = margin * shoe_len_px
    x0, y0 = pts.min(axis=0) - pad
    x1, y1 = pts.max(axis=0) + pad
    w, h = image_size
    cx0, cy0, cx1, cy1 = max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    if (cx1 - cx0) * (cy1 - cy0) < 0.5 * (x1 - x0) * (y1 - y0) or cx1 - cx0 < 4 or cy1 - cy0 < 4:
        return None
    return cx0, cy0, cx1, cy1


def shoe_polygon(heel: np.ndarray, toe: np.ndarray, ankle: np.ndarray, shoe_len_px: float) -> np.ndarray:
    """[4, 2] the shoe's outline from its landmarks: the sole line from heel to toe (a little below
    it, where the sole is), and up to the ankle at the back and to the toe box's top at the front."""
    down = np.array([0.0, 0.08 * shoe_len_px])
    up = np.array([0.0, -0.25 * shoe_len_px])
    return np.stack([heel + down, toe + down, toe + up, ankle]).astype(np.float32)


def measure_foot_motion(prev_image: np.ndarray, image: np.ndarray, t_prev: float, t: float, heel: np.ndarray,
                        toe: np.ndarray, ankle: np.ndarray, shoe_len_px: float,
                        predictions: Sequence[tuple[float, float]] = (),
                        fallbacks: Sequence[tuple[float, float]] = (),
                        tuning: MotionTuning = FEET_TUNING.motion) -> FootMotion | None:
    """The shoe's motion from ``prev_image`` (where the landmarks place it) to ``image`` (RGB or
    grey, full resolution); ``predictions`` are velocities (px/s) it may be moving at (besides
    standing still), ``fallbacks`` coarser ones searched from (with the shoe's whole patch) only when
    those do not find the shoe; None when it is out of the image or too plain to follow."""
    motion = _measure(prev_image, image, t_prev, t, heel, toe, ankle, shoe_len_px, predictions, False, False, tuning)
    if not fallbacks or (motion is not None and np.hypot(*motion.velocity) >= tuning.still_shoe_per_s * shoe_len_px):
        return motion
    # Not found, or found standing still, which a shoe on a running belt never does for long (the
    # scene behind a box the landmarks placed partly off the shoe): search again from the coarser
    # guesses and the shoe's whole patch, for the shoe moving.
    again = _measure(prev_image, image, t_prev, t, heel, toe, ankle, shoe_len_px, [*predictions, *fallbacks],
                     True, True, tuning)
    return motion if again is None else again


def _measure(prev_image: np.ndarray, image: np.ndarray, t_prev: float, t: float, heel: np.ndarray, toe: np.ndarray,
             ankle: np.ndarray, shoe_len_px: float, predictions: Sequence[tuple[float, float]],
             patch_search: bool, moving: bool, tuning: MotionTuning) -> FootMotion | None:
    """measure_foot_motion's search from ``predictions`` and standing still (and from the shoe's
    whole patch when ``patch_search``; only for a shoe moving faster than standing still when
    ``moving``)."""
    cv2 = _cv2()
    h, w = image.shape[:2]
    dt = t - t_prev
    box = shoe_box(heel, toe, ankle, shoe_len_px, (w, h), tuning.box_margin)
    if box is None or dt <= 0:
        return None
    shifts = [np.asarray(p, np.float64) * dt for p in predictions if np.all(np.isfinite(p))] + [np.zeros(2)] * (not moving)
    if not shifts:
        return None
    # One region for both frames: the shoe's box, where each predicted motion takes it, and the capture.
    reach = tuning.capture * shoe_len_px
    lo = np.min([s for s in shifts], axis=0)
    hi = np.max([s for s in shifts], axis=0)
    x0, y0 = max(0, int(box[0] + lo[0] - reach)), max(0, int(box[1] + lo[1] - reach))
    x1, y1 = min(w, int(np.ceil(box[2] + hi[0] + reach))), min(h, int(np.ceil(box[3] + hi[1] + reach)))
    shoe_px = tuning.shoe_px
    scale = min(1.0, shoe_px / max(shoe_len_px, 1.0))
    size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    a = cv2.resize(_grey(cv2, prev_image[y0:y1, x0:x1]), size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(_grey(cv2, image[y0:y1, x0:x1]), size, interpolation=cv2.INTER_AREA)
    poly = (shoe_polygon(heel, toe, ankle, shoe_len_px) - np.array([x0, y0], np.float32)) * np.array([sx, sy], np.float32)
    mask = np.zeros(a.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly * 16).astype(np.int32), 255, lineType=cv2.LINE_8, shift=4)
    p0 = cv2.goodFeaturesToTrack(a, tuning.max_points, tuning.quality, 2.0, mask=mask, blockSize=3)
    if p0 is None or len(p0) < tuning.min_points:
        return None
    p0 = p0.astype(np.float32)
    best, patch = None, None
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 0.03)
    lk = {"winSize": (tuning.window, tuning.window), "maxLevel": tuning.levels}
    crop_shifts = [np.array([shift[0] * sx, shift[1] * sy], np.float32) for shift in shifts]
    tried: list[np.ndarray] = []
    while crop_shifts:
        shift = crop_shifts.pop(0)
        tried.append(shift)
        guess = p0 + shift
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, guess.copy(), **lk,
                                              criteria=criteria, flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        # Back from where the points went, started from the prediction undone (not from where they
        # began: a point stuck on the wrong pixels would come back to its start from there and pass).
        back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, p1 - shift, **lk,
                                                criteria=criteria, flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        fb = np.hypot(*(back - p0).reshape(-1, 2).T)
        good = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < tuning.fb_max)
        score = (int(good.sum()), -float(np.median(fb[good])) if good.any() else -np.inf)
        if best is None or score > best[0]:
            best = (score, p1.reshape(-1, 2), good)
        if good.sum() >= tuning.enough * len(p0):
            break  # the predicted motion found the shoe: the other guesses would find the same
        if patch_search and not crop_shifts and len(tried) == len(shifts):
            # No prediction found it (a swinging shoe moves most of a shoe length between 25-30 fps
            # frames, and the landmarks' displacement is off by a third of one): where the shoe's
            # whole patch matches best within the guesses' reach is one more guess for LK.
            patch = _block_match(cv2, a, b, poly, np.min(tried, axis=0) - tuning.capture * shoe_px,
                                 np.max(tried, axis=0) + tuning.capture * shoe_px, tuning.patch_ncc)
            if patch is not None and min(np.hypot(*(patch - t)) for t in tried) > 0.1 * shoe_px:
                crop_shifts.append(patch)
    _, p1, good = best
    if good.sum() < tuning.min_points:
        # A blurred swinging shoe has no corners that come back, but its whole patch moves as one:
        # its match, if the match found from the later frame's patch back comes home and the shoe
        # moved (a patch that matches where it was is the static scene behind a misplaced box).
        if patch is None or np.hypot(*patch) < tuning.still_shoe_per_s * shoe_len_px * scale * dt:
            return None
        fb_patch = tuning.fb_patch
        home = _block_match(cv2, b, a, poly + patch, -patch - 3 * fb_patch, -patch + 3 * fb_patch, tuning.patch_ncc)
        if home is None or np.hypot(*(home + patch)) > fb_patch:
            return None
        v = patch / np.array([sx, sy]) / dt
        return FootMotion(0.5 * (t + t_prev), (float(v[0]), float(v[1])), (float(v[0]), float(v[1])), 0.0, dt, 0.0)
    # Image pixels: positions in the earlier frame and displacements.
    pts = p0.reshape(-1, 2)[good] / np.array([sx, sy]) + np.array([x0, y0])
    disp = (p1[good] - p0.reshape(-1, 2)[good]) / np.array([sx, sy])
    fit = _rigid_fit(pts, disp, tuning.inlier_min / scale, tuning.min_points)
    if fit is None:
        return None
    centre, v, omega, inliers = fit
    if moving and np.hypot(*v) < tuning.still_shoe_per_s * shoe_len_px * dt:
        return None
    low_y = float(np.quantile(pts[inliers, 1], tuning.low_quantile))
    low_x = float(np.mean(pts[inliers][pts[inliers, 1] >= low_y, 0]))
    v_low = v + omega * np.array([-(low_y - centre[1]), low_x - centre[0]])
    return FootMotion(0.5 * (t + t_prev), (float(v[0] / dt), float(v[1] / dt)),
                      (float(v_low[0] / dt), float(v_low[1] / dt)), float(inliers.sum() / len(p0)), dt,
                      float(omega / dt))


def _rigid_fit(pts: np.ndarray, disp: np.ndarray, floor: float, min_points: int):
    """A rigid motion (translation at the points' centre, small rotation) fitted to point
    displacements by least squares, twice, dropping points off it by more than three times the
    median residual (at least ``floor``); None when fewer than ``min_points`` agree."""
    inliers = np.ones(len(pts), bool)
    for _ in range(3):
        if inliers.sum() < min_points:
            return None
        c = pts[inliers].mean(axis=0)
        r = pts - c
        d = disp[inliers]
        v = d.mean(axis=0)
        rr = r[inliers]
        omega = float(np.sum(rr[:, 0] * d[:, 1] - rr[:, 1] * d[:, 0]) / max(np.sum(rr * rr), 1e-9))
        model = v + omega * np.stack([-r[:, 1], r[:, 0]], axis=1)
        res = np.hypot(*(disp - model).T)
        cut = max(3.0 * float(np.median(res[inliers])), floor)
        new = res <= cut
        if (new == inliers).all():
            break
        inliers = new
    if inliers.sum() < min_points:
        return None
    return c, v, omega, inliers


def _block_match(cv2, a: np.ndarray, b: np.ndarray, poly: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 min_ncc: float):
    """The shift (crop px, to a tenth of one) in [lo, hi] that best matches the shoe's bounding
    patch of ``a`` (its outline ``poly``) in ``b`` (normalised cross-correlation, at least
    ``min_ncc``), or None."""
    h, w = a.shape
    tx0, ty0 = (int(max(0, np.floor(v))) for v in poly.min(axis=0))
    tx1, ty1 = int(min(w, np.ceil(poly[:, 0].max()))), int(min(h, np.ceil(poly[:, 1].max())))
    if tx1 - tx0 < 4 or ty1 - ty0 < 4:
        return None
    sx0, sy0 = max(0, int(np.floor(tx0 + lo[0]))), max(0, int(np.floor(ty0 + lo[1])))
    sx1, sy1 = min(w, int(np.ceil(tx1 + hi[0]))), min(h, int(np.ceil(ty1 + hi[1])))
    if sx1 - sx0 < tx1 - tx0 + 2 or sy1 - sy0 < ty1 - ty0 + 2:
        return None
    r = cv2.matchTemplate(b[sy0:sy1, sx0:sx1], a[ty0:ty1, tx0:tx1], cv2.TM_CCOEFF_NORMED)
    iy, ix = np.unravel_index(int(np.argmax(r)), r.shape)
    if r[iy, ix] < min_ncc:
        return None

    def vertex(lo_: float, mid: float, hi_: float) -> float:  # the parabola's peak through three samples
        d = lo_ - 2 * mid + hi_
        return float(np.clip(0.5 * (lo_ - hi_) / d, -0.5, 0.5)) if d < 0 else 0.0

    fx = vertex(r[iy, ix - 1], r[iy, ix], r[iy, ix + 1]) if 0 < ix < r.shape[1] - 1 else 0.0
    fy = vertex(r[iy - 1, ix], r[iy, ix], r[iy + 1, ix]) if 0 < iy < r.shape[0] - 1 else 0.0
    return np.array([sx0 + ix + fx - tx0, sy0 + iy + fy - ty0], np.float32)


def _grey(cv2, crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
