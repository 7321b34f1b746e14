"""PyBullet's ``engine.contact_erp``: how deep resting and sliding bodies sit, against how much the
contacts' position correction disturbs their motion.

    python benchmarks/bench_contact_erp.py [--n 12] [--erp 0.05 0.1 0.2 0.4] [--families ramp_down,ramp_up,freefall]

Impacts never depend on it (the stepper resolves them at their time of impact); what does is the
contacts Bullet holds: a box resting or sliding on the floor or a ramp. For each value, ``--n`` scenes
per family (default config, seed 0) are simulated with PyBullet and audited from their stored data
(:func:`simgen.engines.truth.audit`): the worst penetration (mm), the worst ramp acceleration error
(in g) and the worst stored velocity against central differences of positions (mm/s). Accuracy,
not speed: nothing here is timed.
"""

from __future__ import annotations

import argparse
import math
import sys

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.engines.truth import audit, record
from simgen.scenes_registry import make_scene

METRICS = (("penetration_mm", "pen mm", "{:.2f}"), ("ramp_accel_g", "ramp a/g", "{:.4f}"), ("velocity_mm_s", "v mm/s", "{:.2f}"))


def worst(erp: float, family: str, n: int) -> dict:
    cfg = load_config([f"scene={family}", "seed=0"])
    eng = make_engine("pybullet", physics_hz=cfg.engine.physics_hz, contact_erp=erp)
    out = {m: math.nan for m, _, _ in METRICS}
    try:
        for i in range(n):
            spec, _ = make_scene(cfg, i)
            r = audit(record(spec, eng.simulate(spec)))
            for m, _, _ in METRICS:
                if not math.isnan(r[m]):
                    out[m] = r[m] if math.isnan(out[m]) else max(out[m], r[m])
    finally:
        eng.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="scenes per family and value")
    ap.add_argument("--erp", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.4])
    ap.add_argument("--families", default="ramp_down,ramp_up,freefall")
    args = ap.parse_args(argv)
    families = [f for f in args.families.split(",") if f]
    print(f"# PyBullet, worst over {args.n} scenes per family (seed 0): " + ", ".join(label for _, label, _ in METRICS))
    print("| contact_erp | " + " | ".join(families) + " |")
    print("|---|" + "---|" * len(families))
    for erp in args.erp:
        cells = []
        for fam in families:
            w = worst(erp, fam, args.n)
            cells.append(" / ".join("-" if math.isnan(w[m]) else f.format(w[m]) for m, _, f in METRICS))
        print(f"| {erp:g} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
