"""The pose model files: where they live, how they are verified, and how they are fetched.

The detector and BlazePose GHUM *full* come out of the ``mediapipe==0.10.14`` wheel on PyPI. The
wheel is downloaded (any platform tag: the model files are the same in all), never installed; the
two files are extracted and checked against pinned SHA-256 sums before they are stored. These two
are required: the appliance does not start without them.

BlazePose GHUM *heavy* (the larger landmark model the gait stage runs once per foot contact) is not
in the wheel: it comes out of the npm package ``@mediapipe/pose@0.5.1675469404`` (Apache-2.0), whose
registry tarball is read in memory, never unpacked to disk; the one file is checked against its
pinned SHA-256 before it is stored. Heavy is optional (installs from before it still start):
``verify_model_dir`` does not ask for it, whoever needs it calls ``verify_heavy``. The same tarball's
``pose_landmark_full.tflite`` is byte-identical to the wheel's.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ApplianceError

MEDIAPIPE_VERSION = "0.10.14"
DEFAULT_INDEX_URL = "https://pypi.org/simple"
NPM_PACKAGE = "@mediapipe/pose"
NPM_VERSION = "0.5.1675469404"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class ModelFile:
    """A model file: its name in the model dir, its path inside the archive it ships in, its sum."""

    name: str
    path_in_archive: str
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
MODEL_FILES = (DETECTOR, LANDMARKER_FULL)  # from the wheel; required
LANDMARKER_HEAVY = ModelFile(
    "pose_landmark_heavy.tflite",
    "package/pose_landmark_heavy.tflite",
    "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
)  # from the npm tarball; optional


class ModelError(ApplianceError):
    """The model is missing or damaged; ``fix`` (or the message) names the command that fixes it."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fix(model_dir: Path) -> str:
    return f"run `appliance fetch-model --model-dir {model_dir}`"


def _verified_path(model_dir: Path, mf: ModelFile) -> Path:
    """Path of ``mf`` in ``model_dir`` once its sum is checked, or ModelError naming the fix."""
    p = model_dir / mf.name
    if not p.is_file():
        raise ModelError(f"pose model file {p} is missing", _fix(model_dir))
    digest = sha256_of(p.read_bytes())
    if digest != mf.sha256:
        raise ModelError(f"pose model file {p} is corrupt (sha256 {digest[:12]}…, expected {mf.sha256[:12]}…)", _fix(model_dir))
    return p


def verify_model_dir(model_dir: Path) -> dict[str, Path]:
    """Paths of the verified required model files, or ModelError saying what is wrong and how to fix it."""
    return {mf.name: _verified_path(model_dir, mf) for mf in MODEL_FILES}


def verify_heavy(model_dir: Path) -> Path:
    """Path of the verified heavy landmark model, or ModelError saying what is wrong and how to fix it.

    Heavy is optional: an install from before it runs without it, and only the code that wants it asks.
    """
    return _verified_path(Path(model_dir), LANDMARKER_HEAVY)


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
                data = zf.read(mf.path_in_archive)
            except KeyError as e:
                raise ModelError(f"the wheel has no {mf.path_in_archive}") from e
            if sha256_of(data) != mf.sha256:
                raise ModelError(f"{mf.path_in_archive} in the wheel does not match the pinned sha256")
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


def npm_tarball_url(registry_url: str = DEFAULT_NPM_REGISTRY) -> str:
    """Where a registry serves the pinned ``@mediapipe/pose`` tarball (the npm layout, scope kept)."""
    base_name = NPM_PACKAGE.split("/")[1]
    return f"{registry_url.rstrip('/')}/{NPM_PACKAGE}/-/{base_name}-{NPM_VERSION}.tgz"


def extract_heavy(tarball_bytes: bytes, model_dir: Path) -> Path:
    """Read the heavy model out of an ``@mediapipe/pose`` tarball (in memory), verify it, store it.

    Nothing is written unless the file matches the pinned sha256; the write is atomic.
    """
    from appliance.config import atomic_write_bytes

    model_dir = Path(model_dir)
    where = f"{NPM_PACKAGE}@{NPM_VERSION}"
    again = (
        f"{_fix(model_dir)} again, or pass --npm-tarball a copy of {npm_tarball_url()} "
        f"(sha256 of {LANDMARKER_HEAVY.path_in_archive}: {LANDMARKER_HEAVY.sha256})"
    )
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball_bytes), mode="r:gz") as tf:
            try:
                member = tf.getmember(LANDMARKER_HEAVY.path_in_archive)
            except KeyError as e:
                raise ModelError(f"the {where} tarball has no {LANDMARKER_HEAVY.path_in_archive}; {again}") from e
            reader = tf.extractfile(member)
            if reader is None:
                raise ModelError(f"{LANDMARKER_HEAVY.path_in_archive} in the {where} tarball is not a file; {again}")
            data = reader.read()
    except (tarfile.TarError, OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ModelError(f"the {where} tarball cannot be read ({e}); {again}") from e
    digest = sha256_of(data)
    if digest != LANDMARKER_HEAVY.sha256:
        raise ModelError(
            f"{LANDMARKER_HEAVY.path_in_archive} in the {where} tarball does not match the pinned sha256 "
            f"(got {digest[:12]}…, expected {LANDMARKER_HEAVY.sha256[:12]}…): nothing stored; {again}"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(model_dir / LANDMARKER_HEAVY.name, data)
    return verify_heavy(model_dir)


def fetch_heavy(model_dir: Path, registry_url: str | None = None, tarball: Path | None = None) -> Path:
    """Make ``model_dir`` hold the verified heavy model, downloading the npm tarball only when needed.

    ``registry_url`` (else ``$APPLIANCE_NPM_REGISTRY``, else registry.npmjs.org) serves the tarball;
    ``tarball`` is a copy already on disk (no network).
    """
    model_dir = Path(model_dir)
    try:
        return verify_heavy(model_dir)
    except ModelError:
        pass
    if tarball is not None:
        return extract_heavy(Path(tarball).read_bytes(), model_dir)
    registry_url = registry_url or os.environ.get("APPLIANCE_NPM_REGISTRY") or DEFAULT_NPM_REGISTRY
    url = npm_tarball_url(registry_url)
    try:
        data = _http_get(url, timeout=600)
    except (OSError, http.client.HTTPException) as e:  # urllib's URLError and HTTPError are OSErrors
        reason = getattr(e, "reason", None) or e
        raise ModelError(
            f"cannot download the heavy pose model from {url} ({reason}); check the network, then "
            f"{_fix(model_dir)} again (or pass --npm-tarball a copy of that file)"
        ) from e
    return extract_heavy(data, model_dir)
