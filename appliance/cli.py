"""The ``appliance`` command: every subcommand lives in its own module under appliance/commands/.

Each module there defines ``register(subparsers)`` which adds its parser and sets ``func``; the
heavy imports happen inside ``func`` so that ``appliance --help`` stays instant.

Any ``ApplianceError`` (``appliance.errors``: a camera, the store, a model file, the settings...)
ends the command with one line, ``appliance COMMAND: error: MESSAGE; fix: FIX``, and exit status 1,
the shape the panel and ``appliance selftest`` show it in too.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from appliance import __version__, commands
from appliance.errors import ApplianceError


class CommandError(ApplianceError):
    """A failure of a command's arguments or state the user can fix; printed as one line without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description="Treadmill-side running-retraining appliance")
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"appliance.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ApplianceError as e:
        print(f"appliance {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a file the command needs cannot be used: the system's reason is the message
        print(f"appliance {args.command}: error: {e}; check that path, its permissions and the free space on its disk",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
