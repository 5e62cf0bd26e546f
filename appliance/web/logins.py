"""Server-side logins to the panel and the per-client login rate limiter.

A login (``LoginSession``; "session" alone in this code base is a training session) is a random
token (the HttpOnly cookie) mapped to its expiry and its CSRF token (a second, script-readable
cookie that state-changing requests echo back in a header). Logins live in memory: restarting the
appliance logs everyone out, which is the safe direction.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOGIN_COOKIE = "appliance_login"
CSRF_COOKIE = "appliance_csrf"
CSRF_HEADER = "X-CSRF-Token"

IDLE_TIMEOUT_S = 2 * 3600.0  # a clinic day has gaps between patients; two idle hours log out
ABSOLUTE_TIMEOUT_S = 12 * 3600.0
MAX_LOGINS = 64


@dataclass
class LoginSession:
    """One browser's login: its cookie's token, its CSRF token, when it began and was last used."""

    token: str
    csrf_token: str
    created: float
    last_seen: float


class LoginManager:
    """Creates, looks up and ends logins; thread-safe, bounded in number."""

    def __init__(
        self,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        absolute_timeout_s: float = ABSOLUTE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self._clock = clock
        self._logins: dict[str, LoginSession] = {}
        self._lock = threading.Lock()

    def create(self) -> LoginSession:
        """A new login; the least recently used one is dropped when there are too many."""
        now = self._clock()
        login = LoginSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._expire(now)
            if len(self._logins) >= MAX_LOGINS:
                oldest = min(self._logins.values(), key=lambda x: x.last_seen)
                del self._logins[oldest.token]
            self._logins[login.token] = login
        return login

    def get(self, token: str | None) -> LoginSession | None:
        """The login for ``token`` while it lasts (its idle timer refreshed), or None."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            self._expire(now)
            login = self._logins.get(token)
            if login is not None:
                login.last_seen = now
            return login

    def end(self, token: str | None) -> None:
        """Log out the browser holding ``token`` (nothing when it has no login)."""
        with self._lock:
            if token:
                self._logins.pop(token, None)

    def end_all(self) -> None:
        """Log everyone out (after a PIN change)."""
        with self._lock:
            self._logins.clear()

    def _expire(self, now: float) -> None:
        dead = [
            t
            for t, login in self._logins.items()
            if now - login.last_seen > self.idle_timeout_s or now - login.created > self.absolute_timeout_s
        ]
        for t in dead:
            del self._logins[t]


def csrf_matches(login: LoginSession, presented: str | None) -> bool:
    """Constant-time check of the CSRF header against the login's token."""
    return bool(presented) and hmac.compare_digest(presented.encode(), login.csrf_token.encode())


FREE_ATTEMPTS = 3  # failures before any delay
BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0
FORGET_AFTER_S = 3600.0
MAX_TRACKED_CLIENTS = 4096


@dataclass
class _Failures:
    count: int
    last_failure: float


class LoginRateLimiter:
    """Per-client growing delay between failed logins: after 3 failures, 1 s, 2 s, 4 s ... up to 5 min.

    The delay is enforced by refusing attempts (HTTP 429 with Retry-After) until it has passed,
    so no server thread sleeps on behalf of an attacker. A success clears the client's record.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def delay_for(self, failures: int) -> float:
        """Seconds a client must wait after ``failures`` consecutive failures."""
        if failures < FREE_ATTEMPTS:
            return 0.0
        return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (failures - FREE_ATTEMPTS))

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0 when it may try now)."""
        now = self._clock()
        with self._lock:
            f = self._failures.get(client)
            if f is None:
                return 0.0
            return max(0.0, f.last_failure + self.delay_for(f.count) - now)

    def record_failure(self, client: str) -> float:
        """Count a failed attempt; returns the delay now imposed on the client."""
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            f = self._failures.get(client)
            if f is None:
                f = self._failures[client] = _Failures(0, now)
            f.count += 1
            f.last_failure = now
            return self.delay_for(f.count)

    def record_success(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _forget_old(self, now: float) -> None:
        if len(self._failures) < MAX_TRACKED_CLIENTS:
            stale = [c for c, f in self._failures.items() if now - f.last_failure > FORGET_AFTER_S]
        else:  # under a flood of distinct clients, keep the most recent half
            by_age = sorted(self._failures.items(), key=lambda kv: kv[1].last_failure)
            stale = [c for c, _ in by_age[: len(by_age) // 2]]
        for c in stale:
            del self._failures[c]
