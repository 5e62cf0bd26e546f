"""Mono 16-bit PCM WAV files: read into float32, write from float32 (stdlib ``wave``), and resample."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from appliance.errors import ApplianceError


class WavError(ApplianceError):
    """A WAV file that cannot be used; the message names the file and the reason."""


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(samples float32 in [-1, 1], sample rate) of a 16-bit PCM WAV; several channels are averaged."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except (OSError, EOFError, wave.Error) as e:
        raise WavError(f"cannot read WAV file {path}: {e}") from e
    if width != 2:
        raise WavError(f"WAV file {path} has {8 * width}-bit samples; only 16-bit PCM is supported")
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data, rate


def to_pcm16(samples: np.ndarray) -> bytes:
    """float samples in [-1, 1] as little-endian 16-bit PCM bytes (rounded, clipped)."""
    return np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2").tobytes()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono float samples as a 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(to_pcm16(samples))


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling of a short clip by zero-padding its spectrum (no aliasing, no drift).

    The clip is padded with silence first so that the FFT's wrap-around cannot leak its end into
    its start. Meant for prompts of a few seconds, at install time, not in the control loop.
    """
    x = np.asarray(samples, dtype=np.float64)
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32)
    pad = len(x) // 8 + 64
    padded = np.concatenate([x, np.zeros(pad)])
    n_out_padded = int(round(len(padded) * rate_out / rate_in))
    spectrum = np.fft.rfft(padded)
    n_bins = n_out_padded // 2 + 1
    if n_bins <= len(spectrum):
        spectrum = spectrum[:n_bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(n_bins - len(spectrum), dtype=complex)])
    y = np.fft.irfft(spectrum, n_out_padded) * (n_out_padded / len(padded))
    n_out = int(round(len(x) * rate_out / rate_in))
    return y[:n_out].astype(np.float32)
