"""Fault injection for the tests: a small real filesystem that fills up, and a database scribbled inside.

``small_disk`` mounts a tmpfs of a given size (the tests run as root in CI and on the dev machine);
where mounting is not permitted the tests that need it skip with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_disk(directory: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``directory`` for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem: {done.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the filesystem holding ``directory`` with one file until the disk is full (or only
    ``leave`` bytes are left); returns the file (delete it to free the space)."""
    filler = directory / "filler.bin"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        while True:
            if leave and os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize <= leave:
                break
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    return filler


def scribble_inner_pages(db: Path, page_size: int = 4096) -> None:
    """Overwrite every page after the first two with a pattern: the header stays intact, so SQLite
    opens the file, but tables and indexes inside are garbage (a damaged SD card)."""
    data = bytearray(db.read_bytes())
    for offset in range(2 * page_size, len(data), page_size):
        data[offset + 8:offset + page_size - 8] = bytes([0x5A]) * (page_size - 16)
    db.write_bytes(bytes(data))


@contextlib.contextmanager
def read_only_copy(directory: Path, fill_with=None) -> Iterator[Path]:
    """A small filesystem on ``directory`` that ``fill_with(directory)`` fills while writable and that
    is then remounted read-only (a card mounted read-only after a fault)."""
    with small_disk(directory, "64m"):
        if fill_with is not None:
            fill_with(directory)
        done = subprocess.run(["mount", "-o", "remount,ro", str(directory)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only: {done.stderr.strip()}")
        yield directory
