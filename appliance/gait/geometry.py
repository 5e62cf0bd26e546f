"""Plane geometry of a side view: leg points of a pose, angles in the runner's frame.

Image coordinates are pixels, x to the right and y down. ``sign`` is +1 when the runner faces right
and -1 when facing left, so ``sign * dx`` is a forward distance whichever way the runner faces.
"""

from __future__ import annotations

import math

import numpy as np

from appliance.landmarks import LEG_LANDMARKS, L

HIP, KNEE, ANKLE, HEEL, TOE = range(5)
LEG_INDEX = {side: np.array([int(i) for i in idx]) for side, idx in LEG_LANDMARKS.items()}
SHOULDERS = np.array([int(L.LEFT_SHOULDER), int(L.RIGHT_SHOULDER)])
HIPS = np.array([int(L.LEFT_HIP), int(L.RIGHT_HIP)])


def leg_points(landmarks: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """[5, 2] pixel points (hip, knee, ankle, heel, toe) and [5] visibilities of one labelled leg."""
    rows = landmarks[LEG_INDEX[side]]
    return rows[:, :2].astype(np.float64), rows[:, 3].astype(np.float64)


def leg_length_px(points: np.ndarray) -> float:
    """Thigh plus shank length in pixels: the appliance's unit of "leg length"."""
    return float(np.hypot(*(points[KNEE] - points[HIP])) + np.hypot(*(points[ANKLE] - points[KNEE])))


def foot_angle_image_deg(heel: np.ndarray, toe: np.ndarray, sign: float) -> float:
    """Heel-to-toe line's angle to the image horizontal, toe up positive, in the runner's frame."""
    dx = sign * (toe[..., 0] - heel[..., 0])
    dy = heel[..., 1] - toe[..., 1]  # image y points down: toe above heel gives dy > 0
    return np.degrees(np.arctan2(dy, dx))


def shank_angle_deg(knee: np.ndarray, ankle: np.ndarray, sign: float, roll_rad: float) -> float:
    """Shank (knee to ankle) to the belt's normal, positive when the ankle is ahead of the knee."""
    fwd, up = belt_components(ankle - knee, sign, roll_rad)
    return math.degrees(math.atan2(fwd, -up))


def knee_flexion_deg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> float:
    """180 deg minus the hip-knee-ankle angle: 0 for a straight leg."""
    a, b = knee - hip, ankle - knee
    na, nb = float(np.hypot(*a)), float(np.hypot(*b))
    if na == 0 or nb == 0:
        return float("nan")
    return math.degrees(math.acos(max(-1.0, min(1.0, float(a @ b) / (na * nb)))))


def belt_components(vec: np.ndarray, sign: float, roll_rad: float) -> tuple[float, float]:
    """A pixel vector split into (forward along the belt, up from the belt), in pixels.

    ``roll_rad`` is the belt line's angle in the image (atan of its slope dy/dx).
    """
    c, s = math.cos(roll_rad), math.sin(roll_rad)
    along = vec[0] * c + vec[1] * s  # along the belt, image-rightwards
    up = vec[0] * s - vec[1] * c  # perpendicular, towards the top of the image
    return sign * along, up
