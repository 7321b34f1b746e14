"""simgen.eval on the GT itself: segmentation accuracy per family, robustness to cast shadows, verifier
accuracy, and CPU seconds per scored sample next to the CPU seconds it took to generate the sample.

    python benchmarks/bench_eval.py [--n 4] [--families freefall,bounce,...] [--size 256] [--frames 32] [--timing-n 40]

For every family (default config at ``--size`` px, ``--frames`` frames at 16 fps) ``n`` GT videos are
generated with ``python -m simgen`` (its own "videos per CPU-second" is the baseline), then scored twice
as predictions by :func:`simgen.eval.evaluate`:

- **clean**: the GT video decoded and re-encoded (H.264 crf 23): ``pisa_iou`` is then the IoU of
  simgen.eval's plate-based segmentation against the true masks (the renderer's own cast shadows and
  contact occlusion included, which the plate does not show);
- **shadows**: the same with a second, synthetic soft shadow under every object (an ellipse below and to
  the right of its mask, darkening by up to 50 % without changing the colour, Gaussian-blurred edge,
  never on an object), added before the re-encode: a stress test, as it lies over the real shadows and is
  not what the renderer draws.

Printed per family: objects scored, IoU mean and worst object (clean, shadows), the verifier's error on
these near-perfect predictions (``|g_fit - g_true|``, ``|restitution_fit - restitution_true|``,
``|slide_accel_fit - slide_accel_true|``: median / max over objects that have one).

**Speed**: ``--timing-n`` freefall videos (default config) are generated and scored in one
:func:`~simgen.eval.evaluate` call (one process, so the renderer's start-up is paid once, as in a real run);
printed: CPU seconds (``time.process_time``) per scored sample by stage, next to simgen's own CPU seconds per
generated video in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np
from scipy import ndimage

FAMILIES = ["freefall", "bounce", "collide", "throw_horizontal", "throw_parabolic", "ramp_down", "ramp_up",
            "uniform_motion", "parabola", "two_ball_collision"]


def add_shadows(video: np.ndarray, labels: np.ndarray, strength: float = 0.5, soft: float = 1.5) -> np.ndarray:
    """A soft elliptical shadow below-right of every object (light from the upper left), floor only."""
    out = video.astype(np.float32).copy()
    T, H, W = labels.shape
    yy, xx = np.mgrid[:H, :W]
    for t in range(T):
        dark = np.zeros((H, W))
        for k in range(1, int(labels.max()) + 1):
            m = labels[t] == k
            if not m.any():
                continue
            ys, xs = np.nonzero(m)
            r = np.sqrt(m.sum() / np.pi)
            e = ((xx - xs.mean() - 0.6 * r) / (1.2 * r)) ** 2 + ((yy - ys.mean() - 1.2 * r) / (0.6 * r)) ** 2
            dark = np.maximum(dark, np.clip((1.0 - e) * 3, 0, 1))
        dark = ndimage.gaussian_filter(dark, soft)
        dark[labels[t] > 0] = 0
        out[t] *= (1.0 - strength * dark)[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def generate(family: str, n: int, size: int, frames: int, out: str) -> float:
    """Generate; return simgen's own CPU seconds per video."""
    proc = subprocess.run([sys.executable, "-m", "simgen", f"scene={family}", f"n={n}", "workers=1", "seed=5",
                           f"render.width={size}", f"render.height={size}", f"render.frames={frames}",
                           "runner.progress=false", f"out={out}"], capture_output=True, text=True, check=True)
    m = re.search(r"([\d.]+) videos per CPU-second", proc.stdout)
    return 1.0 / float(m.group(1)) if m else float("nan")


def write_predictions(gt: str, folder: str, shadows: bool) -> None:
    from simgen.codecs import encode_video
    from simgen.data import open_dataset

    os.makedirs(folder, exist_ok=True)
    ds = open_dataset(gt, columns=["video", "masks", "fps"])
    for i in range(len(ds)):
        s = ds[i]
        v = add_shadows(s["video"], s["masks"]) if shadows else s["video"]
        with open(os.path.join(folder, f"{s['sample_id']}.mp4"), "wb") as f:
            f.write(encode_video(v, s["fps"], crf=23))


def _err(objs: list[dict], fit: str, true: str) -> str:
    e = np.array([abs(o[fit] - o[true]) for o in objs if np.isfinite(o[fit]) and np.isfinite(o[true])])
    return f"{np.median(e):.2f} / {e.max():.2f} ({len(e)})" if len(e) else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4, help="videos per family")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--timing-n", type=int, default=40, help="freefall videos scored for the speed figure (0: skip)")
    args = ap.parse_args()
    os.environ.setdefault("LP_NUM_THREADS", "0")
    from simgen.eval.evaluate import Options, evaluate

    print(f"simgen.eval on re-encoded GT videos, n={args.n} per family, {args.size} px, {args.frames} frames")
    print("| family | objects | IoU clean mean / worst | IoU shadows mean / worst | |g_fit - g| med / max (n) "
          "| |e_fit - e| | |a_fit - a| |")
    print("|---|---|---|---|---|---|---|")
    iou_all, iou_sh_all = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for fam in args.families.split(","):
            gt = os.path.join(tmp, fam)
            generate(fam, args.n, args.size, args.frames, gt)
            res = {}
            for shadows in (False, True):
                pred = os.path.join(tmp, f"{fam}-pred-{int(shadows)}")
                write_predictions(gt, pred, shadows)
                res[shadows] = evaluate(gt, pred, Options())
            objs = [o for r in res[False].results for o in r.objects]
            iou = [o["pisa_iou"] for o in objs]
            iou_sh = [o["pisa_iou"] for r in res[True].results for o in r.objects]
            iou_all += iou
            iou_sh_all += iou_sh
            print(f"| {fam} | {len(objs)} | {np.mean(iou):.3f} / {np.min(iou):.3f} | {np.mean(iou_sh):.3f} / "
                  f"{np.min(iou_sh):.3f} | {_err(objs, 'g_fit', 'g_true')} | "
                  f"{_err(objs, 'restitution_fit', 'restitution_true')} | "
                  f"{_err(objs, 'slide_accel_fit', 'slide_accel_true')} |", flush=True)
        print(f"\nall: {len(iou_all)} objects, IoU clean {np.mean(iou_all):.3f} (worst {np.min(iou_all):.3f}), "
              f"with shadows {np.mean(iou_sh_all):.3f} (worst {np.min(iou_sh_all):.3f})")
        if args.timing_n:
            gt = os.path.join(tmp, "timing")
            gen = generate("freefall", args.timing_n, args.size, args.frames, gt)
            pred = os.path.join(tmp, "timing-pred")
            write_predictions(gt, pred, False)
            ev = evaluate(gt, pred, Options())
            stages = defaultdict(float)
            for r in ev.results:
                for k, v in r.cpu.items():
                    stages[k] += v
            n = len(ev.results)
            per = ", ".join(f"{k} {v / n:.3f}" for k, v in stages.items())
            print(f"speed, {n} freefall samples at {args.size} px, {args.frames} frames: eval {ev.cpu_s / n:.3f} "
                  f"CPU-s per sample ({per}); generation {gen:.3f} CPU-s per video (same run)")


if __name__ == "__main__":
    main()
