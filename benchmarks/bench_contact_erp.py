"""PyBullet's ``engine.contact_erp``: restitution honesty against penetration recovery.

    python benchmarks/bench_contact_erp.py [--n 24] [--erp 0 0.015 0.03]

For each value: the first apex of ``scene=bounce`` (one sphere) over ``e^2 h0`` on ``--n`` scenes at
240 and 480 Hz (1.0 is exact), and how deep a box sinks into a 20-40 degree ramp while it slides for
0.8 s (the ramp scenes of tests/test_engines_parity.py). Accuracy, not speed: nothing here is timed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from simgen.config import load_config  # noqa: E402
from simgen.engines import make_engine  # noqa: E402
from simgen.scenes_registry import make_scene  # noqa: E402


def apex_ratios(erp: float, hz: int, n: int) -> np.ndarray:
    out = []
    cfg = load_config(["scene=bounce", "scene.max_objects=1", "render.fps=240", "render.frames=480",
                       f"engine.physics_hz={hz}"])
    eng = make_engine("pybullet", physics_hz=hz, contact_erp=erp)
    try:
        for i in range(n):
            spec, _ = make_scene(cfg, i)
            traj = eng.simulate(spec)
            r, e = spec.objects[0].size[0], spec.objects[0].restitution
            z, vz = traj.positions[:, 0, 2] - r, traj.linear_velocity[:, 0, 2]
            apex = [z[t] for t in range(1, len(z)) if vz[t - 1] > 0 >= vz[t]]
            out.append(apex[0] / (z[0] * e * e))
    finally:
        eng.close()
    return np.array(out)


def ramp_sink_mm(erp: float) -> float:
    from test_engines_parity import ramp_scene

    worst = 0.0
    for theta_deg, mu in ((20.0, 0.1), (30.0, 0.3), (35.0, 0.5), (40.0, 0.2)):
        theta = np.radians(theta_deg)
        spec, _ = ramp_scene(theta, mu)
        eng = make_engine("pybullet", physics_hz=spec.physics_hz, contact_erp=erp)
        try:
            traj = eng.simulate(spec)
        finally:
            eng.close()
        normal = np.array([np.sin(theta), 0.0, np.cos(theta)])
        off = (traj.positions[:, 0] - spec.objects[0].position) @ normal
        worst = max(worst, float(-off.min()) * 1000)
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=24, help="bounce scenes per setting")
    ap.add_argument("--erp", type=float, nargs="+", default=[0.0, 0.015, 0.03])
    args = ap.parse_args(argv)
    print(f"first apex / (e^2 h0) over {args.n} bounce scenes (min-max, mean); ramp: deepest sink while sliding 0.8 s")
    print(f"{'contact_erp':>11}  {'240 Hz':>22}  {'480 Hz':>22}  {'ramp sink mm':>12}")
    for erp in args.erp:
        cells = []
        for hz in (240, 480):
            r = apex_ratios(erp, hz, args.n)
            cells.append(f"{r.min():.3f}-{r.max():.3f} ({r.mean():.3f})")
        print(f"{erp:>11g}  {cells[0]:>22}  {cells[1]:>22}  {ramp_sink_mm(erp):>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
