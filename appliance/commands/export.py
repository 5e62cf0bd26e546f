"""``appliance export``: one stored session with its steps and cue events, as JSON or CSV."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("export", help="print a stored session (steps and cue events) as JSON or CSV")
    p.add_argument("--data-dir", type=Path, default=None, help="the appliance's data directory (default storage.data_dir)")
    p.add_argument("--session", default="last", help="session id, or 'last' (default)")
    p.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default json)")
    p.add_argument("--out", type=Path, default=None, help="write to this file instead of standard output")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from appliance.cli import CommandError
    from appliance.config import atomic_write_text, default_data_dir
    from appliance.store import Store, StoreError

    data_dir = args.data_dir or default_data_dir()
    try:
        with Store(data_dir, readonly=True) as store:  # read-only: works beside a running appliance
            session_id = store.resolve_session(args.session)
            text = store.export_session(session_id, args.format)
    except StoreError as e:
        raise CommandError(str(e)) from e
    if args.out is not None:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0
