import io
import socket
import tarfile
import zipfile
from contextlib import redirect_stdout

import pytest

from appliance.cli import main
from appliance.pose import model_files as mf


def _fake_wheel(contents: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _fake_tarball(contents: dict[str, bytes]) -> bytes:
    """A gzipped tar like the npm registry serves, holding ``contents`` (path → bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FAKE_HEAVY = b"a stand-in for the heavy model"


@pytest.fixture
def fake_heavy_pin(monkeypatch):
    """Pin the heavy model's sum to FAKE_HEAVY's, so the fetch is tested without the 27 MB file."""
    monkeypatch.setattr(mf, "LANDMARKER_HEAVY", mf.ModelFile(mf.LANDMARKER_HEAVY.name, mf.LANDMARKER_HEAVY.path_in_archive, mf.sha256_of(FAKE_HEAVY)))
    return mf.LANDMARKER_HEAVY


@pytest.fixture
def closed_port_url():
    """A registry URL nothing listens on: the download fails like it does with no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(mf.ModelError, match="missing.*appliance fetch-model"):
        mf.verify_model_dir(tmp_path)


def test_corrupt_model_names_the_fix(tmp_path, model_dir):
    for f in mf.MODEL_FILES:
        (tmp_path / f.name).write_bytes((model_dir / f.name).read_bytes())
    damaged = tmp_path / mf.LANDMARKER_FULL.name
    data = bytearray(damaged.read_bytes())
    data[1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(mf.ModelError, match="corrupt.*appliance fetch-model"):
        mf.verify_model_dir(tmp_path)


def test_wheel_with_wrong_file_is_refused_and_nothing_stored(tmp_path):
    wheel = _fake_wheel({f.path_in_archive: b"not a model" for f in mf.MODEL_FILES})
    with pytest.raises(mf.ModelError, match="does not match the pinned sha256"):
        mf.extract_models(wheel, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_extract_from_wheel_verifies(tmp_path, model_dir):
    wheel = _fake_wheel({f.path_in_archive: (model_dir / f.name).read_bytes() for f in mf.MODEL_FILES})
    paths = mf.extract_models(wheel, tmp_path / "m")
    assert set(paths) == {f.name for f in mf.MODEL_FILES}


# --- heavy (npm tarball, optional) ---


def test_heavy_is_optional_for_the_required_files(tmp_path, model_dir):
    for f in mf.MODEL_FILES:
        (tmp_path / f.name).write_bytes((model_dir / f.name).read_bytes())
    assert set(mf.verify_model_dir(tmp_path)) == {f.name for f in mf.MODEL_FILES}  # no heavy: still fine
    with pytest.raises(mf.ModelError, match="pose_landmark_heavy.tflite is missing; fix: run `appliance fetch-model --model-dir"):
        mf.verify_heavy(tmp_path)


def test_tarball_url_is_the_pinned_npm_version():
    assert mf.npm_tarball_url() == "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
    assert mf.npm_tarball_url("http://mirror/npm/") == "http://mirror/npm/@mediapipe/pose/-/pose-0.5.1675469404.tgz"


def test_heavy_with_wrong_checksum_is_refused_and_nothing_stored(tmp_path):
    tarball = _fake_tarball({mf.LANDMARKER_HEAVY.path_in_archive: b"not the heavy model"})
    with pytest.raises(mf.ModelError, match="does not match the pinned sha256.*nothing stored.*appliance fetch-model"):
        mf.extract_heavy(tarball, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_heavy_tarball_without_the_file_or_not_a_tarball_is_refused(tmp_path):
    with pytest.raises(mf.ModelError, match="tarball has no package/pose_landmark_heavy.tflite.*appliance fetch-model"):
        mf.extract_heavy(_fake_tarball({"package/pose.js": b"//"}), tmp_path)
    with pytest.raises(mf.ModelError, match="tarball cannot be read.*appliance fetch-model"):
        mf.extract_heavy(b"<html>a proxy's error page</html>", tmp_path)
    assert not (tmp_path / mf.LANDMARKER_HEAVY.name).exists()


def test_heavy_from_a_tarball_on_disk_is_stored_and_verified(tmp_path, fake_heavy_pin):
    tgz = tmp_path / "pose-0.5.1675469404.tgz"
    tgz.write_bytes(_fake_tarball({"package/pose.js": b"//", fake_heavy_pin.path_in_archive: FAKE_HEAVY}))
    path = mf.fetch_heavy(tmp_path / "models", tarball=tgz)
    assert path == tmp_path / "models" / "pose_landmark_heavy.tflite" and path.read_bytes() == FAKE_HEAVY
    assert mf.verify_heavy(tmp_path / "models") == path


def test_heavy_already_verified_is_not_downloaded_again(tmp_path, fake_heavy_pin, monkeypatch):
    (tmp_path / fake_heavy_pin.name).write_bytes(FAKE_HEAVY)

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded although the file was verified")

    monkeypatch.setattr(mf, "_http_get", no_download)
    assert mf.fetch_heavy(tmp_path) == tmp_path / fake_heavy_pin.name


def test_heavy_download_is_read_from_the_registry(tmp_path, fake_heavy_pin, monkeypatch):
    asked = []

    def registry(url, accept=None, timeout=120):
        asked.append(url)
        return _fake_tarball({fake_heavy_pin.path_in_archive: FAKE_HEAVY})

    monkeypatch.setattr(mf, "_http_get", registry)
    monkeypatch.setenv("APPLIANCE_NPM_REGISTRY", "http://mirror.local/npm")
    assert mf.fetch_heavy(tmp_path).read_bytes() == FAKE_HEAVY
    assert asked == ["http://mirror.local/npm/@mediapipe/pose/-/pose-0.5.1675469404.tgz"]


def test_heavy_with_no_network_names_the_fix(tmp_path, closed_port_url):
    with pytest.raises(mf.ModelError, match="cannot download the heavy pose model.*check the network.*appliance fetch-model --model-dir"):
        mf.fetch_heavy(tmp_path / "models", registry_url=closed_port_url)
    assert not (tmp_path / "models" / mf.LANDMARKER_HEAVY.name).exists()


def run_fetch_model(*argv) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["fetch-model", *argv])
    return code, buf.getvalue()


def test_command_fetches_the_wheel_files_then_heavy(tmp_path, model_dir, fake_heavy_pin):
    wheel = tmp_path / "mediapipe.whl"
    wheel.write_bytes(_fake_wheel({f.path_in_archive: (model_dir / f.name).read_bytes() for f in mf.MODEL_FILES}))
    tgz = tmp_path / "pose.tgz"
    tgz.write_bytes(_fake_tarball({fake_heavy_pin.path_in_archive: FAKE_HEAVY}))
    out_dir = tmp_path / "models"
    code, out = run_fetch_model("--model-dir", str(out_dir), "--wheel", str(wheel), "--npm-tarball", str(tgz))
    assert code == 0
    assert out.splitlines() == [f"ok {out_dir / name}" for name in ("pose_detection.tflite", "pose_landmark_full.tflite", "pose_landmark_heavy.tflite")]


def test_command_keeps_the_required_files_when_heavy_fails(tmp_path, model_dir, closed_port_url, capsys):
    wheel = tmp_path / "mediapipe.whl"
    wheel.write_bytes(_fake_wheel({f.path_in_archive: (model_dir / f.name).read_bytes() for f in mf.MODEL_FILES}))
    out_dir = tmp_path / "models"
    code, out = run_fetch_model("--model-dir", str(out_dir), "--wheel", str(wheel), "--npm-registry", closed_port_url)
    assert code == 1
    assert "the required models are in place" in out
    err = capsys.readouterr().err
    assert "cannot download the heavy pose model" in err and f"appliance fetch-model --model-dir {out_dir}" in err
    assert set(mf.verify_model_dir(out_dir)) == {f.name for f in mf.MODEL_FILES}
    assert not (out_dir / mf.LANDMARKER_HEAVY.name).exists()


@pytest.mark.model
def test_the_real_heavy_model_round_trips_through_a_tarball(tmp_path, model_dir):
    try:
        heavy = mf.verify_heavy(model_dir)
    except mf.ModelError as e:
        pytest.skip(f"heavy model not fetched: {e}")
    tarball = _fake_tarball({mf.LANDMARKER_HEAVY.path_in_archive: heavy.read_bytes()})
    assert mf.extract_heavy(tarball, tmp_path).read_bytes() == heavy.read_bytes()


# --- selftest: heavy is reported, never a failure ---


def test_selftest_passes_without_heavy_and_says_how_to_fetch_it(tmp_path, model_dir):
    from appliance.checks import CheckOptions
    from appliance.config import Settings
    from appliance.pose.part import TflitePose

    for f in mf.MODEL_FILES:
        (tmp_path / f.name).write_bytes((model_dir / f.name).read_bytes())
    settings = Settings()
    settings.pose.model_dir, settings.pose.threads = tmp_path, 2
    result = TflitePose(settings.pose, settings.camera).check(CheckOptions())
    assert result.status == "PASS", result.line()
    assert f"warning: optional heavy model not usable (no foot angle per contact): pose model file {tmp_path / 'pose_landmark_heavy.tflite'} is missing; fix: run `appliance fetch-model --model-dir {tmp_path}`" in result.detail
