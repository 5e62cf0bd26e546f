"""Spoken prompts: rendered once with espeak-ng into cached WAVs at the engine's rate.

Speech is never synthesised in the control loop. ``appliance prompts`` (run by provisioning at
install time) renders every prompt into the prompts directory; the audio engine loads them at
start, rendering any that are missing or whose text, voice or rate changed (still at start, not
mid-run). A session summary, whose numbers are known only at the end, is rendered by
``PromptBank.synthesise`` after the last block, outside the control loop.

Each cached prompt is ``NAME.wav`` next to ``manifest.json``, which records the text, voice and
rate it was rendered with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from appliance.config import atomic_write_text
from appliance.errors import ApplianceError
from appliance.outputs.wavio import WavError, read_wav, resample, write_wav

log = logging.getLogger(__name__)

# name -> default text. The coach refers to prompts by name; the clinic may change the words.
DEFAULT_PROMPTS: dict[str, str] = {
    "quick_feet": "quick feet",
    "land_softer": "land softer",
    "shorter_steps": "shorter steps",
    "land_ball_of_foot": "land on the ball of your foot",
    "follow_the_beat": "follow the beat",
    "knees_apart": "knees apart",
    "squeeze_glutes": "squeeze your glutes",
    "session_start": "Session starting.",
    "warmup": "Warm up at your own pace.",
    "feedback_on": "Feedback on.",
    "feedback_off": "Feedback off. Keep it going.",
    "retention": "Last block. No cues, keep your new running.",
    "session_end": "Session complete. Well done.",
}

MANIFEST = "manifest.json"


class PromptError(ApplianceError):
    """A prompt that cannot be rendered or loaded; the message says which and how to fix it."""


def prompt_texts(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The default prompt texts with the clinic's overrides applied (unknown names are an error)."""
    texts = dict(DEFAULT_PROMPTS)
    for name, text in (overrides or {}).items():
        if name not in DEFAULT_PROMPTS:
            raise PromptError(f"audio.prompt_texts: unknown prompt {name!r}; known: {', '.join(DEFAULT_PROMPTS)}")
        if not text.strip():
            raise PromptError(f"audio.prompt_texts.{name}: text is empty")
        texts[name] = text
    return texts


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise PromptError("espeak-ng is not installed: apt-get install espeak-ng (./dev installs it)")
    return exe


def known_voices() -> set[str]:
    """Voice names espeak-ng accepts: languages, voice names and files (variants as ``+name``)."""
    names: set[str] = set()
    for option in ("--voices", "--voices=variant"):
        proc = subprocess.run([_espeak(), option], capture_output=True, text=True, timeout=30)
        for line in proc.stdout.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:
                names.update(c.lower() for c in (cols[1], cols[3], cols[4], cols[4].split("/")[-1]))
    return names


def check_voice(voice: str) -> None:
    """A PromptError unless espeak-ng knows ``voice`` (it would silently fall back to its default)."""
    base, _, variant = voice.lower().partition("+")
    known = known_voices()
    if base not in known or (variant and variant not in known):
        raise PromptError(
            f"audio.voice {voice!r} is not an espeak-ng voice; see `espeak-ng --voices` (e.g. en, en-us, en+f3)"
        )


def espeak_render(text: str, voice: str, sample_rate: int) -> np.ndarray:
    """Speech for ``text`` from espeak-ng, resampled to ``sample_rate``, peak-normalised to 0.9."""
    exe = _espeak()
    try:
        with tempfile.TemporaryDirectory(prefix="prompt-") as tmp:
            out = Path(tmp) / "speech.wav"
            proc = subprocess.run(
                [exe, "-v", voice, "-w", str(out), "--", text], capture_output=True, text=True, timeout=60
            )
            if proc.returncode != 0 or not out.exists():
                raise PromptError(
                    f"espeak-ng failed for voice {voice!r} ({proc.stderr.strip() or 'no output'}); "
                    "check audio.voice against `espeak-ng --voices`"
                )
            try:
                data, rate = read_wav(out)
            except WavError as e:
                raise PromptError(str(e)) from e
    except OSError as e:  # no room for the temporary file
        raise PromptError(f"cannot render speech in {tempfile.gettempdir()} ({e.strerror or e}); free space there") from e
    if len(data) == 0 or not np.any(data):
        raise PromptError(f"espeak-ng produced silence for {text!r} with voice {voice!r}")
    data = resample(data, rate, sample_rate)
    nz = np.flatnonzero(np.abs(data) > 1e-3)
    data = data[nz[0] : nz[-1] + 1]  # no leading silence: a cue starts on its first sample
    fade = min(len(data) // 4, int(0.005 * sample_rate))
    if fade > 0:
        data[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return (0.9 * data / np.max(np.abs(data))).astype(np.float32)


class PromptBank:
    """The cached prompt WAVs of one directory, voice and sample rate."""

    def __init__(self, directory: Path, sample_rate: int, voice: str = "en", texts: dict[str, str] | None = None):
        self.directory = Path(directory)
        self.sample_rate = int(sample_rate)
        self.voice = voice
        self.texts = prompt_texts(texts)
        self._cache: dict[str, np.ndarray] = {}

    def _manifest(self) -> dict:
        path = self.directory / MANIFEST
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            log.warning("prompt manifest %s unreadable (%s); re-rendering every prompt", path, e)
            return {}

    def _entry(self, name: str) -> dict:
        return {"text": self.texts[name], "voice": self.voice, "rate": self.sample_rate}

    def stale(self) -> list[str]:
        """Names of prompts that are missing or were rendered with another text, voice or rate."""
        manifest = self._manifest()
        return [
            n for n in self.texts if manifest.get(n) != self._entry(n) or not (self.directory / f"{n}.wav").exists()
        ]

    def render(self, force: bool = False) -> list[str]:
        """Render the stale prompts (all with ``force``); returns the names rendered."""
        names = list(self.texts) if force else self.stale()
        if not names:
            return []
        check_voice(self.voice)
        manifest = self._manifest()
        tmp = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name in names:
                data = espeak_render(self.texts[name], self.voice, self.sample_rate)
                tmp = self.directory / f".{name}.wav.tmp"
                write_wav(tmp, data, self.sample_rate)
                tmp.replace(self.directory / f"{name}.wav")
                tmp = None
                manifest[name] = self._entry(name)
                self._cache.pop(name, None)
            atomic_write_text(self.directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        except OSError as e:  # a full or read-only disk: the caller falls back to the metronome alone
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise PromptError(f"cannot write the spoken prompts into {self.directory} ({e.strerror or e}); "
                              "free space there (or set audio.prompts_dir) and restart") from e
        log.info("rendered %d spoken prompt(s) into %s", len(names), self.directory)
        return names

    def load(self) -> dict[str, np.ndarray]:
        """Every prompt as float32 samples, rendering stale ones first."""
        self.render()
        for name in self.texts:
            if name not in self._cache:
                path = self.directory / f"{name}.wav"
                try:
                    data, rate = read_wav(path)
                except WavError as e:
                    raise PromptError(f"{e}; run `appliance prompts --force` to render it again") from e
                if rate != self.sample_rate:
                    raise PromptError(f"prompt {path} is {rate} Hz, engine runs at {self.sample_rate} Hz")
                self._cache[name] = data
        return dict(self._cache)

    def get(self, name: str) -> np.ndarray:
        """One loaded prompt; an unknown name is an error listing the known ones."""
        if name not in self._cache:
            if name not in self.texts:
                raise PromptError(f"unknown prompt {name!r}; known: {', '.join(self.texts)}")
            self.load()
        return self._cache[name]

    def synthesise(self, text: str) -> np.ndarray:
        """Speech for free text (a session summary), cached on disk by text, voice and rate.

        Takes a fraction of a second: call it outside the control loop (after the last block).
        """
        key = hashlib.sha256(f"{self.voice}\0{self.sample_rate}\0{text}".encode()).hexdigest()[:20]
        path = self.directory / "spoken" / f"{key}.wav"
        if path.exists():
            data, _rate = read_wav(path)
            return data
        check_voice(self.voice)
        data = espeak_render(text, self.voice, self.sample_rate)
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_wav(tmp, data, self.sample_rate)
            tmp.replace(path)
        except OSError as e:  # not cached this time (full disk): the speech is still played
            tmp.unlink(missing_ok=True)
            log.warning("spoken text not cached in %s (%s)", path.parent, e.strerror or e)
        return data
