"""Simulate cost per video of both engines, next to the bare engine stepping the same scenes.

    python benchmarks/bench_engines.py [--n 12] [--families freefall,...] [--repeat 3]

For every scene family (defaults of its config: 16 fps, 32 frames, 240 Hz) the same ``n`` SceneSpecs
run in both engines. Printed per family and engine, in CPU ms per video (``time.process_time``, the
best of ``--repeat`` runs of each scene, the runs interleaved):

- ``simulate``: ``Engine.simulate`` (the event-driven stepper of :mod:`simgen.engines.stepping`);
- ``bare``: the baseline, measured in the same run: the engine's own world for the scene stepped
  straight through (``stepSimulation`` / ``mj_step``) with one state read per frame, no stepper, no
  contact queries (what the engines cost before the stepper, without its truth);
- per video: impacts resolved, single steps (contact queries every step) and the share of steps run
  in batches without queries;
- PyBullet-MuJoCo drift: the largest distance between the engines' positions before the first
  contact, and after it (median and worst over the videos).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.scenes_registry import available_scenes, make_scene


def bare(engine, spec) -> None:
    """The engine's world for ``spec`` stepped with no stepper: one read per frame."""
    k = engine.steps_per_frame(spec)
    if engine.name == "pybullet":
        from simgen.engines.pybullet import _BulletWorld

        w = _BulletWorld(engine, spec)
        for _ in range(spec.frames - 1):
            for _ in range(k):
                w.p.stepSimulation(physicsClientId=w.c)
            w.read()
    else:
        from simgen.engines.mujoco import _MuJoCoWorld

        w = _MuJoCoWorld(engine, spec)
        for _ in range(spec.frames - 1):
            w.mj.mj_step(w.m, w.d, nstep=k)
            w._changed()
            w.read()


def timed(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def compare(family: str, n: int, repeat: int, engines: dict) -> dict:
    cfg = load_config([f"scene={family}"])
    names = list(engines)
    cpu = {(e, kind): 0.0 for e in names for kind in ("sim", "bare")}
    stats = {e: {"impacts": 0, "steps": 0, "quiet_steps": 0, "toi_steps": 0} for e in names}
    pre, post = [], []
    for i in range(n):
        spec, _ = make_scene(cfg, i)
        trajs = {}
        for e, eng in engines.items():
            trajs[e] = eng.simulate(spec)
            cpu[(e, "sim")] += timed(lambda: eng.simulate(spec), repeat)
            cpu[(e, "bare")] += timed(lambda: bare(eng, spec), repeat)
            for key in stats[e]:
                stats[e][key] += trajs[e].extras["stepper"].get(key, 0)
        a, b = trajs["pybullet"], trajs["mujoco"]
        k = len(spec.objects)
        onsets = np.r_[a.first_contact_frame(k), b.first_contact_frame(k)]
        fc = np.nanmin(onsets) if np.isfinite(onsets).any() else np.nan
        cut = int(np.floor(fc)) + 1 if np.isfinite(fc) else spec.frames  # frames up to the first contact
        d = np.linalg.norm(a.positions - b.positions, axis=-1).max(axis=1)
        pre.append(d[:cut].max())
        if cut < spec.frames:
            post.append(d[cut:].max())
    row = {"family": family, "n": n, "pre_max_mm": 1000 * max(pre),
           "post_med_mm": 1000 * float(np.median(post)) if post else float("nan"),
           "post_max_mm": 1000 * float(np.max(post)) if post else float("nan")}
    for e in names:
        s = stats[e]
        total = s["steps"] + s["quiet_steps"]
        row[e] = {"sim": 1000 * cpu[(e, "sim")] / n, "bare": 1000 * cpu[(e, "bare")] / n,
                  "impacts": s["impacts"] / n, "single": s["steps"] / n, "batched": s["quiet_steps"] / max(total, 1)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="SceneSpecs per family")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scene and engine (the best counts)")
    ap.add_argument("--families", default="", help="comma-separated; default: every available family")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f] or available_scenes()
    engines = {"pybullet": make_engine("pybullet"), "mujoco": make_engine("mujoco")}
    spec, _ = make_scene(load_config(["scene=freefall"]), 0)
    for e in engines.values():  # warm up
        e.simulate(spec)
    print(f"# CPU ms per video ({args.n} SceneSpecs per family, defaults: 16 fps, 32 frames, 240 Hz; best of "
          f"{args.repeat}); bare = the engine stepping the same scene alone, same run")
    print("| family | engine | simulate ms | bare ms | x bare | impacts | single steps | batched | "
          "PB-MJ pre-contact mm | post-contact mm median (worst) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for f in families:
        r = compare(f, args.n, args.repeat, engines)
        for e in engines:
            c = r[e]
            drift = (f"{r['pre_max_mm']:.1e} | {r['post_med_mm']:.1f} ({r['post_max_mm']:.1f})"
                     if e == "mujoco" else " | ")
            print(f"| {f} | {e} | {c['sim']:.1f} | {c['bare']:.1f} | {c['sim'] / c['bare']:.1f} | {c['impacts']:.1f} | "
                  f"{c['single']:.0f} | {c['batched']:.0%} | {drift} |", flush=True)
    for e in engines.values():
        e.close()


if __name__ == "__main__":
    main()
