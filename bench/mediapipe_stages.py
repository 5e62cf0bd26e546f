"""Single stages of the reference implementation (mediapipe 0.10.14), run in its own venv.

Two modes, each a small graph of mediapipe's own pose subgraphs, so that our engine can be compared
stage by stage rather than only end to end:

* ``rois CLIP --out F.npy``: the detector path alone (PoseDetectionCpu, then PoseDetectionToRoi) on
  every frame: rows of (cx px, cy px, width px, height px, rotation rad, score).
* ``crops CROPS.npy --out F.npy``: the landmark model alone (PoseLandmarkByRoiCpu, full model) on
  given 256×256 crops with the whole crop as region, so its resampling is the identity and only
  its inference differs from ours: [N, 33, 2] landmark positions in crop pixels.

    bench/.venv-reference/bin/python bench/mediapipe_stages.py rois CLIP --out rois.npy
"""

import argparse

import av
import numpy as np
from google.protobuf import text_format
from mediapipe.calculators.core import split_vector_calculator_pb2  # noqa: F401 (registers the options)
from mediapipe.framework import calculator_pb2
from mediapipe.framework.formats import rect_pb2
from mediapipe.python.solution_base import SolutionBase

DETECTOR_GRAPH = """
input_stream: "image"
output_stream: "detections"
output_stream: "roi"
node { calculator: "ImagePropertiesCalculator" input_stream: "IMAGE_CPU:image" output_stream: "SIZE:image_size" }
node { calculator: "PoseDetectionCpu" input_stream: "IMAGE:image" output_stream: "DETECTIONS:detections" }
node {
  calculator: "SplitDetectionVectorCalculator" input_stream: "detections" output_stream: "pose_detection"
  options { [mediapipe.SplitVectorCalculatorOptions.ext] { ranges { begin: 0 end: 1 } element_only: true } }
}
node {
  calculator: "PoseDetectionToRoi" input_stream: "DETECTION:pose_detection"
  input_stream: "IMAGE_SIZE:image_size" output_stream: "ROI:roi"
}
"""

LANDMARK_GRAPH = """
input_stream: "image"
input_stream: "roi"
input_side_packet: "model_complexity"
input_side_packet: "enable_segmentation"
output_stream: "landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu" input_stream: "IMAGE:image" input_stream: "ROI:roi"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  output_stream: "LANDMARKS:landmarks"
}
"""


def _graph(text: str) -> calculator_pb2.CalculatorGraphConfig:
    return text_format.Parse(text, calculator_pb2.CalculatorGraphConfig())


def rois(clip: str) -> np.ndarray:
    solution = SolutionBase(graph_config=_graph(DETECTOR_GRAPH), outputs=["detections", "roi"])
    rows = []
    for frame in av.open(clip).decode(video=0):
        image = frame.to_ndarray(format="rgb24")
        h, w = image.shape[:2]
        result = solution.process({"image": image})
        if result.roi is None:
            rows.append([np.nan] * 6)
            continue
        r = result.roi
        rows.append([r.x_center * w, r.y_center * h, r.width * w, r.height * h, r.rotation, result.detections[0].score[0]])
    return np.asarray(rows)


def landmarks_on_crops(crops: np.ndarray) -> np.ndarray:
    solution = SolutionBase(
        graph_config=_graph(LANDMARK_GRAPH),
        side_inputs={"model_complexity": 1, "enable_segmentation": False},
        outputs=["landmarks"],
    )
    whole = rect_pb2.NormalizedRect(x_center=0.5, y_center=0.5, width=1.0, height=1.0, rotation=0.0)
    out = []
    for crop in crops:
        result = solution.process({"image": np.ascontiguousarray(crop), "roi": whole})
        h, w = crop.shape[:2]
        if result.landmarks is None:
            out.append(np.full((33, 2), np.nan))
        else:
            out.append([[lm.x * w, lm.y * h] for lm in result.landmarks.landmark])
    return np.asarray(out, np.float64)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["rois", "crops"])
    ap.add_argument("source", help="a clip (rois) or an .npy of uint8 crops [N, 256, 256, 3] (crops)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = rois(args.source) if args.mode == "rois" else landmarks_on_crops(np.load(args.source))
    np.save(args.out, result)


if __name__ == "__main__":
    main()
