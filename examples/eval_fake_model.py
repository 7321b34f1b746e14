"""Fake two video "models" and score them with ``python -m simgen.eval``.

    python examples/eval_fake_model.py                  # makes 8 throw_horizontal videos in runs/eval_demo/gt
    python examples/eval_fake_model.py datasets/demo    # or uses yours

The models see the GT's first two frames, as a conditioned video model would, and predict the rest:

- ``repeat``: frame 0 over and over (nothing moves);
- ``constant_velocity``: every object's pixels in frame 0 (cut out with the GT's first mask) moved at the
  pixel velocity between frames 0 and 1, pasted onto the sample's background plate: motion without gravity;
- ``gt_reencoded``: the GT video itself, re-encoded (what a perfect model scores, after one more H.264 encode).

Each is written as ``<sample_id>.mp4`` files (as your model's outputs would be), scored by the CLI into
``<out>/<model>/eval/``, and the main columns are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from simgen.codecs import encode_video
from simgen.eval.groundtruth import GroundTruth
from simgen.eval.plate import Renderers, render_plate
from simgen.eval.tracks import mask_centroids

SHOWN = ["pisa_l2", "pisa_chamfer", "pisa_iou", "physiq_spatiotemporal_iou", "physiq_mse", "centroid_rmse_px",
         "g_fit", "g_fit_gt"]


def repeat(row: dict, plate: np.ndarray) -> np.ndarray:
    return np.repeat(row["video"][:1], len(row["video"]), axis=0)


def constant_velocity(row: dict, plate: np.ndarray) -> np.ndarray:
    video, labels = row["video"], row["masks"]
    T, H, W, _ = video.shape
    N = int(row["num_objects"])
    onehot = labels[:2, None] == np.arange(1, N + 1)[None, :, None, None]
    c = mask_centroids(onehot)  # [2, N, 2]
    vel = np.nan_to_num(c[1] - c[0])  # pixels per frame
    out = np.repeat(plate[:1], T, axis=0)
    for k in range(N):
        ys, xs = np.nonzero(labels[0] == k + 1)
        colours = video[0][ys, xs]
        for t in range(T):
            y = np.rint(ys + vel[k, 1] * t).astype(int)
            x = np.rint(xs + vel[k, 0] * t).astype(int)
            ok = (y >= 0) & (y < H) & (x >= 0) & (x < W)
            out[t][y[ok], x[ok]] = colours[ok]
    return out


def make_gt(path: str) -> None:
    subprocess.run([sys.executable, "-m", "simgen", "scene=throw_horizontal", "n=8", "seed=1", "render.width=192",
                    "render.height=192", "render.fps=24", "render.frames=24", "runner.progress=false", f"out={path}"],
                   check=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gt", nargs="?", help="a simgen dataset [a new one in OUT/gt]")
    p.add_argument("--out", default="runs/eval_demo", help="folder for the predictions and their scores")
    args = p.parse_args()
    gt_path = args.gt or os.path.join(args.out, "gt")
    if args.gt is None and not os.path.exists(gt_path):
        make_gt(gt_path)

    gt = GroundTruth(gt_path)
    renderers = Renderers()
    models = {"repeat": repeat, "constant_velocity": constant_velocity, "gt_reencoded": lambda row, plate: row["video"]}
    try:
        for sid in gt.order:
            row, cfg = gt.row(sid), gt.config(sid)
            plate = render_plate(renderers, cfg, row)
            for name, model in models.items():
                folder = os.path.join(args.out, name)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, f"{sid}.mp4"), "wb") as f:
                    f.write(encode_video(model(row, plate), float(row["fps"]), crf=23))
    finally:
        renderers.close()

    results = {}
    for name in models:
        folder = os.path.join(args.out, name)
        subprocess.run([sys.executable, "-m", "simgen.eval", gt_path, folder, "--quiet", "--timing"], check=True)
        with open(os.path.join(folder, "eval", "summary.json")) as f:
            results[name] = json.load(f)["groups"]["overall"]
    print()
    print("| model | " + " | ".join(SHOWN) + " |")
    print("|---|" + "---|" * len(SHOWN))
    for name, g in results.items():
        print(f"| {name} | " + " | ".join("-" if g[m] is None else f"{g[m]:.4g}" for m in SHOWN) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
