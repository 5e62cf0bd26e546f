"""One foot's image motion between two frames, from the pixels around it at full resolution.

The pose model places the heel, toe and ankle to within a good part of a shoe's length; the pixels
know better. Around the shoe the landmarks place in the earlier frame, a small box (the shoe scaled
to ``SHOE_PX`` pixels long, whatever the camera's resolution) is cut from both frames and dense
optical flow (Farnebäck) is computed on it. The shoe's velocity is the median flow over the shoe's
outline (heel, toe and ankle's quadrilateral), weighted to textured pixels; its lowest part's
velocity (the sole's, the part that touches the belt) is the same over the lowest third of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHOE_PX = 32.0  # the shoe's length in the flow box: enough texture to track, cheap at any resolution
BOX_MARGIN = 0.6  # shoe lengths around the shoe's landmarks: room for its motion between frames
MIN_TEXTURED = 12  # textured shoe pixels needed for a measurement
LOW_FRACTION = 0.33  # the lowest third of the shoe (along the image's vertical) is its sole


@dataclass(frozen=True, slots=True)
class FootMotion:
    """How one shoe moved between two frames: ``t`` is the midpoint of their capture times; the
    velocities are image pixels per second (x right, y down) of the whole shoe and of its lowest
    part; ``texture`` (0..1) is the share of the shoe's pixels with enough contrast to be tracked."""

    t: float
    velocity: tuple[float, float]
    low_velocity: tuple[float, float]
    texture: float


def _cv2():
    import cv2  # lazy: python3-opencv on the Pi, opencv-python-headless elsewhere

    return cv2


def shoe_box(heel: np.ndarray, toe: np.ndarray, ankle: np.ndarray, shoe_len_px: float,
             image_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The pixel box (x0, y0, x1, y1) around the shoe with its margin, clipped to the image; None
    when less than half of it is in the image."""
    pts = np.stack([heel, toe, ankle])
    margin = BOX_MARGIN * shoe_len_px
    x0, y0 = pts.min(axis=0) - margin
    x1, y1 = pts.max(axis=0) + margin
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
                        toe: np.ndarray, ankle: np.ndarray, shoe_len_px: float) -> FootMotion | None:
    """The shoe's motion from ``prev_image`` (where the landmarks place it) to ``image`` (RGB or
    grey, full resolution); None when it is out of the image or too plain to track."""
    cv2 = _cv2()
    h, w = image.shape[:2]
    box = shoe_box(heel, toe, ankle, shoe_len_px, (w, h))
    if box is None or t <= t_prev:
        return None
    x0, y0, x1, y1 = box
    scale = min(1.0, SHOE_PX / max(shoe_len_px, 1.0))
    size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
    a = _grey(cv2, cv2.resize(prev_image[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA))
    b = _grey(cv2, cv2.resize(image[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA))
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 9, 3, 5, 1.1, 0)
    poly = (shoe_polygon(heel, toe, ankle, shoe_len_px) - np.array([x0, y0], np.float32)) * np.array([sx, sy], np.float32)
    mask = np.zeros(a.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly * 16).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4)
    gx = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.hypot(gx, gy)
    inside = mask.astype(bool)
    if inside.sum() < MIN_TEXTURED:
        return None
    textured = inside & (grad >= max(20.0, 0.5 * float(np.median(grad[inside]))))
    if textured.sum() < MIN_TEXTURED:
        return None
    ys = np.nonzero(textured)[0]
    low = textured & (np.arange(a.shape[0])[:, None] >= np.quantile(ys, 1.0 - LOW_FRACTION))
    dt = t - t_prev
    per_s = np.array([1.0 / (sx * dt), 1.0 / (sy * dt)])
    v = np.median(flow[textured], axis=0) * per_s
    v_low = np.median(flow[low], axis=0) * per_s if low.sum() >= 4 else v
    return FootMotion(0.5 * (t + t_prev), (float(v[0]), float(v[1])), (float(v_low[0]), float(v_low[1])),
                      float(textured.sum() / inside.sum()))


def _grey(cv2, crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
