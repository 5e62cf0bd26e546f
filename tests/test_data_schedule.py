"""The scheduled backup on real files: generations written and the oldest beyond ``keep`` deleted,
its last result kept for Health and selftest, a missing target said with the fix, a USB drive
found by its label, and the upkeep thread running it beside a store that records steps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_store import make_step

from appliance.config import Settings
from appliance.runtime.data_upkeep import DataUpkeep
from appliance.store import Store
from appliance.store.backup import BackupError, unpack_backup
from appliance.store.backup_schedule import (
    backup_target,
    drive_mount_point,
    next_due,
    read_status,
    run_scheduled_backup,
)


def settings_with(**backup) -> Settings:
    s = Settings()
    return s.model_copy(update={"backup": s.backup.model_copy(update=backup)})


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "data") as s:
        runner = s.create_runner("Ann")
        session = s.create_session(runner.id, t_start=0.0)
        for i in range(500):
            s.record_step(session.id, make_step(i, i * 0.35))
        s.flush()
        yield s


def test_generations_are_kept_up_to_keep_and_the_result_is_recorded(store: Store, tmp_path: Path):
    target = tmp_path / "usb"
    target.mkdir()
    (target / "holiday-photos.tar.gz").write_bytes(b"not ours")
    settings = settings_with(directory=target, keep=2)
    t0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    for day in range(4):
        status = run_scheduled_backup(store, settings, tmp_path / "data", None, now=t0 + timedelta(days=day))
        assert status.ok, status.message
    names = sorted(p.name for p in target.iterdir())
    assert names == ["appliance-backup-20260303-020000.tar.gz", "appliance-backup-20260304-020000.tar.gz",
                     "holiday-photos.tar.gz"]
    kept = read_status(tmp_path / "data")
    assert kept == status and kept.counts["steps"] == 500 and "500 steps" in kept.message
    assert kept.same_disk and "same disk" in kept.message  # tmp: one disk; a USB drive would not say it
    out = tmp_path / "check"
    out.mkdir()
    assert unpack_backup(Path(kept.file), out)["counts"]["steps"] == 500


def test_a_missing_target_fails_in_one_line_with_the_fix_and_keeps_the_last_success(store: Store, tmp_path: Path):
    target = tmp_path / "usb"
    target.mkdir()
    ok = run_scheduled_backup(store, settings_with(directory=target), tmp_path / "data", None)
    target.rename(tmp_path / "unplugged")
    failed = run_scheduled_backup(store, settings_with(directory=target), tmp_path / "data", None)
    assert not failed.ok and failed.last_success == ok.last_success
    assert "does not exist" in failed.message and "plug in" in failed.message and "\n" not in failed.message
    assert read_status(tmp_path / "data") == failed
    # Retried an hour after a failure; a day after a success; soon after start when none yet.
    start = datetime.now(UTC)
    assert next_due(failed, 24, start) == datetime.fromisoformat(failed.finished) + timedelta(hours=1)
    assert next_due(ok, 24, start) == datetime.fromisoformat(ok.last_success) + timedelta(hours=24)
    assert next_due(None, 24, start) == start + timedelta(minutes=2)
    assert run_scheduled_backup(store, Settings(), tmp_path / "data", None) is None  # no target: off


def test_a_usb_drive_is_found_by_its_label_where_it_is_mounted(tmp_path: Path):
    by_label = tmp_path / "by-label"
    by_label.mkdir()
    (tmp_path / "sda1").touch()
    (by_label / "CLINIC\\x20BACKUP").symlink_to(tmp_path / "sda1")
    mount = tmp_path / "media" / "clinic backup"
    mount.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/root / ext4 rw 0 0\n{tmp_path}/sda1 {str(mount).replace(' ', chr(92) + '040')} vfat rw 0 0\n")
    assert drive_mount_point("CLINIC BACKUP", by_label, mounts) == mount
    assert backup_target(settings_with(drive_label="CLINIC BACKUP"), by_label, mounts) == mount / "appliance-backups"
    mounts.write_text("/dev/root / ext4 rw 0 0\n")
    with pytest.raises(BackupError, match="plugged in but not mounted; mount it"):
        drive_mount_point("CLINIC BACKUP", by_label, mounts)
    with pytest.raises(BackupError, match="no drive labelled 'OTHER' is plugged in"):
        drive_mount_point("OTHER", by_label, mounts)


def test_the_upkeep_thread_backs_up_beside_a_recording_store_and_applies_retention(store: Store, tmp_path: Path):
    target = tmp_path / "usb"
    target.mkdir()
    settings = [settings_with(directory=target, keep=3)]
    old = store.list_sessions()[0]
    store.finish_session(old.id, "completed")
    store.run_alone(lambda c: c.execute("UPDATE sessions SET started = '2020-01-01T00:00:00.000+00:00'"))
    fresh = store.create_session(old.runner_id, t_start=0.0)
    upkeep = DataUpkeep(store, lambda: settings[0], tmp_path / "data", None, check_every_s=0.05, first_after_s=0.0)
    assert upkeep.status is None
    upkeep.start()
    try:
        i = 0
        deadline = time.monotonic() + 20
        while upkeep.status is None and time.monotonic() < deadline:
            store.record_step(fresh.id, make_step(i, i * 0.35))  # a session records meanwhile
            i += 1
            time.sleep(0.002)
        assert upkeep.status is not None and upkeep.status.ok, upkeep.status
        assert upkeep.status.counts["sessions"] == 2  # retention is off
        settings[0] = settings[0].model_copy(update={"storage": settings[0].storage.model_copy(
            update={"retention_months": 12})})
        upkeep.tick(now=datetime.now(UTC) + timedelta(days=2))  # the next day: retention, then a backup
        assert [s.id for s in store.list_sessions()] == [fresh.id]
        assert upkeep.status.counts["sessions"] == 1
        settings[0] = Settings()
        assert upkeep.status is None  # target removed in the settings: Health says off
    finally:
        upkeep.stop()
    assert len(list(target.glob("appliance-backup-*.tar.gz"))) == 2


def test_selftest_checks_the_backup_target_and_the_last_result(store: Store, tmp_path: Path):
    from appliance.commands.selftest import SelftestOptions, run_selftest

    data = tmp_path / "data"
    target = tmp_path / "usb"
    settings = settings_with(directory=target)
    settings = settings.model_copy(update={"storage": settings.storage.model_copy(update={"data_dir": data})})
    options = SelftestOptions(camera=False, model=False, audio=False, leds=False, button=False)

    def backup_line() -> tuple[str, str]:
        (result,) = [r for r in run_selftest(settings, options, out=lambda line: None) if r.name == "backup"]
        return result.status, result.line()

    status, line = backup_line()
    assert status == "FAIL" and "does not exist" in line and "fix:" in line
    target.mkdir()
    status, line = backup_line()
    assert status == "PASS" and "no scheduled backup yet" in line
    assert run_scheduled_backup(store, settings, data, None).ok
    status, line = backup_line()  # one disk in the tests: a copy on the data's own disk fails the check
    assert status == "FAIL" and "same disk" in line and "USB drive" in line
    old = datetime.now(UTC) - timedelta(days=5)
    run_scheduled_backup(store, settings, data, None, now=old)
    status_file = data / "backup-status.json"
    status_file.write_text(status_file.read_text().replace(read_status(data).last_success, old.isoformat(timespec="seconds")))
    status, line = backup_line()
    assert status == "FAIL" and "days old" in line
    status, line = [(r.status, r.line()) for r in run_selftest(Settings(), options, out=lambda line: None)
                    if r.name == "backup"][0]
    assert status == "SKIP" and "no backup target set" in line
