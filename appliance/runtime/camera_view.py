"""The set-up page's camera snapshot: the newest frame with the skeleton and belt line, and plain advice.

Advice is what a technician can act on while mounting the camera: nobody seen, feet cut off, the
runner too small in the image, the camera tilted (the belt line is not level), and, once a runner
has run a few steps, feet seen too unsteadily for the foot strike to be measured.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from appliance.landmarks import L
from appliance.runtime.controller import CameraSnapshot
from appliance.types import UNSTEADY_FOOT_SPREAD_DEG, Pose

FEET = (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX)
MIN_BODY_SHARE = 0.45  # nose-to-feet height as a share of the image height
MAX_TILT_DEG = 3.0
EDGE_SHARE = 0.02  # landmarks this close to the bottom edge count as cut off


def framing_advice(pose: Pose | None, image_size: tuple[int, int], belt_slope: float | None,
                   foot_spread_deg: float | None = None) -> list[str]:
    """Plain-language framing problems of one frame's pose (empty when the framing is good).

    ``foot_spread_deg`` is the gait tracker's spread of the mid-stance foot angle over the recent
    steps (``Step.strike_spread_deg``), None or NaN before a runner has run a few steps."""
    w, h = image_size
    if pose is None:
        return ["Nobody is seen: stand side-on in the middle of the belt with the whole body in view."]
    lm = pose.landmarks
    advice = []
    feet_y = lm[list(FEET), 1]
    feet_vis = lm[list(FEET), 3]
    if (feet_vis < 0.5).sum() >= 3 or np.nanmax(feet_y) > h * (1 - EDGE_SHARE):
        advice.append("The feet are cut off or hidden: tilt the camera down or move it back so the belt is in view.")
    if lm[L.NOSE, 1] < h * EDGE_SHARE:
        advice.append("The head is cut off: move the camera back or lower the zoom.")
    body = float(np.nanmax(feet_y) - lm[L.NOSE, 1])
    if body < MIN_BODY_SHARE * h:
        advice.append(
            f"The runner is small in the image ({100 * body / h:.0f} % of its height): move the camera closer."
        )
    if belt_slope is not None:
        tilt = math.degrees(math.atan(belt_slope))
        if abs(tilt) > MAX_TILT_DEG:
            advice.append(f"The camera is tilted by {abs(tilt):.1f} degrees: level it so the belt looks horizontal.")
    if foot_spread_deg is not None and foot_spread_deg >= UNSTEADY_FOOT_SPREAD_DEG:
        advice.append(
            f"The feet are seen unsteadily (their angle on the belt in mid-stance varies by {foot_spread_deg:.0f} degrees "
            "from step to step), so the foot strike cannot be measured and is not cued: bring the camera closer "
            "to the feet, light them better, or raise the camera resolution."
        )
    return advice


def render_snapshot(image: np.ndarray | None, pose: Pose | None, image_size: tuple[int, int],
                    belt: tuple[float, float] | None, t: float | None, simulated: bool,
                    foot_spread_deg: float | None = None) -> CameraSnapshot:
    """JPEG of ``image`` (a dark canvas for the simulated runner) with the pose and belt line drawn.

    ``belt`` is ``(slope, intercept_px)``: y = intercept + slope * x; ``foot_spread_deg`` as in
    ``framing_advice``."""
    import cv2

    from appliance.pose.draw import draw_pose

    w, h = image_size
    if image is None:
        image = np.full((h, w, 3), 32, np.uint8)
    drawn = draw_pose(image, pose.landmarks if pose is not None else None, belt)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("JPEG encoding of the camera snapshot failed")
    advice = framing_advice(pose, image_size, belt[0] if belt is not None else None, foot_spread_deg)
    return CameraSnapshot(
        jpeg_base64=base64.b64encode(jpeg.tobytes()).decode(), width=w, height=h, t=t, advice=advice, simulated=simulated
    )
