"""``appliance set-pin``: set the clinician's panel PIN/passphrase (the recommended way).

Run it on the appliance itself (SSH or console). It prompts twice without echo, or reads one line
from stdin with ``--stdin`` (for provisioning scripts). Only a scrypt hash is stored, in the data
dir, with mode 0600. Setting a new PIN logs out every open panel session.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("set-pin", help="set the clinician's panel PIN/passphrase")
    p.add_argument("--data-dir", type=Path, default=None, help="data directory (default: from config)")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.add_argument("--stdin", action="store_true", help="read the PIN from one line of stdin instead of prompting")
    p.set_defaults(func=run)


def run(args) -> int:
    import getpass
    import sys

    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.web.pin import MIN_PIN_LENGTH, PinError, PinStore, check_pin_format

    data_dir = args.data_dir or load_settings(args.config).storage.data_dir
    if args.stdin:
        line = sys.stdin.readline()
        if not line:
            raise CommandError("--stdin got no line: pipe one line with the PIN, e.g. "
                               "`printf '%s\\n' \"$PIN\" | appliance set-pin --stdin`")
        pin = line.rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to type the PIN on: run it in a terminal, or give --stdin and "
                               "pipe one line with the PIN")
        try:
            pin = getpass.getpass(f"New panel PIN/passphrase (at least {MIN_PIN_LENGTH} characters): ")
            try:
                check_pin_format(pin)
            except PinError as e:
                raise CommandError(str(e)) from e
            repeat = getpass.getpass("Repeat it: ")
        except EOFError as e:  # Ctrl-D, or the terminal went away
            raise CommandError("no PIN was typed (end of input); nothing was changed") from e
        if repeat != pin:
            raise CommandError("the two entries differ; nothing was changed")
    store = PinStore(data_dir)
    try:
        store.set_pin(pin)
    except PinError as e:
        raise CommandError(str(e)) from e
    except OSError as e:
        raise CommandError(f"cannot write {store.path}: {e}") from e
    print(f"panel PIN set (scrypt hash in {store.path})")
    return 0
