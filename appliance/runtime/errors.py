"""The runtime's start-up error: raised by any step of ``Runtime.start``; ``appliance run`` prints it."""

from __future__ import annotations


class StartupError(Exception):
    """A runtime that cannot start; the message says what to fix."""
