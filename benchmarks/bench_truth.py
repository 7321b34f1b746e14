"""Physics truth per family x engine: the worst figure of every check over many samples.

    python benchmarks/bench_truth.py [--n 40] [--seed 0] [--families freefall,bounce] [--engines pybullet,mujoco]

Each sample is built with the default config (256x256, 16 fps, 32 frames, 240 Hz) by the family's
sampler, simulated (no rendering) and audited from its stored float32 ground truth by
:func:`simgen.engines.truth.audit` (see its docstring for what each column measures). Columns:
the worst over the samples, with the limit of the README's engine table; ``imp x-eng`` is the worst
relative difference of the impulse of the same contact event in the two engines on the same scenes,
over the events that begin from the same state (:func:`simgen.engines.truth.impulse_agreement`), with
the number of samples that have such an event in brackets;
``imp depth mm`` the deepest any impact was when the stepper resolved it (the engine's overlap, undone
before anything is recorded; the time of impact aims at 0.2 mm), with the impacts deeper than 1 mm
and all impacts in brackets; ``sim ms`` the mean simulate CPU
time per video.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.engines.truth import audit, impulse_agreement, record
from simgen.scenes_registry import available_scenes, make_scene

# column: (metric, format, limit, label)
COLUMNS = [
    ("penetration_mm", "{:.2f}", 5.0, "pen mm"),
    ("restitution_first", "{:.2%}", 0.03, "e 1st"),
    ("restitution_fast", "{:.2%}", 0.05, "e >1m/s"),
    ("elastic_energy", "{:.3%}", 0.005, "KE el."),
    ("elastic_momentum", "{:.1e}", 1e-4, "p el."),
    ("flight_mm", "{:.3f}", 2.0, "flight mm"),
    ("g_fit", "{:.1e}", 1e-4, "g fit"),
    ("velocity_mm_s", "{:.2f}", 5.0, "v mm/s"),
    ("ramp_accel_g", "{:.4f}", 0.01, "ramp a/g"),
    ("impulse", "{:.2%}", 0.03, "J/m dv"),
    ("quat_flips", "{:.0f}", 0, "q flips"),
    ("double_events", "{:.0f}", 0, "2x ev"),
]


def run(family: str, engine_name: str, n: int, seed: int):
    cfg = load_config([f"scene={family}", f"seed={seed}"])
    eng = make_engine(engine_name, physics_hz=cfg.engine.physics_hz)
    recs, cpu, depth, deep, impacts = [], 0.0, 0.0, 0, 0
    try:
        for i in range(n):
            spec, _ = make_scene(cfg, i)
            t = time.process_time()
            traj = eng.simulate(spec)
            cpu += time.process_time() - t
            recs.append(record(spec, traj))
            stats = traj.extras["stepper"]
            depth, deep, impacts = max(depth, stats["deepest_impact_mm"]), deep + stats["deep_impacts"], impacts + stats["impacts"]
    finally:
        eng.close()
    return recs, cpu / n, (depth, deep, impacts)


def fmt(v: float, f: str, limit: float) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    s = f.format(v)
    return s + ("!" if v > limit else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="samples per family and engine")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", default=",".join(available_scenes()))
    ap.add_argument("--engines", default="pybullet,mujoco")
    args = ap.parse_args()
    engines = args.engines.split(",")
    head = ["family", "engine"] + [c[3] for c in COLUMNS] + ["imp x-eng", "imp depth mm (>1 mm/all)", "sim ms"]
    print(f"# {args.n} samples per family and engine, seed {args.seed}; '!' marks a figure over its limit")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    print("| limit | | " + " | ".join(f.format(lim) if lim else "0" for _, f, lim, _ in COLUMNS) + " | 10% | | |")
    worst_all: dict[str, float] = {}
    for fam in args.families.split(","):
        recs = {}
        for name in engines:
            recs[name], ms, depth = run(fam, name, args.n, args.seed)
            rows = [audit(r) for r in recs[name]]
            cells = []
            for key, f, lim, _ in COLUMNS:
                vals = [r[key] for r in rows if np.isfinite(r[key])]
                v = max(vals) if vals else math.nan
                worst_all[key] = max(worst_all.get(key, -math.inf), v) if vals else worst_all.get(key, math.nan)
                cells.append(fmt(v, f, lim))
            agree = "-"
            if name == engines[-1] and len(engines) == 2:
                vals = [impulse_agreement(a, b) for a, b in zip(recs[engines[0]], recs[engines[1]])]
                vals = [v for v in vals if np.isfinite(v)]
                agree = (fmt(max(vals), "{:.1%}", 0.10) + f" ({len(vals)})") if vals else "- (0)"
            print(f"| {fam} | {name} | " + " | ".join(cells) + f" | {agree} | {depth[0]:.2f} ({depth[1]}/{depth[2]}) | {1000 * ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
