"""``appliance selftest``'s free-space check: PASS with room, WARN below 1 GB (or 5 % of the card),
FAIL below a 256 MB floor; each says how many hours of running the space holds and, unless it
passed, how to make room. A warning does not fail the selftest."""

from __future__ import annotations

import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from appliance.commands import selftest as st

Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(("total", "free", "status", "hours"), [
    (32e9, 20e9, "PASS", "6,667"),
    (32e9, 0.9e9, "WARN", "300"),
    (400e9, 15e9, "WARN", "5,000"),  # 1 GB would be plenty, but under 5 % of a large card: warn
    (32e9, 0.2e9, "FAIL", "67"),
])
def test_the_disk_check_warns_then_fails_as_free_space_shrinks(tmp_path: Path, monkeypatch, total, free, status, hours):
    monkeypatch.setattr(st.shutil, "disk_usage", lambda p: Usage(total, total - free, free))
    result = st.check_disk(tmp_path)
    assert result.status == status, result.line()
    assert f"about {hours} hours of running at 3 MB an hour" in result.detail
    line = result.line()
    if status == "PASS":
        assert "fix:" not in line
    else:
        assert f"fix: make room on {tmp_path}: delete old sessions in the panel (History)" in line
    if status == "FAIL":
        assert "below the 256 MB floor" in line and "steps wait in memory" in line


def test_a_disk_warning_does_not_fail_the_selftest_and_is_named_in_its_summary(tmp_path: Path):
    # selftest as a user runs it, with disk_usage reporting 0.5 GB free of 32 GB (the rest is real).
    wrapper = (
        "import sys, shutil, collections\n"
        "U = collections.namedtuple('U', 'total used free')\n"
        "shutil.disk_usage = lambda p: U(32e9, 31.5e9, 0.5e9)\n"
        "from appliance.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    config = tmp_path / "settings.json"
    config.write_text('{"version": 1, "storage": {"data_dir": "%s"}}' % (tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", wrapper, "selftest", "--no-hardware", "--no-model",
                           "--config", str(config)], capture_output=True, text=True, timeout=120)
    disk = [line for line in proc.stdout.splitlines() if line.startswith("WARN  disk")]
    assert len(disk) == 1 and "0.50 GB free of 32.0 GB" in disk[0] and "fix: make room" in disk[0], proc.stdout
    assert "warnings: disk" in proc.stdout
    assert proc.returncode == 0 and "failed:" not in proc.stdout, proc.stdout
