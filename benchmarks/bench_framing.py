"""Framing per scene family: how many object-frames show none of the object, and how tall the
objects' mask boxes are, with the camera framed after simulation (default) and the sampler's camera
(``camera.framing=fixed``), measured in the same run on rendered masks.

    python benchmarks/bench_framing.py [--n 40] [--size 256] [--families freefall,...] [overrides...]

Printed per family and framing: videos, object-frames, the share with no visible pixel, and the
10th / 50th / 90th percentile of the mask box height in pixels (scaled to a 256-px frame). Then the
CPU-ms per sample of drawing the scene (physics and appearance) and of framing, and of one floor
texture per kind (``--cost-only`` prints only these).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("LP_NUM_THREADS", "0")

from simgen.camera.stats import measure_framing  # noqa: E402
from simgen.scenes_registry import available_scenes  # noqa: E402


def sampling_cost(family: str, n: int, size: int) -> tuple[float, float]:
    """CPU-ms per sample of make_scene (physics + appearance draws) and of frame_camera."""
    from simgen.camera import frame_camera
    from simgen.config import load_config
    from simgen.engines import make_engine
    from simgen.scenes_registry import make_scene, scene_config

    cfg = load_config([f"scene={family}", f"render.width={size}", f"render.height={size}"])
    scfg = scene_config(cfg.scene)
    eng = make_engine("pybullet", physics_hz=cfg.engine.physics_hz)
    make_scene(cfg, 10**6, scfg)  # warm caches (noise fields, textures)
    t_sample = t_frame = 0.0
    for i in range(n):
        t0 = time.process_time()
        spec, seed = make_scene(cfg, i, scfg)
        t_sample += time.process_time() - t0
        traj = eng.simulate(spec)
        t0 = time.process_time()
        frame_camera(spec, traj, cfg.camera, seed)
        t_frame += time.process_time() - t0
    eng.close()
    return 1000 * t_sample / n, 1000 * t_frame / n


def floor_cost(n: int = 50) -> dict[str, float]:
    """CPU-ms of one floor texture per kind (caches warm), median of ``n``."""
    import numpy as np

    from simgen.appearance.floors import FLOOR_KINDS, floor_texture

    gen = np.random.default_rng(0)
    out = {}
    for kind in FLOOR_KINDS:
        floor_texture(gen, kind)
        times = []
        for _ in range(n):
            t0 = time.process_time()
            floor_texture(gen, kind)
            times.append(time.process_time() - t0)
        out[kind] = 1000 * float(np.median(times))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="videos per family and framing")
    ap.add_argument("--size", type=int, default=256, help="render width and height")
    ap.add_argument("--families", default=",".join(available_scenes()))
    ap.add_argument("--no-fixed", action="store_true", help="skip the camera.framing=fixed baseline")
    ap.add_argument("--cost-only", action="store_true", help="print only the CPU costs (no rendering)")
    args, extra = ap.parse_known_args()
    if not args.cost_only:
        framing_table(args, extra)
    print(f"\n{'family':<20} {'sample CPU-ms':>14} {'frame CPU-ms':>13}")
    for fam in args.families.split(","):
        s, f = sampling_cost(fam, min(args.n, 20), args.size)
        print(f"{fam:<20} {s:>14.1f} {f:>13.2f}", flush=True)
    print("\nfloor texture CPU-ms (median of 50): " + ", ".join(f"{k} {v:.1f}" for k, v in floor_cost().items()))


def framing_table(args, extra: list[str]) -> None:
    print(f"n={args.n} videos per family and framing, {args.size}x{args.size}, defaults + {extra or 'nothing'}")
    print(f"{'family':<20} {'framing':<7} {'obj-frames':>10} {'empty %':>8} {'box p10':>8} {'p50':>6} {'p90':>6}")
    for fam in args.families.split(","):
        for framing in ("auto",) + (() if args.no_fixed else ("fixed",)):
            st = measure_framing([f"scene={fam}", f"camera.framing={framing}", f"render.width={args.size}",
                                  f"render.height={args.size}", *extra], args.n)
            p = st.percentiles()
            print(f"{fam:<20} {framing:<7} {st.object_frames:>10} {100 * st.empty_share:>8.1f} {p[0]:>8.0f} {p[1]:>6.0f} {p[2]:>6.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
