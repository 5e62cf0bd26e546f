"""The panel's web server: ``appliance.web``'s app served by uvicorn on its own thread.

``PanelServer.start`` checks the address first (uvicorn itself only exits its thread on a bad one),
then waits until the server listens, so that a panel that cannot listen stops the start-up with the
reason before any session can start.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from pathlib import Path

from appliance.runtime.controller import ApplianceController
from appliance.runtime.errors import StartupError


def check_panel_address(host: str, port: int) -> None:
    """Refuse a panel address that does not resolve or cannot be bound, with the reason (uvicorn
    itself only exits its thread)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise StartupError(f"the panel's address {host!r} does not resolve ({getattr(e, 'strerror', None) or e}); "
                           "set --host or panel.host to an address of this machine (0.0.0.0: all)") from e
    if port == 0:
        return
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as e:
            why = "the port is in use by another program" if e.errno == errno.EADDRINUSE else e.strerror
            raise StartupError(f"the panel cannot listen on {host}:{port} ({why}); set --port or panel.port, "
                               "or stop the other program") from e


class PanelServer:
    """The panel served on ``host:port`` for ``controller``; ``url`` once it listens."""

    def __init__(self, controller: ApplianceController, data_dir: Path, host: str, port: int):
        self.controller = controller
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.url: str | None = None
        self.app = None
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve the panel; raises ``StartupError`` when it cannot listen within 10 s."""
        import uvicorn

        from appliance.web.app import create_app

        host, port = self.host, self.port
        check_panel_address(host, port)
        self.app = create_app(self.controller, self.data_dir)
        # No forwarded header is trusted (no proxy stands in front of the panel): uvicorn would take
        # the client's address from X-Forwarded-For sent over loopback, and a local process or an
        # SSH tunnel could then rotate it past the login throttle.
        config = uvicorn.Config(self.app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=1, proxy_headers=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="panel", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise StartupError(f"the panel cannot listen on {host}:{port} (in use? set --port or panel.port)")
        bound = server.servers[0].sockets[0].getsockname()
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._server, self._thread = server, thread

    def stop_accepting(self) -> None:
        """Tell the panel's requests that the appliance stops, and the server to exit."""
        if self.app is not None:
            self.app.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)
