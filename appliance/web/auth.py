"""Who may use the panel: PIN login, login cookies, CSRF and the first-visit setup.

Choice for the first PIN on a shared LAN: the recommended path is `appliance set-pin` on the
appliance itself. A first-visit setup from the browser is possible only while no PIN exists *and*
only with a one-time setup code that the appliance writes to its own log at start, in a box, and
again every minute while no PIN is set (the terminal under `./dev run`, journalctl under systemd).
Someone else on the clinic network who merely finds the panel first cannot claim it.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from appliance.web.errors import ApiError
from appliance.web.logins import (
    ABSOLUTE_TIMEOUT_S,
    CSRF_COOKIE,
    CSRF_HEADER,
    LOGIN_COOKIE,
    LoginManager,
    LoginRateLimiter,
    LoginSession,
    csrf_matches,
)
from appliance.web.models import (
    ERROR_RESPONSES,
    AuthStatus,
    ChangePinRequest,
    FieldError,
    LoginRequest,
    OkResponse,
    SetupRequest,
)
from appliance.web.pin import MIN_PIN_LENGTH, PinError, PinStore, check_pin_format

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SETUP_REMINDER_EVERY_S = 60.0  # the box comes again this often while no PIN is set


def runs_as_service() -> bool:
    """True under systemd (its log is the journal), False when started from a terminal (./dev run)."""
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"))


def where_the_setup_code_is() -> str:
    """Where the first-visit page tells a newcomer to look for the one-time setup code."""
    if runs_as_service():
        return ("It is in a box in the appliance's log: run `journalctl -u appliance` on the appliance "
                "(it is repeated every minute until a PIN is set).")
    return ("It is in a box on the terminal where the appliance was started (`./dev run`), repeated every "
            "minute until a PIN is set; under systemd it is in `journalctl -u appliance`.")


def set_pin_command(data_dir: Path) -> str:
    """The command that sets the PIN for this data directory, as the newcomer would type it."""
    if runs_as_service():
        return "sudo -u appliance appliance set-pin --config /var/lib/appliance/settings.json"
    return f".venv/bin/appliance set-pin --data-dir {shlex.quote(str(data_dir))}"


def setup_code_box(code: str, data_dir: Path) -> str:
    """The one-time setup code framed so that it stands out among the log's status lines."""
    lines = [
        "The panel has no PIN yet.",
        f"One-time setup code:  {code}",
        "Open the panel in a browser, enter this code and choose a PIN;",
        "or set it on the appliance (recommended):",
        f"  {set_pin_command(data_dir)}",
    ]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    return "\n".join(["", rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule])


@dataclass
class AuthState:
    """Everything the panel's auth needs, held on app.state.auth."""

    pins: PinStore
    logins: LoginManager = field(default_factory=LoginManager)
    limiter: LoginRateLimiter = field(default_factory=LoginRateLimiter)
    setup_code: str | None = None
    _pin_stamp: tuple[int, int] | None = None

    def pin_file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.pins.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def check_pin_unchanged(self) -> None:
        """Log every browser out when the PIN file changed under us (e.g. `appliance set-pin`)."""
        stamp = self.pin_file_stamp()
        if stamp != self._pin_stamp:
            if self._pin_stamp is not None:
                log.info("panel PIN changed on disk: every browser is logged out")
                self.logins.end_all()
            self._pin_stamp = stamp

    def ensure_setup_code(self) -> None:
        """While no PIN is set, make a one-time setup code and write it to the log, in a box."""
        if self.pins.is_set():
            self.setup_code = None
            return
        if self.setup_code is None:
            self.setup_code = f"{secrets.randbelow(10**8):08d}"
        log.warning("the panel has no PIN yet: the one-time setup code is %s%s",
                    self.setup_code, setup_code_box(self.setup_code, self.pins.path.parent))

    def remind_while_no_pin(self, stop: threading.Event, every_s: float = SETUP_REMINDER_EVERY_S) -> None:
        """Write the setup code's box again every ``every_s`` until a PIN is set or ``stop`` is set,
        so that it is found on a terminal full of status lines (run on its own thread)."""
        while not stop.wait(every_s):
            if self.setup_code is None or self.pins.is_set():
                self.setup_code = None if self.pins.is_set() else self.setup_code
                return
            self.ensure_setup_code()

    def start_setup_reminders(self, stop: threading.Event) -> threading.Thread | None:
        """``remind_while_no_pin`` on a daemon thread while a setup code is waiting; None when a PIN is set."""
        if self.setup_code is None:
            return None
        thread = threading.Thread(target=self.remind_while_no_pin, args=(stop,), name="setup-code-reminder",
                                  daemon=True)
        thread.start()
        return thread


def auth_state(request: Request) -> AuthState:
    return request.app.state.auth


def current_login(request: Request) -> LoginSession | None:
    """The login of this request's browser, or None when it is not logged in."""
    state = auth_state(request)
    state.check_pin_unchanged()
    return state.logins.get(request.cookies.get(LOGIN_COOKIE))


def require_clinician(request: Request) -> LoginSession:
    """Dependency: a logged-in clinician; state-changing methods also need the CSRF header."""
    login = current_login(request)
    if login is None:
        raise HTTPException(401, "login required: POST your PIN to /api/auth/login")
    if request.method not in SAFE_METHODS and not csrf_matches(login, request.headers.get(CSRF_HEADER)):
        raise HTTPException(
            403, f"missing or wrong CSRF token: send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header"
        )
    return login


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_login_cookies(response: Response, login: LoginSession) -> None:
    max_age = int(ABSOLUTE_TIMEOUT_S)
    response.set_cookie(
        LOGIN_COOKIE, login.token, max_age=max_age, httponly=True, samesite="strict", path="/"
    )
    # Readable by the panel's own scripts (it is echoed in a header); useless to another site.
    response.set_cookie(CSRF_COOKIE, login.csrf_token, max_age=max_age, httponly=False, samesite="strict", path="/")


def _status(request: Request, login: LoginSession | None) -> AuthStatus:
    return AuthStatus(
        pin_set=auth_state(request).pins.is_set(),
        logged_in=login is not None,
        public_live_view=request.app.state.controller.settings.panel.public_live_view,
        min_pin_length=MIN_PIN_LENGTH,
        csrf_token=login.csrf_token if login else None,
        setup_code_where=None if auth_state(request).pins.is_set() else where_the_setup_code_is(),
    )


def _pin_refused(field: str, reason: str, status: int = 422) -> ApiError:
    """An error on one PIN field, in a sentence the page shows beside that field."""
    sentence = reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
    return ApiError(status, sentence, [FieldError(field=field, message=reason)])


def _throttle(request: Request) -> None:
    wait = auth_state(request).limiter.retry_after(client_key(request))
    if wait > 0:
        raise HTTPException(
            429,
            f"too many failed attempts: try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )


Clinician = Annotated[LoginSession, Depends(require_clinician)]

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.get("/status", response_model=AuthStatus, summary="Whether a PIN is set and this browser is logged in")
def status(request: Request) -> AuthStatus:
    return _status(request, current_login(request))


@router.post("/login", response_model=AuthStatus, summary="Log in with the clinician's PIN")
def login(body: LoginRequest, request: Request, response: Response) -> AuthStatus:
    state = auth_state(request)
    _throttle(request)
    if not state.pins.is_set():
        raise HTTPException(
            409, "no PIN is set yet: run `appliance set-pin` on the appliance, or use the first-visit setup"
        )
    try:
        ok = state.pins.verify(body.pin)
    except PinError as e:
        raise HTTPException(409, str(e)) from e
    if not ok:
        delay = state.limiter.record_failure(client_key(request))
        extra = f"; next attempt allowed in {math.ceil(delay)} s" if delay else ""
        raise HTTPException(401, "wrong PIN" + extra)
    state.limiter.record_success(client_key(request))
    state.logins.end(request.cookies.get(LOGIN_COOKIE))
    granted = state.logins.create()
    _set_login_cookies(response, granted)
    return _status(request, granted)


@router.post("/setup", response_model=AuthStatus, summary="First visit only: set the PIN with the one-time setup code")
def setup(body: SetupRequest, request: Request, response: Response) -> AuthStatus:
    state = auth_state(request)
    _throttle(request)
    if state.pins.is_set():
        raise HTTPException(409, "a PIN is already set: log in, or change it with `appliance set-pin`")
    expected = state.setup_code or ""
    if not expected or not secrets.compare_digest(body.setup_code.strip().encode(), expected.encode()):
        state.limiter.record_failure(client_key(request))
        raise HTTPException(401, "wrong setup code. " + where_the_setup_code_is())
    try:
        state.pins.set_pin(body.pin)
    except PinError as e:
        raise _pin_refused("body.pin", str(e)) from e
    state.setup_code = None
    state.check_pin_unchanged()
    state.limiter.record_success(client_key(request))
    granted = state.logins.create()
    _set_login_cookies(response, granted)
    return _status(request, granted)


@router.post("/logout", response_model=OkResponse, summary="Log this browser out")
def logout(request: Request, response: Response, login: Clinician) -> OkResponse:
    auth_state(request).logins.end(login.token)
    response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return OkResponse(message="logged out")


@router.post("/pin", response_model=OkResponse, summary="Change the PIN (logs every other browser out)")
def change_pin(
    body: ChangePinRequest, request: Request, response: Response, login: Clinician
) -> OkResponse:
    state = auth_state(request)
    _throttle(request)
    if body.new_pin != body.new_pin_repeat:
        raise _pin_refused("body.new_pin_repeat", "the two new PINs differ: type the same new PIN twice")
    try:
        check_pin_format(body.new_pin)
    except PinError as e:
        raise _pin_refused("body.new_pin", str(e)) from e
    if not state.pins.verify(body.current_pin):
        state.limiter.record_failure(client_key(request))
        # 403, not 401: this browser is still logged in, only the PIN typed is wrong.
        raise _pin_refused("body.current_pin", "the current PIN is wrong", status=403)
    try:
        state.pins.set_pin(body.new_pin)
    except PinError as e:
        raise _pin_refused("body.new_pin", str(e)) from e
    state.check_pin_unchanged()  # logs every browser out, this one too
    state.logins.end_all()
    renewed = state.logins.create()
    _set_login_cookies(response, renewed)
    return OkResponse(message="PIN changed; other browsers were logged out")
