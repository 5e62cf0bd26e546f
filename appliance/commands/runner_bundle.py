"""``appliance export-runner`` and ``appliance import-runner``: one runner with all their sessions
as one zip (JSON and CSV inside), to move them to the appliance on another treadmill
(see appliance/store/bundle.py)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("export-runner", help="write one runner with all their sessions to one .zip (JSON and CSV inside)")
    p.add_argument("--data-dir", type=Path, default=None, help="the appliance's data directory (default storage.data_dir)")
    p.add_argument("--runner", required=True, help="the runner's name or id")
    p.add_argument("--out", type=Path, required=True, help="the bundle to write, e.g. alex.zip")
    p.set_defaults(func=run_export)
    p = sub.add_parser("import-runner", help="merge a runner's bundle into this appliance (sessions already here are skipped)")
    p.add_argument("bundle", type=Path, help="a bundle written by `appliance export-runner` or the panel")
    p.add_argument("--data-dir", type=Path, default=None, help="the appliance's data directory (default storage.data_dir)")
    p.set_defaults(func=run_import)


def run_export(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import default_data_dir
    from appliance.store import Store, StoreError
    from appliance.store.bundle import export_runner_bundle, find_runner_id

    try:
        with Store(args.data_dir or default_data_dir(), readonly=True) as store:  # beside a running appliance too
            doc = export_runner_bundle(store, find_runner_id(store, args.runner), args.out)
    except StoreError as e:
        raise CommandError(str(e)) from e
    steps = sum(len(s["steps"]) for s in doc["sessions"])
    print(f"runner {doc['runner']['name']!r}: {len(doc['sessions'])} sessions, {steps} steps written to {args.out}")
    return 0


def run_import(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import default_data_dir
    from appliance.store import Store, StoreError
    from appliance.store.bundle import import_runner_bundle, read_bundle

    try:
        read_bundle(args.bundle)  # a foreign file is refused before the database is opened
        with Store(args.data_dir or default_data_dir()) as store:
            imported = import_runner_bundle(store, args.bundle)
    except StoreError as e:
        raise CommandError(str(e)) from e
    print(imported.sentence())
    return 0
