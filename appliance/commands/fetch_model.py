"""``appliance fetch-model``: download and verify the BlazePose GHUM full model files."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("fetch-model", help="download and verify the pose model (BlazePose GHUM full)")
    p.add_argument("--model-dir", type=Path, default=None, help="where to store it (default: from config)")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.add_argument("--index-url", default=None, help="PEP 691 simple index (default: PyPI)")
    p.add_argument("--wheel", type=Path, default=None, help="a mediapipe 0.10.14 wheel already on disk")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.pose.model_files import ModelError, fetch_models

    model_dir = args.model_dir or load_settings(args.config).pose.model_dir
    try:
        paths = fetch_models(model_dir, index_url=args.index_url, wheel=args.wheel)
    except (ModelError, OSError) as e:
        raise CommandError(str(e)) from e
    for p in paths.values():
        print(f"ok {p}")
    return 0
