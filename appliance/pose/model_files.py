"""The pose model files: where they live, how they are verified, and how they are fetched.

The two BlazePose GHUM files come out of the ``mediapipe==0.10.14`` wheel on PyPI. The wheel is
downloaded (any platform tag: the model files are the same in all), never installed; the two files
are extracted and checked against pinned SHA-256 sums before they are stored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.14"
DEFAULT_INDEX_URL = "https://pypi.org/simple"


@dataclass(frozen=True)
class ModelFile:
    name: str
    path_in_wheel: str
    sha256: str


DETECTOR = ModelFile(
    "pose_detection.tflite",
    "mediapipe/modules/pose_detection/pose_detection.tflite",
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
)
LANDMARKER_FULL = ModelFile(
    "pose_landmark_full.tflite",
    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
)
MODEL_FILES = (DETECTOR, LANDMARKER_FULL)


class ModelError(Exception):
    """The model is missing or damaged; the message names the command that fixes it."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_model_dir(model_dir: Path) -> dict[str, Path]:
    """Paths of the verified model files, or ModelError saying what is wrong and how to fix it."""
    fix = f"run `appliance fetch-model --model-dir {model_dir}`"
    paths = {}
    for mf in MODEL_FILES:
        p = model_dir / mf.name
        if not p.is_file():
            raise ModelError(f"pose model file {p} is missing; {fix}")
        digest = sha256_of(p.read_bytes())
        if digest != mf.sha256:
            raise ModelError(f"pose model file {p} is corrupt (sha256 {digest[:12]}…, expected {mf.sha256[:12]}…); {fix}")
        paths[mf.name] = p
    return paths


def _http_get(url: str, accept: str | None = None, timeout: float = 120) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def find_wheel_url(index_url: str = DEFAULT_INDEX_URL) -> tuple[str, str]:
    """(url, sha256) of the smallest mediapipe==0.10.14 wheel on a PEP 691 simple index."""
    body = _http_get(f"{index_url.rstrip('/')}/mediapipe/", accept="application/vnd.pypi.simple.v1+json")
    files = json.loads(body)["files"]
    wheels = [f for f in files if f["filename"].startswith(f"mediapipe-{MEDIAPIPE_VERSION}-") and f["filename"].endswith(".whl")]
    if not wheels:
        raise ModelError(f"no mediapipe {MEDIAPIPE_VERSION} wheel found on {index_url}")
    best = min(wheels, key=lambda f: f.get("size") or 1 << 40)
    return best["url"], best["hashes"].get("sha256", "")


def extract_models(wheel_bytes: bytes, model_dir: Path) -> dict[str, Path]:
    """Extract and verify the two model files from a mediapipe wheel into ``model_dir``."""
    from appliance.config import atomic_write_bytes

    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
        blobs = {}
        for mf in MODEL_FILES:
            try:
                data = zf.read(mf.path_in_wheel)
            except KeyError as e:
                raise ModelError(f"the wheel has no {mf.path_in_wheel}") from e
            if sha256_of(data) != mf.sha256:
                raise ModelError(f"{mf.path_in_wheel} in the wheel does not match the pinned sha256")
            blobs[mf.name] = data
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        atomic_write_bytes(model_dir / name, data)
    return verify_model_dir(model_dir)


def fetch_models(model_dir: Path, index_url: str | None = None, wheel: Path | None = None) -> dict[str, Path]:
    """Make ``model_dir`` hold verified model files, downloading the wheel only when needed."""
    try:
        return verify_model_dir(model_dir)
    except ModelError:
        pass
    if wheel is not None:
        return extract_models(wheel.read_bytes(), model_dir)
    index_url = index_url or os.environ.get("APPLIANCE_INDEX_URL") or DEFAULT_INDEX_URL
    url, wheel_sha = find_wheel_url(index_url)
    data = _http_get(url, timeout=600)
    if wheel_sha and sha256_of(data) != wheel_sha:
        raise ModelError(f"downloaded wheel {url} does not match the index's sha256; try again")
    return extract_models(data, model_dir)
