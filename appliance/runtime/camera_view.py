"""The set-up page's camera snapshots: the newest frame with the skeleton and belt line, and plain advice.

Advice is what a technician can act on while mounting the camera: nobody seen, feet cut off, the
runner too small in the image, the camera tilted (the belt line is not level), and, once a runner
has run a few steps, feet seen too unsteadily for the foot strike to be measured.

The rear camera's snapshot (``render_rear_snapshot``) draws the hips, knees, ankles and the hip
line with the image's centre line and middle third as guides, and gives the frontal framing advice
of ``appliance.frontal.framing``.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from appliance.landmarks import L
from appliance.runtime.controller import CameraSnapshot, RearCameraSnapshot
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


NO_REAR_CAMERA = ("No rear camera. To add one for the frontal plane (pelvic drop, hip adduction, knee angle), mount it "
                  "behind the treadmill at hip height on the belt's centre line (hardware/mounting.md, \"Second camera\"), "
                  "set \"Rear camera\" in Settings (rear_camera.source: picamera:1, webcam:N, or sim for the simulated "
                  "runner) and restart the appliance.")
LEFT_COLOUR = (255, 140, 0)  # the runner's left leg: orange, as the side camera's skeleton
RIGHT_COLOUR = (0, 170, 255)  # the runner's right leg: blue
GUIDE_COLOUR = (90, 90, 90)
HIP_LINE_COLOUR = (255, 230, 0)


def draw_frontal(image: np.ndarray, landmarks: np.ndarray | None, labels: dict[str, str] | None) -> np.ndarray:
    """A copy of the RGB ``image`` with the guides (the vertical centre line, the middle third's
    bounds), and each leg's hip, knee and ankle joined, by the runner's side (``labels``: the
    runner's side -> the pose model's label, as ``FrontalFrame.labels``; None: the model's own),
    and the hip line between the hips."""
    import cv2

    from appliance.landmarks import LEG_LANDMARKS, VISIBILITY

    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(1, round(min(w, h) / 240))
    cv2.line(out, (w // 2, 0), (w // 2, h - 1), GUIDE_COLOUR, 1, cv2.LINE_AA)
    for y in (h // 3, 2 * h // 3):
        cv2.line(out, (0, y), (w - 1, y), GUIDE_COLOUR, 1, cv2.LINE_AA)
    if landmarks is None:
        return out
    lm = np.asarray(landmarks, np.float64)
    vis = lm[:, VISIBILITY] if lm.shape[1] > VISIBILITY else np.ones(len(lm))

    def point(i: int) -> tuple[int, int] | None:
        if not np.isfinite(lm[i, :2]).all() or vis[i] < 0.3:
            return None
        return int(round(lm[i, 0])), int(round(lm[i, 1]))

    labels = labels or {"left": "left", "right": "right"}
    hips = []
    for side, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
        hip, knee, ankle = (point(i) for i in LEG_LANDMARKS[labels[side]][:3])
        hips.append(hip)
        for a, b in ((hip, knee), (knee, ankle)):
            if a is not None and b is not None:
                cv2.line(out, a, b, colour, thick + 1, cv2.LINE_AA)
        for p in (hip, knee, ankle):
            if p is not None:
                cv2.circle(out, p, thick + 2, colour, -1, cv2.LINE_AA)
    if hips[0] is not None and hips[1] is not None:
        cv2.line(out, hips[0], hips[1], HIP_LINE_COLOUR, thick + 1, cv2.LINE_AA)
        mid = ((hips[0][0] + hips[1][0]) // 2, (hips[0][1] + hips[1][1]) // 2)
        cv2.drawMarker(out, mid, HIP_LINE_COLOUR, cv2.MARKER_CROSS, 6 * thick + 6, thick)
    return out


def render_rear_snapshot(rear) -> RearCameraSnapshot:
    """The set-up page's view of the rear camera (an ``appliance.frontal.rear_camera.RearCamera``;
    None: none configured): its newest frame (a dark canvas for the simulated view) drawn by
    ``draw_frontal``, and the framing advice of its last second's typical landmarks against the view
    it is set to."""
    import cv2

    from appliance.frontal.framing import check_framing, typical_landmarks

    if rear is None:
        return RearCameraSnapshot(available=False, message=NO_REAR_CAMERA)
    source = getattr(rear, "source_name", "")
    latest = rear.latest()
    if latest is None:
        stopped = getattr(rear, "error", None)
        message = (f"The rear camera stopped: {stopped}. See the health page; restart the appliance once it is fixed."
                   if stopped is not None else "No image from the rear camera yet: it is starting or delivers no frames.")
        return RearCameraSnapshot(available=False, message=message, view=rear.view, source=source)
    w, h = latest.image_size
    image = latest.image if latest.image is not None else np.full((h, w, 3), 32, np.uint8)
    labels = latest.angles.labels if latest.angles is not None else None
    drawn = draw_frontal(image, latest.landmarks, labels)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("JPEG encoding of the rear camera snapshot failed")
    check = check_framing(typical_landmarks(rear.recent_landmarks()), (w, h), rear.view)
    return RearCameraSnapshot(
        available=True, jpeg_base64=base64.b64encode(jpeg.tobytes()).decode(), width=w, height=h, t=latest.t,
        view=rear.view, seen_from=check.seen_from, advice=check.advice, notes=check.notes,
        simulated=latest.image is None, source=source,
    )
