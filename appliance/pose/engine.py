"""BlazePose GHUM full on the raw TFLite models, frame by frame, with tracking.

Per frame: if there is no tracked region, the detector finds the person on the letterboxed frame
and its keypoints give a rotated region of interest (ROI); the landmark model runs on that crop
(256×256), its 39 landmarks are refined by the heatmap and projected back to image pixels. The
next frame's ROI comes from this frame's two auxiliary landmarks, so the detector runs only at
start and after the pose flag drops below ``min_presence``.

The landmark step (crop, invoke, heatmap refinement, projection) lives in ``LandmarkModel`` so the
heavy model (``appliance.pose.heavy``) runs exactly the same steps on a region the engine used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from appliance.pose import geometry as g
from appliance.pose.filter import LandmarkFilter, OneEuroFilter
from appliance.pose.model_files import DETECTOR, LANDMARKER_FULL, verify_model_dir
from appliance.pose.runtime import load_interpreter
from appliance.types import Frame, Pose

STAGES = ("detect", "preprocess", "invoke", "postprocess", "filter")


@dataclass
class StageTimes:
    """Wall time per stage of the last frame, in milliseconds (0 for stages that did not run)."""

    ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))


def _warp_affine():
    import cv2  # lazy: python3-opencv on the Pi, opencv-python-headless elsewhere

    return cv2


def landmark_input(cv2, image: np.ndarray, roi: g.Roi) -> np.ndarray:
    """The landmark model's input for ``roi`` of ``image``: the rotated square crop resampled to
    256×256 (edges replicated), as float32 in 0..1, [256, 256, 3]."""
    n = g.LANDMARK_INPUT
    crop = cv2.warpAffine(
        image, roi.crop_to_image(n), (n, n),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
    )
    inp = crop.astype(np.float32)
    inp *= 1.0 / 255.0
    return inp


def landmarks_from_outputs(raw: np.ndarray, heatmap: np.ndarray, roi: g.Roi) -> tuple[np.ndarray, np.ndarray]:
    """The landmark model's raw outputs for a crop of ``roi``, back in image pixels.

    ``raw`` is the [39, 5] regression (crop pixels, logits), ``heatmap`` the [64, 64, 39] logits.
    Returns the 33 landmarks as float32 [33, 5] like ``Pose.landmarks`` (x px, y px, z on the scale
    of x, visibility, presence) and the refined pixel positions [35, 2] of the 33 body landmarks and
    the 2 auxiliary ones (hip centre, body scale point) that place the next frame's region.
    """
    n = g.LANDMARK_INPUT
    xy = g.refine_from_heatmap(raw[:35, :2] / n, heatmap)  # 33 body + 2 auxiliary
    xy_px = roi.project(xy)
    lm = np.empty((33, 5), np.float32)
    lm[:, :2] = xy_px[:33]
    lm[:, 2] = raw[:33, 2] / n * roi.size
    lm[:, 3] = g.sigmoid(raw[:33, 3])
    lm[:, 4] = g.sigmoid(raw[:33, 4])
    return lm, xy_px


class LandmarkModel:
    """One BlazePose GHUM landmark model (full or heavy: same input and outputs) on its interpreter.

    ``set_input(image, roi)``, ``invoke()``, then ``presence()`` and ``landmarks(roi)`` read the
    result; the three steps are separate so the engine can time each of them.
    """

    def __init__(self, model_path: Path, threads: int):
        self._cv2 = _warp_affine()
        self.interpreter = load_interpreter(model_path, threads)
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._landmarks = outputs["Identity"]
        self._flag = outputs["Identity_1"]
        self._heatmap = outputs["Identity_3"]

    def set_input(self, image: np.ndarray, roi: g.Roi) -> None:
        """Crop ``roi`` out of the RGB uint8 ``image`` into the model's input tensor."""
        self.interpreter.set_tensor(self._input, landmark_input(self._cv2, image, roi)[None])

    def invoke(self) -> None:
        """Run the model on the input in place."""
        self.interpreter.invoke()

    def presence(self) -> float:
        """The pose flag of the last invoke (0..1): is there a body in the crop."""
        return float(self.interpreter.get_tensor(self._flag).reshape(-1)[0])

    def landmarks(self, roi: g.Roi) -> tuple[np.ndarray, np.ndarray]:
        """The last invoke's landmarks in image pixels (see ``landmarks_from_outputs``)."""
        raw = self.interpreter.get_tensor(self._landmarks).reshape(39, 5)
        heatmap = self.interpreter.get_tensor(self._heatmap)[0]
        return landmarks_from_outputs(raw, heatmap, roi)


class PoseEngine:
    """Tracks one runner's 33 landmarks across frames.

    >>> engine = PoseEngine(model_dir)
    >>> pose = engine.process(frame)   # Pose or None
    >>> engine.stage_ms()              # {"pose": 21.3, "pose.invoke": 15.2, ...}

    It is the appliance's pose provider for camera frames (``appliance.hardware.PoseProvider``;
    ``appliance.pose.part.TflitePose`` opens and checks it from the settings).
    """

    model_loaded = True  # a pose model runs on every frame (the Health page says so)

    def __init__(
        self,
        model_dir: Path,
        threads: int = 4,
        min_detection_score: float = 0.5,
        min_presence: float = 0.5,
        filter_min_cutoff: float | None = 40.0,
        filter_beta: float = 300.0,
    ):
        paths = verify_model_dir(Path(model_dir))
        self._cv2 = _warp_affine()
        self._detector = load_interpreter(paths[DETECTOR.name], threads)
        self._landmarker = LandmarkModel(paths[LANDMARKER_FULL.name], threads)
        self._anchors = g.ssd_anchor_centers()
        self.min_detection_score = min_detection_score
        self.min_presence = min_presence
        self._filter = LandmarkFilter(filter_min_cutoff, filter_beta) if filter_min_cutoff else None
        # The two auxiliary landmarks that place the next crop are smoothed hard (the reference
        # implementation's parameters): a steady crop gives steadier landmarks.
        self._aux_filter = OneEuroFilter(min_cutoff=0.01, beta=10.0)
        self._roi: g.Roi | None = None
        self._last_roi: g.Roi | None = None
        self.times = StageTimes()
        self.total_ms = 0.0  # the last process() call, all stages
        self.detector_runs = 0

        det_out = {d["name"]: d["index"] for d in self._detector.get_output_details()}
        self._det_in = self._detector.get_input_details()[0]["index"]
        self._det_boxes, self._det_scores = det_out["Identity"], det_out["Identity_1"]

    @classmethod
    def from_settings(cls, pose_settings) -> PoseEngine:
        """An engine configured from ``Settings.pose``."""
        s = pose_settings
        return cls(s.model_dir, s.threads, s.min_detection_score, s.min_presence, s.filter_min_cutoff, s.filter_beta)

    @property
    def tracking(self) -> bool:
        """True while the next frame will reuse the tracked ROI instead of running the detector."""
        return self._roi is not None

    @property
    def last_roi(self) -> g.Roi | None:
        """The region the landmark model was run on for the last processed frame, in that frame's
        pixels; None when that frame ran no landmark model (the detector found nobody).

        Buffered with its frame, it lets the heavy model (``appliance.pose.heavy``) look at the
        same crop later."""
        return self._last_roi

    def reset(self) -> None:
        """Forget the tracked person (the next frame runs the detector)."""
        self._roi = None
        self._aux_filter.reset()
        if self._filter:
            self._filter.reset()

    def detect(self, image: np.ndarray) -> g.Roi | None:
        """The ROI of the most confident person in ``image``, or None."""
        h, w = image.shape[:2]
        lb = g.Letterbox(w, h, g.DETECTOR_INPUT)
        tensor = self._cv2.warpAffine(
            image, lb.matrix(), (g.DETECTOR_INPUT, g.DETECTOR_INPUT),
            flags=self._cv2.INTER_LINEAR, borderMode=self._cv2.BORDER_CONSTANT, borderValue=0,
        )
        inp = tensor.astype(np.float32)
        inp *= 2.0 / 255.0
        inp -= 1.0
        # Letterbox padding must read as -1 (black), exactly like the reference's zero border.
        self._detector.set_tensor(self._det_in, inp[None])
        self._detector.invoke()
        self.detector_runs += 1
        boxes = self._detector.get_tensor(self._det_boxes)[0]
        scores = self._detector.get_tensor(self._det_scores)[0]
        dets = g.weighted_nms(g.decode_detections(boxes, scores, self._anchors, self.min_detection_score))
        if not dets:
            return None
        kps = lb.to_image(dets[0].keypoints)
        return g.roi_from_alignment_points(kps[0], kps[1])

    def process(self, frame: Frame) -> Pose | None:
        """Landmarks of the runner in ``frame`` (tracked from the last frame), or None if nobody."""
        t0 = time.perf_counter()
        try:
            return self._track(frame)
        finally:
            self.total_ms = (time.perf_counter() - t0) * 1000

    def stage_ms(self) -> dict[str, float]:
        """The last frame's times for the loop's figures: ``pose`` (all of it) and ``pose.STAGE`` for
        each stage that ran (the detector runs only when tracking is lost)."""
        return {"pose": self.total_ms} | {f"pose.{name}": ms for name, ms in self.times.ms.items() if ms > 0}

    def _track(self, frame: Frame) -> Pose | None:
        times = dict.fromkeys(STAGES, 0.0)
        image = frame.image
        self._last_roi = None
        if self._roi is None:
            t0 = time.perf_counter()
            self._roi = self.detect(image)
            times["detect"] = (time.perf_counter() - t0) * 1000
            if self._roi is None:
                self.times = StageTimes(times)
                return None
        roi = self._last_roi = self._roi

        t0 = time.perf_counter()
        self._landmarker.set_input(image, roi)
        t1 = time.perf_counter()
        self._landmarker.invoke()
        t2 = time.perf_counter()
        flag = self._landmarker.presence()
        pose = None
        if flag < self.min_presence:
            self.reset()
        else:
            lm, xy_px = self._landmarker.landmarks(roi)
            # The next frame's region comes from this frame's smoothed auxiliary landmarks.
            # Speeds are measured in body sizes: the diameter of the circle the auxiliary points span.
            body_size = 2.0 * float(np.linalg.norm(xy_px[34] - xy_px[33])) or roi.size
            aux = self._aux_filter(xy_px[33:35], frame.t, speed_scale=1.0 / body_size)
            self._roi = g.roi_from_alignment_points(aux[0], aux[1])
            t3 = time.perf_counter()
            times["postprocess"] = (t3 - t2) * 1000
            if self._filter:
                lm[:, :2] = self._filter(lm[:, :2], body_size, frame.t)
            times["filter"] = (time.perf_counter() - t3) * 1000
            pose = Pose(frame.t, frame.index, lm, flag, frame.size)
        times["preprocess"] = (t1 - t0) * 1000
        times["invoke"] = (t2 - t1) * 1000
        if pose is None:
            times["postprocess"] = (time.perf_counter() - t2) * 1000
        self.times = StageTimes(times)
        return pose
