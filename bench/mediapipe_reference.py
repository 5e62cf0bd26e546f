"""Run the reference implementation (mediapipe 0.10.14 ``solutions.pose``, model_complexity=1) on a clip.

Runs in its own virtualenv (see bench/reference_env.sh) because mediapipe pins numpy<2 and pulls
opencv-contrib; the appliance never imports it. Writes an .npz with arrays ``t`` [N] and
``landmarks`` [N, 33, 4] (x px, y px, z, visibility; NaN where no pose) and ``ms`` [N], the
per-frame time of ``Pose.process`` alone (decoding excluded).

    bench/.venv-reference/bin/python bench/mediapipe_reference.py CLIP --out ref.npz
"""

import argparse
import time

import av
import mediapipe as mp
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("clip")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-frames", type=int, default=0)
    ap.add_argument("--no-smoothing", action="store_true", help="smooth_landmarks=False")
    ap.add_argument("--static", action="store_true", help="static_image_mode=True: the detector on every frame, no tracking")
    args = ap.parse_args()

    container = av.open(args.clip)
    stream = container.streams.video[0]
    ts, lms, ms = [], [], []
    with mp.solutions.pose.Pose(
        static_image_mode=args.static, model_complexity=1, smooth_landmarks=not args.no_smoothing
    ) as pose:
        for i, frame in enumerate(container.decode(stream)):
            if args.max_frames and i >= args.max_frames:
                break
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            t0 = time.perf_counter()
            res = pose.process(rgb)
            ms.append((time.perf_counter() - t0) * 1000)
            ts.append(float(frame.pts * stream.time_base))
            out = np.full((33, 4), np.nan, np.float32)
            if res.pose_landmarks:
                for j, lm in enumerate(res.pose_landmarks.landmark):
                    out[j] = (lm.x * w, lm.y * h, lm.z * w, lm.visibility)
            lms.append(out)
    t = np.asarray(ts)
    np.savez(args.out, t=t - t[0], landmarks=np.stack(lms), ms=np.asarray(ms))
    print(f"{len(ts)} frames, pose on {np.mean([not np.isnan(x[0, 0]) for x in lms]) * 100:.1f} %, "
          f"median {np.median(ms):.2f} ms/frame")


if __name__ == "__main__":
    main()
