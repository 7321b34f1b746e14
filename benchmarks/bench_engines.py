"""PyBullet vs MuJoCo on the same SceneSpecs: simulate CPU time per video, and how far the two drift.

    python benchmarks/bench_engines.py [--n 20] [--frames 32] [--families freefall,...]

For every scene family in ``available_scenes()`` (defaults of its config), the same ``n`` SceneSpecs run
in both engines. Printed per family: CPU seconds per video (``time.process_time``, this process), the
largest position difference before the first contact (either engine's), and the drift after it
(median and max over videos of the largest COM distance, and at the last frame).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.scenes_registry import available_scenes, make_scene


def compare(family: str, n: int, frames: int, engines: dict, extra: tuple = (), label: str = "") -> dict:
    cfg = load_config([f"scene={family}", f"render.frames={frames}", "render.width=64", "render.height=64", *extra])
    cpu = {k: 0.0 for k in engines}
    pre, post_max, post_last, first = [], [], [], []
    for i in range(n):
        spec, _ = make_scene(cfg, i)
        trajs = {}
        for name, eng in engines.items():
            t0 = time.process_time()
            trajs[name] = eng.simulate(spec)
            cpu[name] += time.process_time() - t0
        a, b = trajs["pybullet"], trajs["mujoco"]
        k = len(spec.objects)
        onsets = np.r_[a.first_contact_frame(k), b.first_contact_frame(k)]
        fc = np.nanmin(onsets) if np.isfinite(onsets).any() else np.nan  # nan: no contact in the clip
        cut = int(np.floor(fc)) if np.isfinite(fc) else spec.frames
        d = np.linalg.norm(a.positions - b.positions, axis=-1).max(axis=1)  # [T] worst object
        pre.append(d[:cut].max() if cut > 0 else 0.0)
        if cut < spec.frames:
            post_max.append(d[cut:].max())
            post_last.append(d[-1])
            first.append(fc)
    return {
        "family": label or family,
        "n": n,
        "cpu_pb": cpu["pybullet"] / n,
        "cpu_mj": cpu["mujoco"] / n,
        "pre_max_mm": 1000 * max(pre),
        "post_med_mm": 1000 * float(np.median(post_max)) if post_max else float("nan"),
        "post_max_mm": 1000 * float(np.max(post_max)) if post_max else float("nan"),
        "last_med_mm": 1000 * float(np.median(post_last)) if post_last else float("nan"),
        "first_contact": float(np.median(first)) if first else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="SceneSpecs per family")
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--families", default="", help="comma-separated; default: every available family")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f] or available_scenes()
    engines = {"pybullet": make_engine("pybullet"), "mujoco": make_engine("mujoco")}
    # warm both (MuJoCo calibrates its restitution table once per physics rate and gravity)
    spec, _ = make_scene(load_config(["scene=freefall", "render.frames=4"]), 0)
    for e in engines.values():
        e.simulate(spec)
    rows = [compare(f, args.n, args.frames, engines) for f in families]
    if "freefall" in families:  # round objects only: how much of the drift is tumbling of edged shapes
        rows.append(compare("freefall", args.n, args.frames, engines, ("scene.shapes=[sphere]", "scene.max_objects=1"), "freefall/1ball"))
    print(f"simulate CPU per video and PyBullet-MuJoCo drift ({args.n} SceneSpecs/family, {args.frames} frames, defaults)")
    hdr = (f"{'family':<14}{'pybullet s':>11}{'mujoco s':>10}{'ratio':>7}{'pre-contact max mm':>20}"
           f"{'post max mm (median)':>22}{'post max mm (worst)':>21}{'last frame mm (median)':>24}")
    print(hdr)
    for r in rows:
        print(f"{r['family']:<14}{r['cpu_pb']:>11.4f}{r['cpu_mj']:>10.4f}{r['cpu_mj'] / r['cpu_pb']:>7.1f}"
              f"{r['pre_max_mm']:>20.2e}{r['post_med_mm']:>22.1f}{r['post_max_mm']:>21.1f}{r['last_med_mm']:>24.1f}")
    for e in engines.values():
        e.close()


if __name__ == "__main__":
    main()
