"""Every refusal at start is one line naming the cause and the fix, with exit status 1, never a
traceback: the real ``appliance`` command on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from faultfs import read_only_copy, scribble_inner_pages
from test_store import make_step

from appliance.store import Store

APPLIANCE = [sys.executable, "-m", "appliance"]


def appliance(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(APPLIANCE + list(args), capture_output=True, text=True, timeout=timeout)


def assert_one_line_refusal(done: subprocess.CompletedProcess, command: str, *words: str) -> str:
    """Exit status 1, no traceback, and the last line of stderr says the error with ``words``."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"appliance {command}: error: "), last
    for word in words:
        assert word in last, last
    return last


def make_database(data: Path, steps: int = 50) -> None:
    with Store(data) as store:
        runner = store.create_runner("Ann")
        session = store.create_session(runner.id)
        for i in range(steps):
            store.record_step(session.id, make_step(i, i * 0.35))
        store.finish_session(session.id, "completed")


@pytest.mark.parametrize("version", ['"x"', "null", "1.5"])
def test_a_settings_version_that_is_not_a_number(tmp_path: Path, version: str):
    config = tmp_path / "settings.json"
    config.write_text(f'{{"version": {version}}}')
    done = appliance("run", "--no-panel", "--duration", "1", "--config", str(config), "--data-dir", str(tmp_path))
    assert_one_line_refusal(done, "run", str(config), '"version"', "not a whole number", "move the file away")


def test_a_webcam_that_is_not_a_number(tmp_path: Path):
    done = appliance("run", "--no-panel", "--duration", "1", "--source", "webcam:abc", "--data-dir", str(tmp_path))
    assert_one_line_refusal(done, "run", "webcam:N")


def test_a_directory_given_as_the_video(tmp_path: Path):
    done = appliance("run", "--no-panel", "--duration", "1", "--source", f"video:{tmp_path}", "--data-dir",
                     str(tmp_path / "data"))
    assert_one_line_refusal(done, "run", "is a directory")


def test_a_data_directory_that_cannot_be_created(tmp_path: Path):
    (tmp_path / "a-file").write_text("")
    data = tmp_path / "a-file" / "data"
    done = appliance("run", "--no-panel", "--duration", "1", "--source", "sim", "--data-dir", str(data))
    assert_one_line_refusal(done, "run", "cannot create the data directory", "--data-dir")
    done = appliance("export", "--data-dir", str(data))
    assert_one_line_refusal(done, "export", "no database", "--data-dir")


def test_a_read_only_data_directory_is_refused_by_run_and_read_by_export(tmp_path: Path):
    with read_only_copy(tmp_path / "ro", make_database) as data:
        done = appliance("run", "--no-panel", "--duration", "1", "--source", "sim", "--data-dir", str(data))
        assert_one_line_refusal(done, "run", "cannot write in the data directory", "Read-only", "--data-dir")
        exported = appliance("export", "--data-dir", str(data))
        assert exported.returncode == 0, exported.stderr
        assert len(json.loads(exported.stdout)["steps"]) == 50


def test_a_damaged_database_is_refused_by_run_and_export_with_the_fix(tmp_path: Path):
    make_database(tmp_path, steps=400)
    scribble_inner_pages(tmp_path / "appliance.db")
    done = appliance("run", "--no-panel", "--duration", "1", "--source", "sim", "--data-dir", str(tmp_path))
    assert_one_line_refusal(done, "run", "is damaged", "move the file away", "appliance.db.damaged")
    done = appliance("export", "--data-dir", str(tmp_path))
    assert_one_line_refusal(done, "export", "is damaged", "appliance.db.damaged")
