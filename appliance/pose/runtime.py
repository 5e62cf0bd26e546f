"""The LiteRT shim: one function that loads a TFLite model with whichever runtime is installed.

Order: ``ai_edge_litert`` (LiteRT, the maintained runtime), ``tflite_runtime`` (older Pi images),
``tensorflow.lite`` (a full TensorFlow install). All three apply the XNNPACK CPU delegate by default.
"""

from __future__ import annotations

from pathlib import Path

from appliance.errors import ApplianceError


class RuntimeMissing(ApplianceError, ImportError):
    """No TFLite runtime is installed (an ``ImportError`` too, for code that expects one)."""


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite_runtime"
    except ImportError:
        pass
    try:
        from tensorflow.lite import Interpreter  # type: ignore[import-not-found]

        return Interpreter, "tensorflow.lite"
    except ImportError:
        pass
    raise RuntimeMissing("no TFLite runtime found",
                         "install ai-edge-litert (pip install ai-edge-litert) or tflite-runtime")


def runtime_name() -> str:
    """Which TFLite runtime would be used."""
    return _interpreter_class()[1]


def load_interpreter(model_path: Path, threads: int):
    """An allocated interpreter for ``model_path`` running on ``threads`` CPU threads (XNNPACK)."""
    interpreter_class, _ = _interpreter_class()
    interpreter = interpreter_class(model_path=str(model_path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter
