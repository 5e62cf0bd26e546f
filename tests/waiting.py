"""Waiting in tests for something another thread (the loop, the writer, a server) makes true."""

from __future__ import annotations

import time


def wait_for(condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition()`` every 50 ms until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
