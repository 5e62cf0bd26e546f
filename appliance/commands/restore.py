"""``appliance restore``: put a backup archive in place of the data directory's database, settings
and PIN hash (the appliance must be stopped; the current data is kept aside)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("restore", help="restore a backup archive into the data directory (stop the appliance first)")
    p.add_argument("archive", type=Path, help="a backup made by `appliance backup` or the panel")
    p.add_argument("--data-dir", type=Path, default=None, help="the appliance's data directory (default storage.data_dir)")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import default_data_dir
    from appliance.store import StoreError
    from appliance.store.backup import restore_backup

    try:
        restored = restore_backup(args.archive, args.data_dir or default_data_dir())
    except StoreError as e:
        raise CommandError(str(e)) from e
    print(restored.sentence())
    return 0
