"""``appliance run``: the main job (camera -> pose -> gait -> coach -> audio/lights, store, panel)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run the appliance: control loop, sessions, store and panel",
        description="Run the appliance. Without a camera (--source auto) it runs the embedded default: a "
        "simulated runner, mock GPIO, audio into a WAV file under the data dir and a demo session.",
    )
    p.add_argument("--source", default=None,
                   help="auto (Pi camera, webcam, else the simulated runner), sim, picamera, webcam:N or "
                        "video:PATH (default: camera.source from the config)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="stop cleanly after this many seconds (tests, demos)")
    p.add_argument("--host", default=None, help="panel address (default panel.host; 0.0.0.0 on the appliance)")
    p.add_argument("--port", type=int, default=None, help="panel port (default panel.port; 0 picks a free one)")
    p.add_argument("--data-dir", type=Path, default=None, help="database, prompts and audio (default storage.data_dir)")
    p.add_argument("--config", type=Path, default=None,
                   help="settings file (JSON); the panel saves changes to it (default DATA_DIR/settings.json)")
    p.add_argument("--speed", type=float, default=None,
                   help="simulated runner only: simulated seconds per wall second (default 1; 6 for the demo)")
    p.add_argument("--demo", action=argparse.BooleanOptionalAction, default=None,
                   help="start a short demo session by itself (default: only on the embedded default)")
    p.add_argument("--replay", choices=("realtime", "fast"), default="realtime",
                   help="video files: at the clip's own rate like a camera (frames dropped when inference "
                        "cannot keep up), or every frame as fast as possible")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="video files: real seconds per clip second (e.g. 0.125 for 240 fps played at 30 fps)")
    p.add_argument("--no-panel", action="store_true", help="do not serve the panel")
    p.set_defaults(func=run)


def run(args) -> int:
    import logging
    import signal
    import threading

    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.runtime.app import RunOptions, Runtime

    log = logging.getLogger("appliance.run")
    if args.speed is not None and not args.speed > 0:
        raise CommandError("--speed must be a positive number (simulated seconds per wall second)")
    if args.duration is not None and not args.duration > 0:
        raise CommandError("--duration must be a positive number of seconds")
    if not args.time_scale > 0:
        raise CommandError("--time-scale must be a positive number of real seconds per clip second")
    settings = load_settings(args.config if args.config is not None else _default_config(args.data_dir))
    source = args.source or settings.camera.source
    if args.speed is not None and source not in ("sim", "auto"):
        raise CommandError("--speed applies to the simulated runner only (--source sim or auto without a camera)")
    options = RunOptions(
        source=source, data_dir=args.data_dir, config_path=args.config, host=args.host, port=args.port,
        speed=args.speed, demo=args.demo, replay=args.replay, time_scale=args.time_scale, panel=not args.no_panel,
    )
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runtime = Runtime(settings, options)
    try:
        runtime.start()
    except BaseException:  # a StartupError reaches the user as every ApplianceError does (cli.main)
        runtime.shutdown()
        raise
    print(runtime.describe(), flush=True)
    try:
        status = runtime.run(args.duration, stop)
    finally:
        runtime.shutdown()
    return status


def _default_config(data_dir: Path | None) -> Path | None:
    """DATA_DIR/settings.json when it exists (the panel saves there when no --config is given)."""
    from appliance.config import default_data_dir

    path = (data_dir or default_data_dir()) / "settings.json"
    return path if path.exists() else None
