"""Drawing a pose on a frame: the skeleton, the feet and optionally the belt line.

Used by ``appliance analyze`` (contact sheet) and by the panel's set-up snapshot.
"""

from __future__ import annotations

import numpy as np

from appliance.landmarks import SKELETON_EDGES, L

NEAR_COLOUR = (255, 140, 0)  # left side of the body: orange
FAR_COLOUR = (0, 170, 255)  # right side: blue
MID_COLOUR = (240, 240, 240)
_LEFT = {i for i in L if i.name.startswith("LEFT_")}
_RIGHT = {i for i in L if i.name.startswith("RIGHT_")}


def _side_colour(a: int, b: int) -> tuple[int, int, int]:
    if a in _LEFT and b in _LEFT:
        return NEAR_COLOUR
    if a in _RIGHT and b in _RIGHT:
        return FAR_COLOUR
    return MID_COLOUR


def draw_pose(
    image: np.ndarray,
    landmarks: np.ndarray | None,
    belt_line: tuple[float, float] | None = None,
    min_visibility: float = 0.3,
) -> np.ndarray:
    """A copy of the RGB ``image`` with the skeleton of ``landmarks`` ([33, ≥2] pixels, column 3 the
    visibility when present) and the belt line ``y = a·x + b`` drawn on it."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(1, round(min(w, h) / 240))
    if belt_line is not None:
        a, b = belt_line
        cv2.line(out, (0, round(b)), (w - 1, round(a * (w - 1) + b)), (60, 220, 60), thick, cv2.LINE_AA)
    if landmarks is None or np.isnan(landmarks[:, 0]).all():
        return out
    vis = landmarks[:, 3] if landmarks.shape[1] > 3 else np.ones(len(landmarks))
    pts = landmarks[:, :2]
    for a, b in SKELETON_EDGES:
        if vis[a] < min_visibility or vis[b] < min_visibility or np.isnan(pts[[a, b]]).any():
            continue
        pa = tuple(int(round(v)) for v in pts[a])
        pb = tuple(int(round(v)) for v in pts[b])
        cv2.line(out, pa, pb, _side_colour(a, b), thick + 1, cv2.LINE_AA)
    for i in (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, L.LEFT_ANKLE, L.RIGHT_ANKLE):
        if not np.isnan(pts[i]).any():
            colour = NEAR_COLOUR if i in _LEFT else FAR_COLOUR
            cv2.circle(out, tuple(int(round(v)) for v in pts[i]), thick + 2, colour, -1, cv2.LINE_AA)
    return out


def contact_sheet(tiles: list[np.ndarray], labels: list[str], columns: int = 4, tile_width: int = 320) -> np.ndarray:
    """Frames (RGB) tiled into one image, each labelled in its corner."""
    import cv2

    if not tiles:
        raise ValueError("no frames for a contact sheet")
    h0, w0 = tiles[0].shape[:2]
    tile_h = round(tile_width * h0 / w0)
    rows = (len(tiles) + columns - 1) // columns
    sheet = np.zeros((rows * tile_h, columns * tile_width, 3), np.uint8)
    for k, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        r, c = divmod(k, columns)
        small = cv2.resize(tile, (tile_width, tile_h), interpolation=cv2.INTER_AREA)
        cv2.putText(small, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(small, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        sheet[r * tile_h:(r + 1) * tile_h, c * tile_width:(c + 1) * tile_width] = small
    return sheet
