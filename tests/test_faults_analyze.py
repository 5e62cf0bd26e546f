"""``appliance analyze`` keeps its result when an optional part is missing: without matplotlib (the
Pi's own install does not bring it) the plots are skipped with one line, report.json and the
overlay are still written. matplotlib is made unimportable in the subprocess, not uninstalled."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SHARED_DATA

PHONE_CLIP = SHARED_DATA / "phone_side_60fps.mp4"

# A wrapper that makes `import matplotlib` fail as it does where matplotlib is not installed.
WITHOUT_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None; "
    "from appliance.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _analyze(clip, out, model_dir, *, without_matplotlib: bool):
    head = [sys.executable, "-c", WITHOUT_MATPLOTLIB] if without_matplotlib else [sys.executable, "-m", "appliance"]
    return subprocess.run(
        [*head, "analyze", str(clip), "--out", str(out), "--max-frames", "60", "--model-dir", str(model_dir),
         "--threads", "2"],
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.real_data
@pytest.mark.model
def test_analyze_without_matplotlib_skips_the_plots_with_one_line_and_keeps_the_report(model_dir, tmp_path):
    if not PHONE_CLIP.is_file():
        pytest.skip(f"real clip not available: {PHONE_CLIP}")
    out = tmp_path / "out"
    proc = _analyze(PHONE_CLIP, out, model_dir, without_matplotlib=True)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("plots skipped")]
    assert skipped == ["plots skipped: matplotlib is not installed; install matplotlib for the plots "
                       "(on the Pi: sudo apt install python3-matplotlib)"]
    report = json.loads((out / "report.json").read_text())
    assert report["frames"] == 60 and report["plots"] == []
    assert report["plots_skipped"].startswith("matplotlib is not installed")
    assert (out / report["overlay"]).stat().st_size > 10_000
    assert (out / "landmarks.npz").is_file()
    assert not list(out.glob("gait_*.png"))


def test_the_wrapper_really_hides_matplotlib():
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_MATPLOTLIB.split("; from")[0] + "; import matplotlib"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr
