"""The clinician's PIN/passphrase: scrypt hash in the data dir, never the PIN itself.

The file ``panel-pin.json`` holds the scrypt parameters, a random salt and the derived key. It is
written atomically (temp file, fsync, rename) with mode 0600. There is no default PIN: until one is
set with ``appliance set-pin`` (or the one-time setup code on the first visit), nobody can log in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.config import atomic_write_bytes

PIN_FILE_NAME = "panel-pin.json"
MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 128

# scrypt cost: 16 MiB of memory and ~50 ms on a Pi 5; fixed per hash and stored beside it.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_LENGTH = 32


class PinError(ValueError):
    """A PIN that cannot be accepted, or a PIN file that cannot be read; the message says why."""


def check_pin_format(pin: str) -> None:
    """Raise PinError when ``pin`` is too short, too long or blank-padded."""
    if len(pin) < MIN_PIN_LENGTH:
        raise PinError(f"the PIN must have at least {MIN_PIN_LENGTH} characters (it has {len(pin)})")
    if len(pin) > MAX_PIN_LENGTH:
        raise PinError(f"the PIN must have at most {MAX_PIN_LENGTH} characters")
    if pin != pin.strip():
        raise PinError("the PIN must not start or end with spaces")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=length)


@dataclass(frozen=True)
class PinHash:
    """Stored scrypt hash of a PIN with the parameters it was made with."""

    salt: bytes
    key: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    set_at: float = 0.0

    @classmethod
    def create(cls, pin: str) -> PinHash:
        """Hash a new PIN with a fresh random salt (after checking its length)."""
        check_pin_format(pin)
        salt = secrets.token_bytes(16)
        return cls(salt=salt, key=_derive(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH), set_at=time.time())

    def matches(self, pin: str) -> bool:
        """True when ``pin`` hashes to the stored key (constant-time comparison)."""
        if not 1 <= len(pin) <= MAX_PIN_LENGTH:
            return False
        candidate = _derive(pin, self.salt, self.n, self.r, self.p, len(self.key))
        return hmac.compare_digest(candidate, self.key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "algorithm": "scrypt",
                "n": self.n,
                "r": self.r,
                "p": self.p,
                "salt": self.salt.hex(),
                "key": self.key.hex(),
                "set_at": self.set_at,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, source: Path) -> PinHash:
        try:
            raw = json.loads(text)
            if raw.get("algorithm") != "scrypt":
                raise PinError(f"{source}: unknown algorithm {raw.get('algorithm')!r} (expected scrypt)")
            return cls(
                salt=bytes.fromhex(raw["salt"]),
                key=bytes.fromhex(raw["key"]),
                n=int(raw["n"]),
                r=int(raw["r"]),
                p=int(raw["p"]),
                set_at=float(raw.get("set_at", 0.0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            if isinstance(e, PinError):
                raise
            raise PinError(
                f"{source} is not a valid PIN file ({e}); run `appliance set-pin` to set the PIN again"
            ) from e


class PinStore:
    """Reads and writes the PIN hash file in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / PIN_FILE_NAME

    def is_set(self) -> bool:
        return self.path.is_file()

    def load(self) -> PinHash | None:
        """The stored hash, or None when no PIN has been set yet."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        return PinHash.from_json(text, self.path)

    def set_pin(self, pin: str) -> PinHash:
        """Hash ``pin`` and store it atomically with mode 0600; returns the new hash."""
        new = PinHash.create(pin)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # atomic_write_bytes writes through mkstemp, which creates the file with mode 0600.
        atomic_write_bytes(self.path, (new.to_json() + "\n").encode())
        os.chmod(self.path, 0o600)
        return new

    def verify(self, pin: str) -> bool:
        """True when a PIN is set and ``pin`` matches it."""
        stored = self.load()
        return stored is not None and stored.matches(pin)
