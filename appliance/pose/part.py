"""The pose part for camera frames: BlazePose on the TFLite runtime, from the ``pose`` settings section.

``open`` gives the pose provider the control loop calls on every frame (``PoseEngine``); ``check``
verifies the model files, loads every model, runs each once, then runs the whole engine on a black
frame (``appliance selftest``). The simulated runner's frames carry their pose and need none of this
(``appliance.hardware.simulated.PassThroughPose``).

>>> pose = TflitePose(settings.pose, settings.camera)
>>> engine = pose.open()              # ModelError with the fetch command when the files are not there
>>> pose.check(CheckOptions()).status
'PASS'
"""

from __future__ import annotations

import time

from appliance.checks import CheckOptions, CheckResult

REFETCH_FIX = "run `appliance fetch-model` again"


class TflitePose:
    """BlazePose GHUM full (detector + landmarks) on the installed TFLite runtime."""

    name = "model"

    def __init__(self, settings, camera=None) -> None:
        """``settings``: ``Settings.pose``; ``camera``: ``Settings.camera`` (the check's frame size)."""
        self.settings = settings
        self.camera = camera

    def open(self, threads: int | None = None):
        """A ``PoseEngine`` on ``threads`` CPU threads (default ``pose.threads``; the rear camera
        takes one spare core). Raises ModelError (missing or damaged files, with the fix)."""
        from appliance.pose.engine import PoseEngine

        settings = self.settings if threads is None else self.settings.model_copy(update={"threads": threads})
        return PoseEngine.from_settings(settings)

    def check(self, options: CheckOptions) -> CheckResult:
        """Verify the model files, load every model with the TFLite runtime and run each once, then the
        whole engine on a black frame. The heavy landmark model (per-contact foot angle) is optional:
        missing or damaged, the check still passes and its detail says so, with the fetch command."""
        import numpy as np

        from appliance.pose.model_files import LANDMARKER_HEAVY, ModelError, verify_heavy, verify_model_dir
        from appliance.pose.runtime import RuntimeMissing, load_interpreter, runtime_name

        s = self.settings
        try:
            paths = verify_model_dir(s.model_dir)
        except ModelError as e:
            return CheckResult.failed(self.name, e, fix=f"run `appliance fetch-model --model-dir {s.model_dir}`")
        heavy_note = ""
        try:
            paths[LANDMARKER_HEAVY.name] = verify_heavy(s.model_dir)
        except ModelError as e:
            heavy_note = f"; warning: optional heavy model not usable (no foot angle per contact): {e}"
        timings = []
        try:
            for name, path in paths.items():
                t0 = time.perf_counter()
                interpreter = load_interpreter(path, s.threads)
                load_ms = (time.perf_counter() - t0) * 1000
                for detail in interpreter.get_input_details():
                    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
                t0 = time.perf_counter()
                interpreter.invoke()
                run_ms = (time.perf_counter() - t0) * 1000
                outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
                if not outputs or not all(np.all(np.isfinite(o)) for o in outputs):
                    return CheckResult(self.name, "FAIL", f"{name} produced non-finite output", REFETCH_FIX)
                timings.append(f"{name.removesuffix('.tflite')} load {load_ms:.0f} ms, inference {run_ms:.1f} ms")
        except RuntimeMissing as e:
            return CheckResult.failed(self.name, e)
        # The whole engine as `appliance run` builds it: also needs OpenCV (Debian's, through the venv).
        try:
            engine = self.open()
        except ImportError as e:
            return CheckResult(self.name, "FAIL", f"the pose engine cannot start: {e}", "sudo apt install python3-opencv")
        from appliance.types import Frame

        width, height = (self.camera.width, self.camera.height) if self.camera is not None else (640, 480)
        pose = engine.process(Frame(0.0, 0, np.zeros((height, width, 3), dtype=np.uint8)))
        if pose is not None:
            return CheckResult(self.name, "FAIL", "the pose engine found a person in a black frame", REFETCH_FIX)
        timings.append(f"engine on a black {width}x{height} frame {engine.total_ms:.1f} ms, nobody found")
        return CheckResult(self.name, "PASS", f"{runtime_name()}, {s.threads} threads: " + "; ".join(timings) + heavy_note)
