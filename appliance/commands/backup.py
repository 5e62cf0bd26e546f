"""``appliance backup``: the database (a consistent snapshot, also while the appliance runs), the
settings and the panel PIN's hash in one archive with a manifest (see appliance/store/backup.py)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("backup", help="back up the database, settings and PIN hash into one .tar.gz (works while the appliance runs)")
    p.add_argument("--data-dir", type=Path, default=None, help="the appliance's data directory (default storage.data_dir)")
    p.add_argument("--config", type=Path, default=None, help="the settings file to include (default DATA_DIR/settings.json)")
    p.add_argument("--out", type=Path, required=True, help="the archive to write, e.g. /media/usb/appliance-backup.tar.gz")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import default_data_dir
    from appliance.store import Store, StoreError
    from appliance.store.backup import PIN_MEMBER, create_backup

    data_dir = args.data_dir or default_data_dir()
    out = args.out
    if out.is_dir():
        raise CommandError(f"--out {out} is a directory; give the archive's file name, e.g. {out / 'appliance-backup.tar.gz'}")
    try:
        with Store(data_dir, readonly=True) as store:  # read-only: beside a running appliance too
            info = create_backup(store, out, settings_path=args.config or data_dir / "settings.json",
                                 pin_path=data_dir / PIN_MEMBER)
    except StoreError as e:
        raise CommandError(str(e)) from e
    print(f"backup {info.path}: {info.counts_text()}, {', '.join(info.members)}; "
          f"{info.bytes / 1e6:.1f} MB in {info.seconds:.1f} s")
    return 0
