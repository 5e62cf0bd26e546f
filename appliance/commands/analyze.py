"""``appliance analyze CLIP --out DIR``: poses and gait metrics of a recorded clip."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("analyze", help="analyse a clip: landmarks, gait report, overlay, plots")
    p.add_argument("clip", type=Path, help="video file")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="real seconds per clip second (e.g. 0.125 for 240 fps played at 30 fps)")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.add_argument("--model-dir", type=Path, default=None, help="pose model directory")
    p.add_argument("--threads", type=int, default=None, help="inference threads")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument("--as-live", action="store_true",
                   help="measure exactly as the live appliance does: without the clip's first contacts, "
                        "made before the belt line settled")
    p.add_argument("--no-feet", action="store_true",
                   help="time the contacts and read their angles by the per-frame pose landmarks alone, without "
                        "the foot stage and the heavy model's look (to compare)")
    p.add_argument("--frontal", action="store_true",
                   help="the clip is filmed from behind (or in front of) the runner: measure the frontal plane "
                        "(pelvic drop, hip adduction, knee projection angle, step width) instead of the side view's")
    p.add_argument("--view", choices=("auto", "rear", "front"), default="auto",
                   help="with --frontal: where the camera is (auto: from the pose model's depth of nose and ears)")
    p.set_defaults(func=run)


def run(args) -> int:
    from appliance.analysis import analyze_clip
    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.pose.engine import PoseEngine
    from appliance.pose.heavy import HeavyPose
    from appliance.pose.model_files import ModelError
    from appliance.sources.base import SourceError

    if not args.time_scale > 0:
        raise CommandError("--time-scale must be a positive number of real seconds per clip second")
    settings = load_settings(args.config)
    pose = settings.pose
    if args.model_dir:
        pose.model_dir = args.model_dir
    if args.threads:
        pose.threads = args.threads
    feet = settings.gait.foot_stage and not args.no_feet
    heavy = None
    if feet and settings.gait.heavy_look:
        try:
            heavy = HeavyPose(pose.model_dir, threads=pose.threads)
        except ModelError as e:
            print(f"warning: {e}; the contacts' angles come from the per-frame model", file=sys.stderr)
    if args.frontal:
        return _frontal(args, pose)
    try:
        engine = PoseEngine.from_settings(pose)
        report = analyze_clip(args.clip, args.out, engine, args.time_scale, args.max_frames,
                              gait_settings=settings.gait, replay_warm_up=not args.as_live, feet=feet, heavy=heavy)
    except (ModelError, SourceError) as e:
        raise CommandError(str(e)) from e
    n = len(report.get("steps", []))
    print(f"{report['frames']} frames, pose on {report['frames_with_pose']}, {n} steps, "
          f"direction {report.get('direction')}, cadence {report.get('cadence_spm')} spm -> {args.out}")
    if report.get("cadence_source") != "trunk rhythm":
        gait = settings.gait
        print(f"warning: the trunk shows no running rhythm between {gait.min_cadence_spm:.0f} and "
              f"{gait.max_cadence_spm:.0f} steps/min at this time scale ({args.time_scale:g}), so the cadence "
              "comes from the contacts alone; if the clip is slow motion, give --time-scale (real seconds per "
              "clip second, e.g. 0.125 for 240 fps played at 30 fps)")
    if report.get("strike_unsteady"):
        spread = report["flat_foot_reference"]["spread_deg"]
        print(f"warning: the foot angle in mid-stance varies by {spread:.0f} deg between steps (a flat foot: a few); "
              "the pose model does not place the feet steadily in this clip, so strike angles are that uncertain")
    return 0


def _frontal(args, pose_settings) -> int:
    """``--frontal``: the frontal measures of a clip filmed from behind or in front."""
    from appliance.cli import CommandError
    from appliance.frontal.analyze import analyze_frontal
    from appliance.pose.engine import PoseEngine
    from appliance.pose.model_files import ModelError
    from appliance.sources.base import SourceError

    try:
        engine = PoseEngine.from_settings(pose_settings)
        report = analyze_frontal(args.clip, args.out, engine, args.view, args.time_scale, args.max_frames)
    except (ModelError, SourceError) as e:
        raise CommandError(str(e)) from e
    summary = report["summary"]
    print(f"{report['frames']} frames, pose on {report['frames_with_pose']}, {summary['steps']} stances, "
          f"view {report['view']} ({report['view_from']}) -> {args.out}")
    for side in ("left", "right"):
        s = summary[side]
        if s["steps"]:
            print(f"  {side}: pelvic drop {s['pelvic_drop_deg']:.1f} deg, hip adduction {s['hip_adduction_deg']:.1f} deg, "
                  f"knee projection {s['knee_fppa_deg']:.1f} deg, foot {s['foot_lateral_hw']:.2f} hip widths "
                  f"from the midline ({s['steps']} stances)")
    if report["side_view_suspected"]:
        print(f"warning: the hips are {report['hips_apart_leg_lengths']:.2f} leg lengths apart in the image (from behind "
              "or in front about 0.2): this looks like a side view; analyse it without --frontal")
    elif report["slow_motion_suspected"]:
        print(f"warning: {report['cadence_spm']:.0f} steps per minute of clip time is faster than anyone runs: the clip "
              "looks like slow motion; give --time-scale (real seconds per clip second, e.g. 0.125 for 240 fps played at 30)")
    return 0
