"""BlazePose geometry: SSD anchors, detection decoding, weighted NMS, rotated ROIs, projections.

Pure numpy. Conventions: image pixels with y pointing down; a rotated ROI is (cx, cy, size, angle)
in pixels and radians, square (BlazePose crops are square), ``angle`` clockwise on screen. The
mapping from a crop of ``n``×``n`` pixels to the image is
``p_image = center + R(angle) · ((u / n − 0.5)·size, (v / n − 0.5)·size)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The detector's SSD configuration (BlazePose detector, 224×224 input).
DETECTOR_INPUT = 224
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
DETECTOR_MIN_SCALE = 0.1484375
DETECTOR_MAX_SCALE = 0.75
LANDMARK_INPUT = 256
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
ROI_SCALE = 1.25  # margin around the body the landmark model was trained with (a larger one makes the tracked ROI grow frame after frame)


def ssd_anchor_centers(input_size: int = DETECTOR_INPUT, strides=DETECTOR_STRIDES) -> np.ndarray:
    """[N, 2] normalised anchor centres (x, y) in the order the detector emits its boxes.

    Consecutive layers with the same stride share one feature map; each layer contributes two
    anchors per cell (aspect ratio 1 and the interpolated scale). Anchor sizes are fixed to 1, so
    only the centres matter.
    """
    centers = []
    layer = 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        per_cell = 2 * (same - layer)
        fm = math.ceil(input_size / strides[layer])
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centers.append(np.repeat(cell, per_cell, axis=0))
        layer = same
    return np.concatenate(centers).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """A person found by the detector, in normalised image coordinates (0..1)."""

    score: float
    box: np.ndarray  # [4] xmin, ymin, xmax, ymax
    keypoints: np.ndarray  # [4, 2]: hip centre, full-body scale point, shoulder centre, upper-body point


def decode_detections(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, min_score: float
) -> list[Detection]:
    """Detections above ``min_score`` from the detector's raw outputs ([N, 12] and [N] or [N, 1]).

    Coordinates are normalised to the 224×224 letterboxed input, not yet to the image.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)))
    keep = np.nonzero(scores >= min_score)[0]
    if keep.size == 0:
        return []
    r = raw_boxes[keep] / DETECTOR_INPUT
    a = anchors[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = r[:, 4:12].reshape(-1, 4, 2) + a[:, None, :]
    return [Detection(float(scores[k]), boxes[i], kps[i]) for i, k in enumerate(keep)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (xmin, ymin, xmax, ymax)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def weighted_nms(detections: list[Detection], iou_threshold: float = 0.3) -> list[Detection]:
    """Weighted non-maximum suppression: overlapping detections are averaged, weighted by score.

    The kept detection has the score of the best one of its cluster; clusters come out best first.
    """
    remaining = sorted(detections, key=lambda d: d.score, reverse=True)
    out = []
    while remaining:
        best = remaining[0]
        cluster = [d for d in remaining if iou(best.box, d.box) > iou_threshold or d is best]
        remaining = [d for d in remaining if all(d is not c for c in cluster)]
        w = np.array([d.score for d in cluster])
        box = np.tensordot(w, np.stack([d.box for d in cluster]), axes=1) / w.sum()
        kps = np.tensordot(w, np.stack([d.keypoints for d in cluster]), axes=1) / w.sum()
        out.append(Detection(best.score, box, kps))
    return out


@dataclass(frozen=True)
class Letterbox:
    """How an image of ``width``×``height`` is fitted into a square tensor of ``size`` (aspect kept)."""

    width: int
    height: int
    size: int

    @property
    def scale(self) -> float:
        return self.size / max(self.width, self.height)

    @property
    def padding(self) -> tuple[float, float]:
        """(left, top) padding in tensor pixels."""
        return (self.size - self.width * self.scale) / 2, (self.size - self.height * self.scale) / 2

    def matrix(self) -> np.ndarray:
        """2×3 affine map from image pixels to tensor pixels."""
        s = self.scale
        px, py = self.padding
        return np.array([[s, 0, px], [0, s, py]], np.float64)

    def to_image(self, points_norm: np.ndarray) -> np.ndarray:
        """Points normalised to the tensor (0..1) → image pixels."""
        px, py = self.padding
        p = np.asarray(points_norm, np.float64) * self.size
        return np.stack([(p[..., 0] - px) / self.scale, (p[..., 1] - py) / self.scale], axis=-1)


@dataclass(frozen=True)
class Roi:
    """A square, rotated region of interest in image pixels."""

    cx: float
    cy: float
    size: float
    angle: float  # radians, clockwise on screen

    def crop_to_image(self, n: int) -> np.ndarray:
        """2×3 affine map from crop pixels (n×n) to image pixels."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        k = self.size / n
        # p = center + R · (k·u − size/2, k·v − size/2)
        return np.array(
            [
                [c * k, -s * k, self.cx - c * self.size / 2 + s * self.size / 2],
                [s * k, c * k, self.cy - s * self.size / 2 - c * self.size / 2],
            ],
            np.float64,
        )

    def project(self, points_crop_norm: np.ndarray) -> np.ndarray:
        """Points normalised to the crop (0..1) → image pixels."""
        p = np.asarray(points_crop_norm, np.float64) - 0.5
        c, s = math.cos(self.angle), math.sin(self.angle)
        x = (c * p[..., 0] - s * p[..., 1]) * self.size + self.cx
        y = (s * p[..., 0] + c * p[..., 1]) * self.size + self.cy
        return np.stack([x, y], axis=-1)

    def unproject(self, points_px: np.ndarray) -> np.ndarray:
        """Image pixels → points normalised to the crop (the inverse of ``project``)."""
        p = np.asarray(points_px, np.float64)
        dx, dy = p[..., 0] - self.cx, p[..., 1] - self.cy
        c, s = math.cos(self.angle), math.sin(self.angle)
        u = (c * dx + s * dy) / self.size + 0.5
        v = (-s * dx + c * dy) / self.size + 0.5
        return np.stack([u, v], axis=-1)


def normalize_radians(a: float) -> float:
    """Angle wrapped into [-pi, pi)."""
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def roi_from_alignment_points(center_px, scale_px, scale: float = ROI_SCALE) -> Roi:
    """The body ROI from two alignment points in pixels: the hip centre and a point whose distance
    gives the body's radius and whose direction gives its up axis (upright body → angle 0)."""
    x0, y0 = float(center_px[0]), float(center_px[1])
    x1, y1 = float(scale_px[0]), float(scale_px[1])
    radius = math.hypot(x1 - x0, y1 - y0)
    angle = normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    return Roi(x0, y0, 2 * radius * scale, angle)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def refine_from_heatmap(xy_norm: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Landmark positions (crop-normalised, [K, 2]) refined by the heatmap ([H, W, ≥K] logits).

    Each landmark moves to the confidence-weighted mean of the heatmap cells in a 7×7 window around
    it (cells outside the heatmap count as zero), when the window's peak confidence is at least 0.5;
    others keep the regressed position. All landmarks are gathered in one vectorised step.
    """
    hh, hw, _ = heatmap.shape
    k = len(xy_norm)
    off = (HEATMAP_KERNEL - 1) // 2
    cols = (xy_norm[:, 0] * hw).astype(np.int64)
    rows = (xy_norm[:, 1] * hh).astype(np.int64)
    inside = (cols >= 0) & (cols < hw) & (rows >= 0) & (rows < hh)
    span = np.arange(-off, off + 1)
    rr = rows[:, None] + span  # [K, 7]
    cc = cols[:, None] + span
    valid = ((rr >= 0) & (rr < hh))[:, :, None] & ((cc >= 0) & (cc < hw))[:, None, :]
    window = heatmap[np.clip(rr, 0, hh - 1)[:, :, None], np.clip(cc, 0, hw - 1)[:, None, :], np.arange(k)[:, None, None]]
    conf = np.where(valid, sigmoid(window.astype(np.float64)), 0.0)
    total = conf.sum(axis=(1, 2))
    refine = inside & (total > 0) & (conf.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE)
    safe = np.where(total > 0, total, 1.0)
    x = (conf * cc[:, None, :]).sum(axis=(1, 2)) / hw / safe
    y = (conf * rr[:, :, None]).sum(axis=(1, 2)) / hh / safe
    out = xy_norm.astype(np.float64).copy()
    out[refine, 0] = x[refine]
    out[refine, 1] = y[refine]
    return out
