"""The running appliance under faults: a disk that fills up and empties again, a loop that stalls,
a start that fails. Real runtime on the simulated runner, real SQLite file on a small real filesystem."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest
from faultfs import fill, small_disk
from waiting import wait_for

from appliance.config import Settings
from appliance.outputs.prompts import PromptBank, PromptError
from appliance.outputs.sinks import WavWriter
from appliance.outputs.wavio import read_wav
from appliance.runtime.app import RunOptions, Runtime, StartupError
from appliance.store import Store


def test_the_wav_writer_drops_sound_on_a_full_disk_and_keeps_a_valid_file(tmp_path: Path):
    with small_disk(tmp_path / "disk", "256k") as disk:
        writer = WavWriter(disk / "run.wav", 8000)
        block = np.full(800, 0.25, dtype=np.float32)
        writer.write(block)
        filler = fill(disk)
        for _ in range(50):
            writer.write(block)  # never raises
        assert writer.fault is not None and writer.samples_dropped > 0
        filler.unlink()
        writer.write(block)
        assert writer.fault is None
        writer.close()
        samples, rate = read_wav(disk / "run.wav")
        assert rate == 8000 and len(samples) == writer.samples_written
        assert writer.samples_written + writer.samples_dropped == 52 * 800


def test_prompts_that_cannot_be_written_are_a_prompt_error_naming_the_fix(tmp_path: Path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        fill(disk)
        with pytest.raises(PromptError, match="cannot write the spoken prompts .*free space"):
            PromptBank(disk / "prompts", 16000).load()
        assert not list((disk / "prompts").glob(".*.tmp"))


def test_a_full_disk_at_start_falls_back_to_the_metronome_alone(tmp_path: Path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        fill(disk)
        settings = Settings()
        settings.audio.prompts_dir = disk / "prompts"
        rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path / "data", panel=False, demo=False, speed=4))
        try:
            rt.start()
            assert rt.audio is not None and rt.audio.prompts is None
            wait_for(lambda: rt.loop.stats().frames > 3, what="the loop to tick")
        finally:
            rt.shutdown()


@pytest.mark.parametrize("sink", ["wav", "null"])
def test_disk_full_while_running_loses_no_step_and_shows_on_live_and_health(tmp_path: Path, sink: str):
    settings = Settings()
    settings.audio.sink = "auto" if sink == "wav" else "null"  # the simulated runner records to DATA_DIR/audio
    with small_disk(tmp_path / "disk", "48m") as disk:
        rt = Runtime(settings, RunOptions(source="sim", data_dir=disk / "data", panel=False, demo=True, speed=10))
        recorded: set[tuple[int, int]] = set()
        rt.start()
        store = rt.store
        real_record = store.record_step

        def counting_record(session_id, step, **kw):  # a spy: what the loop handed the store
            recorded.add((session_id, step.index))
            real_record(session_id, step, **kw)

        store.record_step = counting_record
        try:
            wait_for(lambda: rt.snapshot().steps >= 20, what="20 steps in the demo session")
            rate_before = rt.snapshot().loop.fps
            filler = fill(disk)
            wait_for(lambda: rt.snapshot().recording_fault is not None, what="the fault on the live snapshot")
            snap = rt.snapshot()
            assert "recording fails: the disk is full" in snap.recording_fault
            health = rt.health()
            assert health.recording_fault and health.writes_waiting > 0
            assert "Recording fails" in rt._status_line()
            steps_at_fault = snap.steps
            wait_for(lambda: rt.snapshot().steps >= steps_at_fault + 30, what="30 more steps while the disk is full")
            assert rt.loop.alive and rt.loop.error is None
            steps_while_full = rt.snapshot().steps - steps_at_fault
            waiting_peak = rt.health().writes_waiting
            assert rt.snapshot().loop.fps > 0.5 * rate_before
            filler.unlink()
            wait_for(lambda: rt.snapshot().recording_fault is None, what="recording to work again")
            wait_for(lambda: rt.snapshot().phase in ("summary", "idle"), timeout=90, what="the demo session to end")
        finally:
            rt.shutdown()
        with Store(disk / "data") as check:
            (session,) = check.list_sessions()
            stored = {(session.id, s.index) for s in check.session_steps(session.id)}
            assert session.state == "completed"
            assert recorded and recorded <= stored  # 0 steps lost
            print(f"{sink}: {steps_while_full} steps while the disk was full, {waiting_peak} writes waited; "
                  f"{len(recorded)} handed to the store, {len(recorded - stored)} lost")
            assert check.writes_dropped == 0


def test_a_stalled_loop_shows_as_stalled_and_sigterm_still_stores_the_session(tmp_path: Path):
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, demo=True, speed=10))
    rt.start()
    try:
        wait_for(lambda: rt.snapshot().steps >= 5, what="steps in the demo session")
        assert rt.snapshot().loop.fps > 0 and not rt.snapshot().loop.stalled
        rt.loop.post(lambda t: time.sleep(6))  # the loop thread hangs inside a tick
        t0 = time.monotonic()
        wait_for(lambda: rt.snapshot().loop.stalled, timeout=5, what="the stall on the live snapshot")
        assert time.monotonic() - t0 < 2.0
        assert rt.snapshot().loop.fps == 0.0 and rt.health().loop_hz == 0.0
        assert "STALLED" in rt._status_line()
    finally:
        t0 = time.monotonic()
        rt.shutdown()
        took = time.monotonic() - t0
    assert took < 2.0
    with Store(tmp_path) as store:
        (session,) = store.list_sessions()
        assert session.state == "interrupted" and "stuck" in session.summary["end_reason"]
        assert store.recovered_sessions == []


def test_a_start_that_fails_leaves_no_session(tmp_path: Path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, host="127.0.0.1", port=port, demo=True))
        with pytest.raises(StartupError, match="cannot listen"):
            rt.start()
        rt.shutdown()
    finally:
        busy.close()
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, host="no-such-host.invalid", port=0, demo=True))
    with pytest.raises(StartupError, match="does not resolve"):
        rt.start()
    rt.shutdown()
    with Store(tmp_path) as store:
        assert store.list_sessions() == []


def test_a_stop_before_the_first_frame_leaves_no_demo_session(tmp_path: Path):
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, demo=True, speed=1))
    rt.start()
    rt.shutdown()
    with Store(tmp_path) as store:
        assert store.list_sessions() == []


def test_a_stop_during_calibration_leaves_no_empty_session(tmp_path: Path):
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, demo=True, speed=1))
    rt.start()
    try:
        wait_for(lambda: rt.snapshot().phase == "calibrating", what="the demo session to calibrate")
    finally:
        rt.shutdown()
    with Store(tmp_path) as store:
        assert store.list_sessions() == []
