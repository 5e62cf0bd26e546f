"""The systemd notify protocol (sd_notify) spoken directly over the ``NOTIFY_SOCKET`` datagram socket.

``Type=notify`` units learn from it that the service is ready (``READY=1``), what it is doing
(``STATUS=...``), that it is alive (``WATCHDOG=1``, within ``WatchdogSec``) and that it is stopping
(``STOPPING=1``). Outside systemd ``NOTIFY_SOCKET`` is unset and every call does nothing.

>>> notifier = SystemdNotifier()
>>> notifier.ready("loop running")
>>> notifier.watchdog()   # from the control loop, while it is healthy
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notify messages to systemd when the process runs under it."""

    def __init__(self, socket_path: str | None = None, watchdog_usec: str | None = None, watchdog_pid: str | None = None):
        env = os.environ
        self.socket_path = socket_path if socket_path is not None else env.get("NOTIFY_SOCKET") or None
        usec = watchdog_usec if watchdog_usec is not None else env.get("WATCHDOG_USEC")
        pid = watchdog_pid if watchdog_pid is not None else env.get("WATCHDOG_PID")
        self.watchdog_interval_s: float | None = None
        if usec and (not pid or int(pid) == os.getpid()):
            self.watchdog_interval_s = int(usec) / 1e6
        self._sock: socket.socket | None = None
        self.sent: int = 0
        self.failures: int = 0

    @property
    def enabled(self) -> bool:
        return self.socket_path is not None

    def _address(self) -> str:
        path = self.socket_path or ""
        # "@name" is an abstract-namespace socket: a leading NUL byte on the wire.
        return "\0" + path[1:] if path.startswith("@") else path

    def send(self, message: str) -> bool:
        """Send one notify message (``KEY=value`` lines); True when it was sent."""
        if not self.enabled:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self._address())
            self.sent += 1
            return True
        except OSError as e:
            # systemd gone (shutdown) or socket unreachable: report once in a while, never crash the loop.
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("systemd notify to %s failed (%d times): %s", self.socket_path, self.failures, e)
            return False

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text.replace(chr(10), ' ')}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1" + (f"\nSTATUS={status}" if status else ""))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
