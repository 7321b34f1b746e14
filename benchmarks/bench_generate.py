"""Throughput of the generation pipeline on a fixed freefall workload, next to a TinyRenderer baseline.

    python benchmarks/bench_generate.py [--n 16] [--seed 0] [override ...]

Runs in this one process (one core; Mesa's llvmpipe single-threaded, LP_NUM_THREADS=0) and
reports CPU time, so the figure is "videos per second per core" whatever else the machine does.

1. simgen: shards written exactly as `python -m simgen` writes them (run_shard), at the defaults
   (256x256, 16 fps, 32 frames, RGB + masks + depth), with the CPU time of each stage.
2. baseline, same scenes and trajectories: PyBullet's own getCameraImage (TinyRenderer, RGB +
   depth + segmentation in one call) with the same camera, in place of simgen's renderer; the
   other stages are charged at simgen's measured cost.
Prints videos/s per core for both, the ratio, the render-stage ratio, and peak RSS.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("LP_NUM_THREADS", "0")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np  # noqa: E402


def tiny_renderer_video(p, client, spec, traj) -> float:
    """Render every frame of ``traj`` with TinyRenderer; return the CPU seconds it took."""
    c = client
    p.resetSimulation(physicsClientId=c)
    for st in spec.statics:
        if st.kind == "plane":
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[float(st.size[0]), float(st.size[1]), 0.001],
                                      rgbaColor=[0.6, 0.6, 0.6, 1], physicsClientId=c)
        else:
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=np.asarray(st.size[:3], float).tolist(),
                                      rgbaColor=[0.6, 0.6, 0.6, 1], physicsClientId=c)
        p.createMultiBody(0, -1, vis, np.asarray(st.position, float).tolist(), np.asarray(st.quaternion, float).tolist(),
                          physicsClientId=c)
    bodies = []
    for o in spec.objects:
        s = np.asarray(o.size, float)
        rgba = [*np.asarray(o.color, float).tolist(), 1.0]
        if o.shape == "sphere":
            vis = p.createVisualShape(p.GEOM_SPHERE, radius=float(s[0]), rgbaColor=rgba, physicsClientId=c)
        elif o.shape == "box":
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=s[:3].tolist(), rgbaColor=rgba, physicsClientId=c)
        elif o.shape == "cylinder":
            vis = p.createVisualShape(p.GEOM_CYLINDER, radius=float(s[0]), length=float(2 * s[1]), rgbaColor=rgba,
                                      physicsClientId=c)
        elif o.shape == "capsule":
            vis = p.createVisualShape(p.GEOM_CAPSULE, radius=float(s[0]), length=float(2 * s[1]), rgbaColor=rgba,
                                      physicsClientId=c)
        else:
            vis = p.createVisualShape(p.GEOM_MESH, vertices=o.mesh.vertices.tolist(),
                                      indices=o.mesh.faces.reshape(-1).tolist(), rgbaColor=rgba, physicsClientId=c)
        bodies.append(p.createMultiBody(1.0, -1, vis, [0, 0, 0], physicsClientId=c))
    cam = spec.camera
    gl = np.asarray(cam.cam_to_world) @ np.diag([1.0, -1.0, -1.0, 1.0])
    view = np.linalg.inv(gl).T.reshape(-1).tolist()  # column-major
    proj = p.computeProjectionMatrixFOV(math.degrees(cam.yfov), cam.width / cam.height, cam.znear, cam.zfar)
    t0 = time.process_time()
    for t in range(traj.positions.shape[0]):
        for i, b in enumerate(bodies):
            p.resetBasePositionAndOrientation(b, traj.positions[t, i].tolist(), traj.quaternions[t, i].tolist(),
                                              physicsClientId=c)
        p.getCameraImage(cam.width, cam.height, view, proj, renderer=p.ER_TINY_RENDERER, physicsClientId=c)
    return time.process_time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=16, help="videos (default 16)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("overrides", nargs="*", help="simgen config overrides, e.g. render.width=128")
    args = ap.parse_args(argv)

    from simgen.config import load_config
    from simgen.generate import STAGES
    from simgen.job import prepare, run_shard, worker_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config([f"n={args.n}", f"seed={args.seed}", f"shard_size={args.n}", f"out={tmp}/ds",
                           "runner.progress=false", *args.overrides])
        # warm-up outside the measurement: GL context, shader compilation (once per worker process)
        pipe = worker_pipeline(cfg)
        spec, traj, _ = pipe.simulate(0)
        pipe.renderer.render(spec, traj)
        prepare(cfg, log=lambda *_: None)  # the output folder and manifest that run_shard writes into
        t_wall = time.time()
        res = run_shard(cfg, 0)
        wall = time.time() - t_wall
        cpu = res.cpu
        total = sum(cpu.values())
        size = res.bytes

        # baseline: TinyRenderer on the same scenes and trajectories
        import pybullet as p

        client = p.connect(p.DIRECT)
        tiny = 0.0
        for i in range(args.n):
            spec, traj, _ = pipe.simulate(i)
            tiny += tiny_renderer_video(p, client, spec, traj)
        p.disconnect(client)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n = args.n
    r = cfg.render
    base_total = total - cpu["render"] + tiny
    print(f"simgen generation benchmark: {n} freefall videos, {r.width}x{r.height}, {r.frames} frames @ {r.fps:g} fps, "
          f"RGB + masks + depth, engine={cfg.engine.name}, one process, LP_NUM_THREADS={os.environ.get('LP_NUM_THREADS')}")
    print(f"{'stage':<10}{'CPU s/video':>12}{'share':>8}")
    for s in STAGES:
        print(f"{s:<10}{cpu[s] / n:>12.4f}{100 * cpu[s] / total:>7.0f}%")
    print(f"{'total':<10}{total / n:>12.4f}")
    print()
    print(f"simgen    : {n / total:6.2f} videos/s per core   (render {cpu['render'] / n * 1e3:6.1f} ms/video, "
          f"wall {n / wall:.2f} videos/s on a shared machine)")
    print(f"baseline  : {n / base_total:6.2f} videos/s per core   (TinyRenderer {tiny / n * 1e3:6.1f} ms/video for "
          f"RGB + depth + seg, other stages as simgen)")
    print(f"ratio     : {base_total / total:6.2f}x whole pipeline, {tiny / max(cpu['render'], 1e-9):.2f}x render stage")
    print(f"disk      : {size / n / 1e3:.1f} kB/video")
    print(f"peak RSS  : {peak_mb:.0f} MB (this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
