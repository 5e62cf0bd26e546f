"""Where the mixer's samples go: the sound device, a WAV file, or nowhere.

A *writer* takes finished blocks (``WavWriter``, ``NullWriter``); a *driver* decides when blocks
are rendered:

- ``DeviceDriver``: PortAudio's callback asks for each block (sounddevice, ALSA on the Pi). The
  stream is opened and started at engine start, so a missing device or library is a clear error
  then, not a crash mid-run.
- ``PacedDriver``: a thread renders one block per block period of real time into a writer: the dev
  machine's live sink (a WAV file of what the session sounded like) and the live null sink.
- ``OfflineDriver``: the caller renders by calling ``advance`` (faster than real time): tests, the
  ``appliance metronome`` and ``appliance cues --demo`` renders.

Every driver keeps the engine's ``SampleClock`` anchored: the time at which the first sample of
the block being rendered sounds.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.errors import ApplianceError
from appliance.outputs.clock import SampleClock
from appliance.outputs.wavio import to_pcm16

log = logging.getLogger(__name__)

Render = Callable[[int], np.ndarray]
AUDIO_RT_PRIORITY = 10  # SCHED_FIFO priority of the paced audio thread (PortAudio/ALSA use similar)


class AudioError(ApplianceError):
    """An audio output that cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class SinkSpec:
    """A parsed ``audio.sink`` setting: kind is auto, device, wav or null; path for wav."""

    kind: str
    path: Path | None = None


def parse_sink(spec: str) -> SinkSpec:
    """Parse ``auto``, ``device``, ``wav:PATH`` or ``null``; anything else is an error naming the setting."""
    spec = spec.strip()
    if spec in ("auto", "device", "null"):
        return SinkSpec(spec)
    if spec.startswith("wav:") and len(spec) > 4:
        return SinkSpec("wav", Path(spec[4:]).expanduser())
    raise AudioError(f"audio.sink {spec!r} is not one of: auto, device, wav:PATH, null")


def wav_header(sample_rate: int, data_bytes: int) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV file holding ``data_bytes`` of samples."""
    rate = int(sample_rate)
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", data_bytes))


class WavWriter:
    """Writes blocks to a mono 16-bit WAV file; the header is finalised on close.

    The recording is secondary to the session: a block the disk refuses (full, I/O error) is
    dropped and counted, the file is cut back to its last whole block, and the fault is logged once
    until writes succeed again. So a full disk never stops the caller (the control loop drives the
    offline engine) and the file stays a valid WAV of what was written.
    """

    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.samples_written = 0
        self.samples_dropped = 0
        self.fault: str | None = None  # why writes fail now (None: they work)
        self._data_bytes = 0
        self._file = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 (closed in close())
            self._write_all(wav_header(self.sample_rate, 0))
        except OSError as e:
            if self._file is not None:
                self._file.close()
            raise AudioError(f"cannot open WAV sink {self.path}: {e}") from e

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._file.write(view)
            view = view[n:]

    def write(self, block: np.ndarray) -> None:
        data = to_pcm16(block)
        try:
            self._write_all(data)
        except OSError as e:
            self._drop(len(block), e)
            return
        self._data_bytes += len(data)
        self.samples_written += len(block)
        if self.fault is not None:
            log.warning("WAV sink %s is written again; %d samples (%.1f s) were dropped while %s", self.path,
                        self.samples_dropped, self.samples_dropped / self.sample_rate, self.fault)
            self.fault = None

    def _drop(self, samples: int, error: OSError) -> None:
        self.samples_dropped += samples
        try:  # a partial write would shift every later sample: cut back to the last whole block
            os.ftruncate(self._file.fileno(), 44 + self._data_bytes)
            self._file.seek(44 + self._data_bytes)
        except OSError:
            pass
        if self.fault is None:
            self.fault = error.strerror or str(error)
            log.error("WAV sink %s: %s; its sound is dropped until the disk accepts writes again "
                      "(the session goes on)", self.path, self.fault)

    def close(self) -> None:
        if self._file is None:
            return
        try:
            self._file.seek(0)
            self._write_all(wav_header(self.sample_rate, self._data_bytes))
        except OSError as e:
            log.error("WAV sink %s: its header cannot be finalised (%s)", self.path, e)
        finally:
            self._file.close()
            self._file = None


RECORDING_FILE_SECONDS = 600.0  # one file of the simulated runs' sound: 10 min (58 MB at 48 kHz)
RECORDING_FILES_KEPT = 2  # so the newest 10 to 20 minutes are kept, never more than ~115 MB


class RotatingWavWriter:
    """Writes blocks to a series of WAV files in ``directory``, each at most ``file_seconds`` long,
    keeping only the newest ``keep`` files named ``{prefix}-*.wav`` there (earlier runs' files count).

    The embedded default renders every simulated session to a WAV file; without rotation the file
    grew by about 5.8 MB a minute for as long as the appliance ran. A file that cannot be opened
    (full disk) drops its blocks and is tried again at the next block; the session goes on.

    >>> writer = RotatingWavWriter(data_dir / "audio", 48000)
    >>> writer.write(block); writer.path    # the file being written
    """

    def __init__(self, directory: Path, sample_rate: int, file_seconds: float = RECORDING_FILE_SECONDS,
                 keep: int = RECORDING_FILES_KEPT, prefix: str = "run") -> None:
        if keep < 1 or not file_seconds > 0:
            raise ValueError(f"keep ({keep}) must be at least 1 and file_seconds ({file_seconds}) positive")
        self.directory = Path(directory)
        self.sample_rate = int(sample_rate)
        self.file_samples = int(round(file_seconds * self.sample_rate))
        self.keep = keep
        self.prefix = prefix
        self.samples_written = 0
        self.samples_dropped = 0
        self.fault: str | None = None  # why no file can be opened now (None: writing works)
        self._serial = 0
        self._stamp = time.strftime("%Y%m%d-%H%M%S")
        self._current: WavWriter | None = None
        self._open_next()
        if self._current is None:
            raise AudioError(f"cannot open the recording in {self.directory}: {self.fault}",
                             "free space on that disk, or set audio.sink to null")

    @property
    def path(self) -> Path | None:
        """The file being written (None while none can be opened)."""
        return self._current.path if self._current is not None else None

    def files(self) -> list[Path]:
        """This writer's and earlier runs' recordings in ``directory``, oldest first."""
        found = [p for p in self.directory.glob(f"{self.prefix}-*.wav") if p.is_file()]
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))

    def _open_next(self) -> None:
        self._serial += 1
        path = self.directory / f"{self.prefix}-{self._stamp}-{self._serial:03d}.wav"
        try:
            self._current = WavWriter(path, self.sample_rate)
        except AudioError as e:
            self._current = None
            if self.fault is None:
                log.error("%s; the simulated session's sound is not recorded until a file can be opened", e)
            self.fault = e.message
            return
        self.fault = None
        for old in [p for p in self.files() if p != path][: max(0, len(self.files()) - self.keep)]:
            try:
                old.unlink()
            except OSError as e:  # said, and tried again at the next rotation
                log.warning("cannot remove the old recording %s: %s", old, e)

    def write(self, block: np.ndarray) -> None:
        if self._current is not None and self._current.samples_written + self._current.samples_dropped >= self.file_samples:
            self._current.close()
            self._open_next()
        elif self._current is None:
            self._open_next()
        if self._current is None:
            self.samples_dropped += len(block)
            return
        before = self._current.samples_written
        self._current.write(block)
        written = self._current.samples_written - before
        self.samples_written += written
        self.samples_dropped += len(block) - written

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


class NullWriter:
    """Discards blocks (counts them)."""

    def __init__(self) -> None:
        self.samples_written = 0

    def write(self, block: np.ndarray) -> None:
        self.samples_written += len(block)

    def close(self) -> None:
        pass


class OfflineDriver:
    """Renders on demand, as fast as the caller asks; the clock stays at its fixed anchor."""

    realtime = False

    def __init__(self, render: Render, writer, block_size: int) -> None:
        self._render = render
        self.writer = writer
        self.block_size = int(block_size)

    def start(self) -> None:
        pass

    def advance(self, n_samples: int) -> None:
        """Render exactly ``n_samples`` in buffers of ``block_size`` (the last one may be shorter)."""
        done = 0
        while done < n_samples:
            n = min(self.block_size, n_samples - done)
            self.writer.write(self._render(n))
            done += n

    def close(self) -> None:
        self.writer.close()


def _raise_thread_priority() -> None:
    """Ask for real-time scheduling for the calling audio thread, as PortAudio does for its callback.

    Without it a busy machine can wake the thread tens of milliseconds late. Not permitted
    (no CAP_SYS_NICE / rtprio limit): the thread runs at normal priority, and the log says so.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(AUDIO_RT_PRIORITY))
    except (OSError, AttributeError) as e:
        log.info("audio thread stays at normal priority (real-time scheduling refused: %s)", e)


class PacedDriver:
    """A thread that renders one block per block period of real time (monotonic clock)."""

    realtime = True

    def __init__(self, render: Render, writer, block_size: int, sample_rate: int, clock: SampleClock,
                 position: Callable[[], int]) -> None:
        self._render = render
        self.writer = writer
        self.block_size = int(block_size)
        self.sample_rate = int(sample_rate)
        self._clock = clock
        self._position = position
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audio-paced", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        _raise_thread_priority()
        period = self.block_size / self.sample_rate
        t0 = time.monotonic()
        blocks = 0
        try:
            while not self._stop.is_set():
                deadline = t0 + blocks * period
                delay = deadline - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                self._clock.set_anchor(deadline, self._position())
                self.writer.write(self._render(self.block_size))
                blocks += 1
        except BaseException as e:  # reported by the engine's next call, never lost
            self.error = e
            log.exception("paced audio sink stopped")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        if self._thread.is_alive():  # stuck in a write (a hung disk): closing under it is not safe
            log.error("paced audio sink did not stop within 1 s; its file is left as it is")
            return
        self.writer.close()


def _import_sounddevice():
    try:
        import sounddevice
    except OSError as e:  # sounddevice raises OSError when libportaudio is missing
        raise AudioError(
            f"PortAudio is not available ({e}): apt-get install libportaudio2 (./dev installs it), "
            "or set audio.sink to wav:PATH or null"
        ) from e
    return sounddevice


def _device_arg(device: str | None):
    if device is None or device == "":
        return None
    return int(device) if device.strip().isdigit() else device


def list_output_devices() -> list[str]:
    """Names of the PortAudio output devices (for error messages and ``appliance selftest``)."""
    sd = _import_sounddevice()
    return [f"{i}: {d['name']}" for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0]


class DeviceDriver:
    """One persistent PortAudio output stream whose callback renders every block."""

    realtime = True

    def __init__(self, render: Render, block_size: int, sample_rate: int, clock: SampleClock,
                 position: Callable[[], int], device: str | None = None) -> None:
        self._render = render
        self.block_size = int(block_size)
        self.sample_rate = int(sample_rate)
        self._clock = clock
        self._position = position
        self.device = device
        self.underflows = 0
        self.blocks = 0
        self.error: BaseException | None = None
        self._stream = None

    def start(self) -> None:
        sd = _import_sounddevice()
        dev = _device_arg(self.device)
        name = "the default output device" if dev is None else f"output device {dev!r}"
        try:
            info = sd.query_devices(dev, "output")
        except (sd.PortAudioError, ValueError) as e:
            available = list_output_devices()
            raise AudioError(
                f"audio: {name} not found ({e}); available outputs: {', '.join(available) or 'none'}. "
                "Set audio.device, or audio.sink to wav:PATH or null"
            ) from e

        def callback(outdata, frames, time_info, status) -> None:
            if status.output_underflow:
                self.underflows += 1
            try:
                # Time at which this buffer's first sample reaches the DAC, on the monotonic clock.
                ahead = time_info.outputBufferDacTime - time_info.currentTime
                self._clock.set_anchor(time.monotonic() + max(0.0, ahead), self._position())
                outdata[:, 0] = self._render(frames)
                self.blocks += 1
            except BaseException as e:
                self.error = e
                log.exception("audio callback failed; stopping the stream")
                raise sd.CallbackAbort from e

        try:
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate, blocksize=self.block_size, channels=1, dtype="float32",
                device=dev, callback=callback, latency="low",
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            raise AudioError(
                f"audio: cannot open {info['name']!r} at {self.sample_rate} Hz, {self.block_size}-sample "
                f"buffers: {e}. Check audio.sample_rate/audio.block_size or choose another audio.device"
            ) from e
        log.info("audio stream on %s, %d Hz, %d-sample buffers", info["name"], self.sample_rate, self.block_size)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
