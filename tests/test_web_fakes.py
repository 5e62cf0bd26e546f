"""A small in-test controller implementing the runtime/panel contract over a real Store, for
pure API-shape tests of the panel (the end-to-end tests use the real `appliance run`)."""

from __future__ import annotations

import math
import threading
from pathlib import Path

from appliance.config import Settings, load_settings, save_settings
from appliance.runtime.controller import (
    ApplianceController,
    CameraSnapshot,
    ControllerError,
    Health,
    LiveSnapshot,
    OutputKind,
    RearCameraSnapshot,
    RunnerRef,
)
from appliance.store import Store
from appliance.types import Step

# A 1x1 white JPEG.
TINY_JPEG_B64 = (
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////"
    "////////////////////////2wBDAf//////////////////////////////////////////////////////////////////"
    "////////////////////wAARCAABAAEDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAUEAEAAAAAAAAAAAAA"
    "AAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAA/9k="
)


def fake_step(index: int, t: float, cadence: float, feedback_on: bool) -> Step:
    return Step(
        index=index, foot="left" if index % 2 else "right", frame_ic=index * 20, t_ic=t, strike="rearfoot",
        foot_strike_angle_deg=12.0 + math.sin(index), shank_angle_deg=8.0 + math.cos(index),
        knee_flexion_deg=15.0, heel_to_hip_leg_lengths=0.2, cadence_spm=cadence, instant_cadence_spm=cadence,
        confidence=0.9, valid=True,
    )


class FakeController:
    """Implements ApplianceController: settings persisted to a file, sessions in a real Store."""

    def __init__(self, data_dir: Path) -> None:
        self.config_path = data_dir / "config.json"
        self._settings = load_settings(self.config_path)
        self.applied: list[tuple[Settings, str]] = []
        self.tests: list[str] = []
        self._store = Store(data_dir)
        self._lock = threading.Lock()
        self._session_id: int | None = None
        self._runner: RunnerRef | None = None
        self._paused = False
        self._ticks = 0

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def store(self) -> Store:
        return self._store

    def apply_settings(self, new: Settings, who: str) -> None:
        save_settings(new, self.config_path)
        self._settings = new
        self.applied.append((new, who))

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            self._ticks += 1
            running = self._session_id is not None
            return LiveSnapshot(
                runner=self._runner,
                session_id=self._session_id,
                phase=("paused" if self._paused else "feedback") if running else "idle",
                feedback_on=running and not self._paused,
                cadence_spm=160.0 + self._ticks % 7 if running else None,
                cadence_target_spm=172.0 if running else None,
                cadence_band=(169.0, 175.0) if running else None,
                source="fake",
            )

    def start_session(self, runner_id: int) -> int:
        with self._lock:
            if self._session_id is not None:
                raise ControllerError("a session is already running; stop it first")
            runner = self._store.get_runner(runner_id)
            if runner.archived:
                raise ControllerError(f"runner {runner.name} is archived")
            session = self._store.create_session(runner_id, t_start=100.0, source="fake")
            self._session_id, self._runner = session.id, RunnerRef(id=runner.id, name=runner.name)
            return session.id

    def pause_session(self) -> None:
        if self._session_id is None:
            raise ControllerError("no session is running")
        self._paused = True

    def resume_session(self) -> None:
        if not self._paused:
            raise ControllerError("the session is not paused")
        self._paused = False

    def stop_session(self) -> None:
        with self._lock:
            if self._session_id is None:
                raise ControllerError("no session is running")
            for i in range(40):
                self._store.record_step(
                    self._session_id, fake_step(i, 100.0 + i * 0.35, 165 + i * 0.2, i >= 20),
                    phase="feedback" if i >= 20 else "warmup", feedback_on=i >= 20,
                )
            self._store.finish_session(self._session_id, "completed", {"steps": 40})
            self._session_id, self._runner, self._paused = None, None, False

    def test_output(self, kind: OutputKind) -> None:
        self.tests.append(kind)

    def camera_snapshot(self) -> CameraSnapshot:
        return CameraSnapshot(jpeg_base64=TINY_JPEG_B64, width=1, height=1, advice=["feet cut off"], simulated=True)

    def rear_camera_snapshot(self) -> RearCameraSnapshot:
        """No rear camera (a subclass may serve one: tests/test_frontal_setup.py)."""
        from appliance.runtime.camera_view import render_rear_snapshot

        return render_rear_snapshot(None)

    def health(self) -> Health:
        return Health(loop_hz=30.0, dropped_frames=0, deadline_misses=0, disk_free_bytes=10**9, version="test", uptime_s=1.0)

    def close(self) -> None:
        self._store.close()


def test_fake_controller_implements_the_contract(tmp_path: Path) -> None:
    fake = FakeController(tmp_path)
    try:
        assert isinstance(fake, ApplianceController)
    finally:
        fake.close()
