"""provisioning/provision.sh in --root mode against a fake Raspberry Pi OS tree, and shellcheck on
every shell script in the repository."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from appliance.config import load_settings

REPO = Path(__file__).resolve().parents[1]
PROVISION = REPO / "provisioning" / "provision.sh"

BOOKWORM_OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
TRIXIE_OS_RELEASE = BOOKWORM_OS_RELEASE.replace("12 (bookworm)", "13 (trixie)").replace("=bookworm", "=trixie")
UBUNTU_OS_RELEASE = """PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
"""
BULLSEYE_OS_RELEASE = BOOKWORM_OS_RELEASE.replace("12 (bookworm)", "11 (bullseye)").replace("=bookworm", "=bullseye")
# The stock config.txt of Raspberry Pi OS Lite (Bookworm), abridged; it ends in a conditional section.
STOCK_CONFIG_TXT = """# For more options and information see
# http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
arm_64bit=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
"""
STOCK_HOSTS = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\t\traspberrypi\n"


def fake_root(tmp_path: Path, os_release: str = BOOKWORM_OS_RELEASE) -> Path:
    """A directory that looks like a freshly flashed card to provision.sh."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(os_release)
    (root / "etc" / "hostname").write_text("raspberrypi\n")
    (root / "etc" / "hosts").write_text(STOCK_HOSTS)
    (root / "boot" / "firmware" / "config.txt").write_text(STOCK_CONFIG_TXT)
    return root


def provision(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(PROVISION), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def tree_digest(root: Path) -> dict[str, str]:
    """Every file, directory and symlink under ``root`` with its mode and content or target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if p.is_symlink():
                out[rel] = f"link {os.readlink(p)}"
            elif p.is_dir():
                out[rel] = f"dir {oct(st.st_mode)}"
            else:
                out[rel] = f"file {oct(st.st_mode)} {hashlib.sha256(p.read_bytes()).hexdigest()}"
    return out


def test_root_mode_writes_the_appliance_files(tmp_path):
    root = fake_root(tmp_path)
    result = provision(root)
    assert result.returncode == 0, result.stderr

    assert (root / "etc/systemd/system/appliance.service").read_text() == (REPO / "systemd/appliance.service").read_text()
    avahi = root / "etc/avahi/services/appliance.service"
    assert avahi.read_text() == (REPO / "systemd/avahi/appliance.service").read_text()
    assert os.readlink(root / "usr/local/bin/appliance") == "/opt/appliance/venv/bin/appliance"
    assert (root / "var/lib/appliance/models").is_dir()
    assert "MAX98357A" in (root / "etc/asound.conf").read_text()

    settings_file = root / "var/lib/appliance/settings.json"
    assert oct(settings_file.stat().st_mode & 0o777) == "0o640"
    settings = load_settings(settings_file)  # the appliance's own validation accepts it
    assert settings.panel.host == "0.0.0.0"
    assert settings.panel.port == int(ET.parse(avahi).getroot().find("service").findtext("port"))
    assert str(settings.storage.data_dir) == "/var/lib/appliance"
    assert str(settings.pose.model_dir) == "/var/lib/appliance/models"
    assert settings.camera.source == "picamera"

    assert (root / "etc/hostname").read_text() == "treadmill\n"
    hosts = (root / "etc/hosts").read_text().splitlines()
    assert "127.0.1.1\ttreadmill" in hosts and "127.0.0.1\tlocalhost" in hosts
    assert not any("raspberrypi" in line for line in hosts)


def test_boot_config_keeps_the_stock_lines_and_adds_one_block_for_all_models(tmp_path):
    root = fake_root(tmp_path)
    assert provision(root).returncode == 0
    config = (root / "boot/firmware/config.txt").read_text()
    assert config.startswith(STOCK_CONFIG_TXT.rstrip("\n"))
    block = config[config.index("# >>> appliance") :]
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    # [all] first: the stock file ends inside a model filter such as [cm5].
    assert lines == ["[all]", "camera_auto_detect=1", "dtoverlay=max98357a"]
    assert config.count("dtoverlay=max98357a") == 1


def test_root_mode_prints_the_system_commands_it_skips(tmp_path):
    out = provision(fake_root(tmp_path)).stdout
    install = next(line for line in out.splitlines() if "apt-get install" in line)
    for pkg in ("python3-picamera2", "python3-av", "python3-opencv", "libportaudio2", "espeak-ng", "avahi-daemon", "python3-lgpio",
                "python3-matplotlib"):  # analyze's plots
        assert pkg in install.split()
    assert "would run: useradd --system" in out
    for group in ("video", "gpio", "audio", "spi"):
        assert f"usermod --append --groups {group} appliance" in out
    assert "python3 -m venv --system-site-packages /opt/appliance/venv" in out
    assert re.search(r"pip install .*--constraint /opt/appliance/constraints.txt", out)
    assert "fetch-model --model-dir /var/lib/appliance/models" in out
    assert "systemctl enable avahi-daemon.service appliance.service" in out
    assert "appliance set-pin --stdin" in out
    assert "http://treadmill.local" in out


def test_second_run_changes_nothing(tmp_path):
    root = fake_root(tmp_path)
    assert provision(root).returncode == 0
    first = tree_digest(root)
    second_run = provision(root)
    assert second_run.returncode == 0, second_run.stderr
    assert tree_digest(root) == first
    assert "wrote " not in second_run.stdout and "created " not in second_run.stdout


def test_rerun_keeps_settings_and_replaces_an_old_block(tmp_path):
    root = fake_root(tmp_path)
    assert provision(root).returncode == 0
    settings_file = root / "var/lib/appliance/settings.json"
    settings_file.write_text('{"version": 1, "audio": {"volume": 0.3}}\n')
    config_file = root / "boot/firmware/config.txt"
    # An earlier version's block, e.g. with another overlay name.
    config_file.write_text(
        config_file.read_text().replace("dtoverlay=max98357a", "dtoverlay=hifiberry-dac")
    )
    result = provision(root)
    assert result.returncode == 0, result.stderr
    assert settings_file.read_text() == '{"version": 1, "audio": {"volume": 0.3}}\n'
    assert "keeping /var/lib/appliance/settings.json" in result.stdout
    config = config_file.read_text()
    assert "hifiberry-dac" not in config and config.count("# >>> appliance") == 1


def test_dry_run_prints_the_changes_and_writes_nothing(tmp_path):
    root = fake_root(tmp_path)
    before = tree_digest(root)
    result = provision(root, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert tree_digest(root) == before
    assert "would write /etc/systemd/system/appliance.service" in result.stdout
    assert "\n+dtoverlay=max98357a\n" in result.stdout  # the diff of config.txt
    assert "would create directory /var/lib/appliance" in result.stdout


def test_hostname_option_and_its_validation(tmp_path):
    root = fake_root(tmp_path)
    assert provision(root, "--hostname", "gym-lane-2").returncode == 0
    assert (root / "etc/hostname").read_text() == "gym-lane-2\n"
    assert "http://gym-lane-2.local" in provision(root).stdout  # kept on a re-run without the option
    bad = provision(root, "--hostname", "Lane_2")
    assert bad.returncode != 0
    assert "hostname 'Lane_2' is not valid" in bad.stderr


def test_trixie_is_supported(tmp_path):
    result = provision(fake_root(tmp_path, TRIXIE_OS_RELEASE))
    assert result.returncode == 0, result.stderr
    assert "OS: Debian GNU/Linux 13 (trixie)" in result.stdout


@pytest.mark.parametrize(
    "os_release, named",
    [(UBUNTU_OS_RELEASE, "Ubuntu 22.04.4 LTS"), (BULLSEYE_OS_RELEASE, "Debian GNU/Linux 11 (bullseye)")],
    ids=["ubuntu", "bullseye"],
)
def test_unsupported_os_is_refused_with_a_clear_message_and_nothing_written(tmp_path, os_release, named):
    root = fake_root(tmp_path, os_release)
    before = tree_digest(root)
    result = provision(root)
    assert result.returncode == 1
    assert f"unsupported OS: {named}" in result.stderr
    assert "Raspberry Pi OS Lite (64-bit), Bookworm or Trixie" in result.stderr
    assert tree_digest(root) == before


def test_missing_os_release_is_refused(tmp_path):
    root = fake_root(tmp_path)
    (root / "etc/os-release").unlink()
    result = provision(root)
    assert result.returncode == 1 and "cannot read" in result.stderr


def shell_scripts() -> list[Path]:
    """Every shell script in the repository: *.sh and files with a sh/bash shebang (./dev, .ci/run),
    outside .git, virtual environments and caches."""
    scripts = []
    for dirpath, dirnames, filenames in os.walk(REPO):
        dirnames[:] = [
            d
            for d in dirnames
            if d not in {".git", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}
            and not (Path(dirpath) / d / "pyvenv.cfg").exists()
        ]
        for name in filenames:
            p = Path(dirpath) / name
            if name.endswith(".sh"):
                scripts.append(p)
                continue
            try:
                with p.open("rb") as f:
                    first = f.readline(100)
            except OSError:
                continue
            if re.match(rb"#!\s*/(usr/)?bin/(env\s+)?(ba)?sh\b", first):
                scripts.append(p)
    return sorted(scripts)


def test_the_script_finder_sees_the_known_scripts():
    found = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert {"dev", ".ci/run", "provisioning/provision.sh", "provisioning/firstboot.sh"} <= found
    assert not any(".venv" in p for p in found)


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (./dev test installs it: apt install shellcheck)")
    result = subprocess.run(["shellcheck", "--severity=style", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_help_and_unknown_options():
    shown = subprocess.run(["bash", str(PROVISION), "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0
    for option in ("--hostname", "--dry-run", "--root", "--model-wheel", "--model-tarball"):
        assert option in shown.stdout
    assert "set -euo" not in shown.stdout
    bad = subprocess.run(["bash", str(PROVISION), "--bogus"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "unknown option: --bogus" in bad.stderr
