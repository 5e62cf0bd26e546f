"""The runtime's start-up error: raised by any step of ``Runtime.start``; ``appliance run`` prints it."""

from __future__ import annotations

from appliance.errors import ApplianceError


class StartupError(ApplianceError):
    """A runtime that cannot start: what is wrong (``message``) and what to fix (``fix``)."""
