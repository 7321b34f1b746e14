"""H.264 encoder settings on simgen's own videos: CPU time, bytes and quality per setting, next to
x264's veryfast preset (simgen's default before 0.x) measured in the same run.

    python benchmarks/bench_encode.py [--n 12] [--scene freefall] [--rounds 3] [override ...]

Renders ``n`` default videos once (the renderer's Y/U/V planes, as `python -m simgen` encodes them),
then encodes all of them with every setting, the settings interleaved, ``rounds`` times (a shared
machine's load drifts: only ratios within one run count). Prints per setting: CPU-ms per video
(median of the rounds), kB per video, PSNR of the decoded frames against the rendered RGB (mean
and worst video), and the CPU and size ratios to veryfast.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("LP_NUM_THREADS", "0")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np

SETTINGS = [
    ("veryfast (baseline)", "veryfast", ""),
    ("superfast", "superfast", ""),
    ("ultrafast", "ultrafast", ""),
    ("default: ultrafast + bframes=3:b-adapt=0:cabac=1", None, None),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--scene", default="freefall")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()

    from simgen.codecs import PRESET, X264_PARAMS, decode_video, encode_video, psnr
    from simgen.config import load_config
    from simgen.job import worker_pipeline

    cfg = load_config([f"scene={args.scene}", "out=/tmp/simgen-bench-encode", *args.overrides])
    pipe = worker_pipeline(cfg)
    videos = []
    for i in range(args.n):
        spec, traj, _ = pipe.simulate(i)
        f = pipe.renderer.render(spec, traj, masks=False, depth=False, silhouettes=False, rgb=True)
        videos.append((spec.fps, np.array(f.rgb), np.array(f.yuv420)))
    pipe.close()
    settings = [(name, p or PRESET, X264_PARAMS if x is None else x) for name, p, x in SETTINGS]
    for _, p, x in settings:  # warm-up: codec set-up, first allocations
        encode_video(None, videos[0][0], crf=cfg.render.crf, preset=p, yuv420=videos[0][2], x264_params=x)
    cpu = {s[0]: [] for s in settings}
    size = {}
    for _ in range(args.rounds):
        for name, p, x in settings:
            t = time.process_time()
            out = [encode_video(None, fps, crf=cfg.render.crf, preset=p, yuv420=yuv, x264_params=x) for fps, _, yuv in videos]
            cpu[name].append((time.process_time() - t) / len(videos))
            size[name] = (sum(map(len, out)) / len(videos), out)
    H, W = videos[0][1].shape[1:3]
    print(f"H.264 encode of {args.n} {args.scene} videos ({W}x{H}, {videos[0][1].shape[0]} frames, crf {cfg.render.crf}), "
          f"{args.rounds} interleaved rounds, one thread, CPU time")
    print(f"{'setting':52s} {'CPU-ms/video':>12s} {'kB/video':>9s} {'PSNR mean':>9s} {'worst':>6s} {'CPU vs vf':>9s} {'bytes vs vf':>11s}")
    base = settings[0][0]
    for name, _, _ in settings:
        db = [psnr(decode_video(data), rgb) for (_, rgb, _), data in zip(videos, size[name][1])]
        ms = 1000 * float(np.median(cpu[name]))
        print(f"{name:52s} {ms:12.1f} {size[name][0] / 1000:9.1f} {np.mean(db):9.2f} {min(db):6.2f} "
              f"{np.median(cpu[name]) / np.median(cpu[base]):8.2f}x {size[name][0] / size[base][0]:10.2f}x")


if __name__ == "__main__":
    main()
