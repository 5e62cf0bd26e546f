"""How fast does the pixel test bed render? And what does a landing look like in it?

Renders frames of appliance/sim/treadmill_pixels.py (640x480, default scene: 3 m/s, 170 steps/min,
half-open shutter, noise 3 grey levels) at each frame rate, on one OpenCV thread unless told
otherwise, and prints milliseconds per frame and what the foot stage's tests cost: 200 steps at
30 fps and 60 steps at 120 fps. With ``--sheet PATH`` it also saves a contact sheet: the lower part
of the frames around one near-foot touch, each labelled with its time from the touch and the
landing's events, the sole line marked on the margin.

    .venv/bin/python bench/render_treadmill_pixels.py [--fps 30 120] [--frames 600] [--threads 1]
        [--sheet /tmp/touch.png] [--sheet-fps 60] [--strike heel]
"""

from __future__ import annotations

import argparse
import math
import time

import cv2
import numpy as np

from appliance.sim.treadmill_pixels import PixelScene, TreadmillRender

STEPS_PER_TEST = {30.0: 200, 120.0: 60}


def frames_needed(fps: float, steps: int) -> int:
    return TreadmillRender(PixelScene(fps=fps), steps).n_frames


def time_rendering(fps: float, n_frames: int, strike: str) -> tuple[float, float]:
    """(set-up seconds, milliseconds per frame) for ``n_frames`` frames at ``fps``."""
    steps = max(2, math.ceil(n_frames / fps / (60.0 / 170.0)) + 1)
    start = time.perf_counter()
    render = TreadmillRender(PixelScene(fps=fps, strike=strike), steps)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    rendered = 0
    for _ in render.frames():
        rendered += 1
        if rendered == n_frames:
            break
    return setup, (time.perf_counter() - start) / rendered * 1e3


def contact_sheet(path: str, fps: float, strike: str, columns: int = 4, rows: int = 3) -> None:
    """Save the frames around the first near-foot touch after 1 s as one labelled PNG."""
    render = TreadmillRender(PixelScene(fps=fps, strike=strike, seed=1), 8)
    step = next(s for s in render.truth if s.foot == "near" and s.t_touch > 1.0)
    first = math.floor(step.t_touch * fps) - 3
    wanted = range(first, first + columns * rows)
    frames = {f.index: f for f, _ in render.frames() if f.index in wanted}
    ppm = render.scene.px_per_m
    top = max(int(render.belt_y_px - 0.6 * ppm), 0)
    tiles = [_labelled_tile(frames[i].image[top:], frames[i].t, step, render.belt_y_px - top) for i in wanted]
    grid = [np.hstack(tiles[r * columns:(r + 1) * columns]) for r in range(rows)]
    sheet = np.vstack(grid)
    cv2.imwrite(path, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"contact sheet: {path} ({fps:g} fps, {strike} strike; touch {step.t_touch * 1e3:.1f} ms, "
          f"lock +{(step.t_lock - step.t_touch) * 1e3:.1f} ms, release +{(step.t_release - step.t_touch) * 1e3:.1f} ms, "
          f"touch angle {step.touch_angle_deg:.1f} deg)")


def _labelled_tile(image: np.ndarray, t: float, step, sole_row: float) -> np.ndarray:
    """One frame's crop with a caption bar (time from touch, phase) and sole-line ticks on its edges."""
    tile = cv2.copyMakeBorder(image, 22, 2, 8, 8, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    phase = ("air" if t < step.t_touch else "touch->lock" if t < step.t_lock
             else "locked" if t < step.t_heel_rise else "heel rise" if t < step.t_release else "released")
    caption = f"t-touch {(t - step.t_touch) * 1e3:+6.1f} ms  {phase}"
    cv2.putText(tile, caption, (10, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    y = int(round(sole_row)) + 22
    tile[y, :8] = (255, 0, 0)
    tile[y, -8:] = (255, 0, 0)
    return tile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0, 120.0])
    ap.add_argument("--frames", type=int, default=600, help="frames timed per frame rate")
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (0: OpenCV's default)")
    ap.add_argument("--strike", default="heel", choices=["heel", "flat", "toe"])
    ap.add_argument("--sheet", help="save a contact sheet of frames around a touch to this PNG")
    ap.add_argument("--sheet-fps", type=float, default=60.0)
    args = ap.parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    print(f"640x480, {args.strike} strike, OpenCV threads {cv2.getNumThreads()}")
    per_frame = {}
    for fps in args.fps:
        setup, ms = time_rendering(fps, args.frames, args.strike)
        per_frame[fps] = ms
        print(f"{fps:6g} fps: {ms:6.2f} ms/frame over {args.frames} frames (set-up {setup * 1e3:.0f} ms)")
    total = 0.0
    for fps, steps in STEPS_PER_TEST.items():
        if fps in per_frame:
            n = frames_needed(fps, steps)
            seconds = n * per_frame[fps] / 1e3
            total += seconds
            print(f"{steps} steps at {fps:g} fps: {n} frames, {seconds:.1f} s")
    if total:
        print(f"both: {total:.1f} s")
    if args.sheet:
        contact_sheet(args.sheet, args.sheet_fps, args.strike)


if __name__ == "__main__":
    main()
