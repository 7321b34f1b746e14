"""Throughput of the generation pipeline, next to a TinyRenderer baseline measured in the same run.

    python benchmarks/bench_generate.py [--n 16] [--seed 0] [--scene freefall] [--engine pybullet]
        [--width 256 --height 256 --frames 32 --fps 16] [--pyrender] [--no-baseline] [--repeat 1]
        [override ...]

Runs in this one process (Mesa's llvmpipe single-threaded, LP_NUM_THREADS=0) and reports CPU time,
so the figures are "per core" whatever else the machine does (a busy machine still slows every
figure; compare ratios measured in one run).

1. simgen: shards written exactly as `python -m simgen` writes them (run_shard), with the CPU time of
   each stage (sample, simulate, render, encode, write) and videos/s per core. Defaults: the
   default freefall video (256x256, 16 fps, 32 frames, RGB + masks + depth written, render.backend=gl
   with shadows and 4x MSAA).
2. baseline, the same scenes and trajectories: PyBullet's own getCameraImage (TinyRenderer: RGB +
   depth + segmentation, no shadows) with the same camera in place of simgen's renderer, its
   outputs turned into masks and metric depth, then encoded (H.264 from RGB, masks, depth) and
   written like simgen's rows (one Parquet writer, the shard writer's settings); sample and
   simulate are charged at simgen's measured cost.
3. ``--pyrender``: the same as 1 with render.backend=pyrender (the reference renderer, no shadows).

Everything is warmed up first (GL context and shaders, codec, Parquet writer: once per worker process)
on the first video; shader variants that only later videos need (another light count, environment,
static casters, object patterns) are compiled when first met, inside the first round.
Prints, per pipeline, CPU-ms per video and stage, videos/s per core, the ratios, disk per video and
the peak RSS of the process; with ``--repeat k``, k rounds of every pipeline (each round's ratio
printed as it ends; the table sums the rounds), since the load of a shared machine drifts; and,
for k > 1, the same figures over rounds 2..k alone (every shader variant of these videos compiled:
the steady state of a long run, where each variant is compiled once per worker process).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("LP_NUM_THREADS", "0")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np


def tiny_renderer_frames(p, client, spec, traj):
    """Every frame of ``traj`` with TinyRenderer, as simgen Frames (RGB, masks, metric depth)."""
    from simgen.render.frames import Frames

    c = client
    p.resetSimulation(physicsClientId=c)
    for st in spec.statics:
        half = [float(st.size[0]), float(st.size[1]), 0.001] if st.kind == "plane" else np.asarray(st.size[:3], float).tolist()
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=[0.6, 0.6, 0.6, 1], physicsClientId=c)
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
    W, H, T = cam.width, cam.height, traj.positions.shape[0]
    gl = np.asarray(cam.cam_to_world) @ np.diag([1.0, -1.0, -1.0, 1.0])
    view = np.linalg.inv(gl).T.reshape(-1).tolist()  # column-major
    proj = p.computeProjectionMatrixFOV(math.degrees(cam.yfov), W / H, cam.znear, cam.zfar)
    rgb = np.empty((T, H, W, 3), np.uint8)
    masks = np.zeros((T, H, W), np.uint8)
    depth = np.empty((T, H, W), np.float32)
    n, f = cam.znear, cam.zfar
    for t in range(T):
        for i, b in enumerate(bodies):
            p.resetBasePositionAndOrientation(b, traj.positions[t, i].tolist(), traj.quaternions[t, i].tolist(),
                                              physicsClientId=c)
        _, _, px, zb, seg = p.getCameraImage(W, H, view, proj, renderer=p.ER_TINY_RENDERER, physicsClientId=c)
        rgb[t] = np.reshape(px, (H, W, 4))[..., :3]
        seg = np.reshape(seg, (H, W))
        for k, b in enumerate(bodies):
            masks[t][seg == b] = k + 1
        zb = np.reshape(zb, (H, W))
        depth[t] = np.where(zb < 1.0, 2.0 * n * f / (f + n - (2.0 * zb - 1.0) * (f - n)), 0.0)
    return Frames(rgb=rgb, masks=masks, depth=depth)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=16, help="videos (default 16)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scene", default="freefall")
    ap.add_argument("--engine", default="pybullet")
    ap.add_argument("--width", type=int)
    ap.add_argument("--height", type=int)
    ap.add_argument("--frames", type=int)
    ap.add_argument("--fps", type=float)
    ap.add_argument("--pyrender", action="store_true", help="also run the pipeline with render.backend=pyrender")
    ap.add_argument("--no-baseline", action="store_true", help="skip the TinyRenderer baseline")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of every pipeline, one after the other (the load of a shared machine drifts: "
                         "each round's ratio is printed, the table sums all rounds)")
    ap.add_argument("overrides", nargs="*", help="simgen config overrides, e.g. render.msaa=1")
    args = ap.parse_args(argv)
    sizes = [f"render.{k}={v}" for k, v in (("width", args.width), ("height", args.height), ("frames", args.frames),
                                            ("fps", args.fps)) if v is not None]
    common = [f"scene={args.scene}", f"engine={args.engine}", *sizes, *args.overrides]

    from simgen.config import load_config
    from simgen.generate import STAGES, build_row
    from simgen.job import prepare, run_shard, worker_pipeline

    def measure(tmp: str, rnd: int) -> dict:
        """One round: every pipeline over the same n videos; stage -> CPU seconds per pipeline."""
        results = {}
        runs = [("simgen", [])] + ([("pyrender", ["render.backend=pyrender"])] if args.pyrender else [])
        for label, extra in runs:
            cfg = load_config([f"n={args.n}", f"seed={args.seed}", f"shard_size={args.n}", f"out={tmp}/{label}{rnd}",
                               "runner.progress=false", *common, *extra])
            # warm-up outside the measurement, once per worker process: GL context and shader
            # compilation, the codec and Parquet writer (first imports, x264 and zstd set-up)
            pipe = worker_pipeline(cfg)
            row = pipe.make_row(0)
            import pyarrow.parquet as pq

            from simgen.schema import rows_to_table

            pq.write_table(rows_to_table([row]), io.BytesIO(), compression=cfg.output.compression,
                           compression_level=cfg.output.compression_level)
            prepare(cfg, log=lambda *_: None)  # the output folder and manifest that run_shard writes into
            t_wall = time.time()
            res = run_shard(cfg, 0)
            results[label] = (cfg, dict(res.cpu), res.bytes, time.time() - t_wall)

        cfg, cpu = results["simgen"][:2]
        if not args.no_baseline:
            # baseline: TinyRenderer on the same scenes and trajectories, encoded and written likewise
            import pyarrow.parquet as pq
            import pybullet as p

            from simgen.schema import SCHEMA, rows_to_table
            from simgen.shards import writer_options

            client = p.connect(p.DIRECT)
            pipe = worker_pipeline(cfg)
            base = {"render": 0.0, "encode": 0.0, "write": 0.0}
            # as simgen.shards.ShardWriter, without its page checksums (as the baseline was always measured)
            options = dict(writer_options(cfg.output.compression, cfg.output.compression_level), write_page_checksum=False)
            writer = pq.ParquetWriter(io.BytesIO(), SCHEMA, **options)
            for i in range(args.n):
                spec, traj, seed = pipe.simulate(i)
                t0 = time.process_time()
                frames = tiny_renderer_frames(p, client, spec, traj)
                t1 = time.process_time()
                row = build_row(cfg, i, seed, spec, traj, frames)
                t2 = time.process_time()
                writer.write_table(rows_to_table([row]))
                t3 = time.process_time()
                base["render"] += t1 - t0
                base["encode"] += t2 - t1
                base["write"] += t3 - t2
            t3 = time.process_time()
            writer.close()
            base["write"] += time.process_time() - t3
            p.disconnect(client)
            base["sample"], base["simulate"] = cpu["sample"], cpu["simulate"]
            results["baseline"] = (cfg, base, None, None)
        return results

    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.repeat):
            rounds.append(measure(tmp, rnd))
            if args.repeat > 1 and "baseline" in rounds[-1]:
                tot = {k: sum(v[1].values()) for k, v in rounds[-1].items()}
                print(f"round {rnd + 1}: simgen {tot['simgen'] / args.n * 1e3:.1f} CPU-ms/video "
                      f"(render {rounds[-1]['simgen'][1]['render'] / args.n * 1e3:.1f}), baseline "
                      f"{tot['baseline'] / args.n * 1e3:.1f}: {tot['baseline'] / tot['simgen']:.2f}x", flush=True)
    # the figures below sum every round (n x repeat videos per pipeline)
    results = {}
    for lab in rounds[0]:
        cpu_sum = {s: sum(r[lab][1][s] for r in rounds) for s in rounds[0][lab][1]}
        size = None if rounds[0][lab][2] is None else sum(r[lab][2] for r in rounds)
        wall = None if rounds[0][lab][3] is None else sum(r[lab][3] for r in rounds)
        results[lab] = (rounds[0][lab][0], cpu_sum, size, wall)
    cfg, cpu = results["simgen"][0], results["simgen"][1]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n = args.n * args.repeat
    r = cfg.render
    print(f"simgen generation benchmark: {n} {args.scene} videos ({args.repeat} x {args.n}), {r.width}x{r.height}, {r.frames} frames @ {r.fps:g} fps, "
          f"engine={cfg.engine.name}, one process, LP_NUM_THREADS={os.environ.get('LP_NUM_THREADS')}")
    print(f"simgen: render.backend={r.backend}, shadows={r.shadows}, msaa={r.msaa}, flow={r.flow}; "
          f"RGB + masks + depth ({r.depth_dtype}) written, H.264 crf {r.crf} {r.preset}")
    labels = [k for k in ("simgen", "pyrender", "baseline") if k in results]
    print(f"{'stage':<10}" + "".join(f"{lab + ' CPU-ms':>18}" for lab in labels))
    totals = {lab: sum(results[lab][1].values()) for lab in labels}
    for s in STAGES:
        print(f"{s:<10}" + "".join(f"{results[lab][1][s] / n * 1e3:>18.1f}" for lab in labels))
    print(f"{'total':<10}" + "".join(f"{totals[lab] / n * 1e3:>18.1f}" for lab in labels))
    print()
    for lab in labels:
        extra = ""
        if results[lab][2] is not None:
            extra = f", {results[lab][2] / n / 1e3:.1f} kB/video on disk, wall {n / results[lab][3]:.2f} videos/s"
        print(f"{lab:<9}: {n / totals[lab]:6.2f} videos/s per core (render {results[lab][1]['render'] / n * 1e3:6.1f} "
              f"CPU-ms/video{extra})")
    if "baseline" in results:
        print(f"ratio    : {totals['baseline'] / totals['simgen']:6.2f}x whole pipeline vs the TinyRenderer path, "
              f"{results['baseline'][1]['render'] / max(cpu['render'], 1e-9):.2f}x render stage")
    if "pyrender" in results:
        print(f"ratio    : {totals['pyrender'] / totals['simgen']:6.2f}x whole pipeline vs render.backend=pyrender, "
              f"{results['pyrender'][1]['render'] / max(cpu['render'], 1e-9):.2f}x render stage")
    if args.repeat > 1:
        later = rounds[1:]
        m = args.n * len(later)
        tot = {lab: sum(sum(r[lab][1].values()) for r in later) for lab in labels}
        render = {lab: sum(r[lab][1]["render"] for r in later) for lab in labels}
        line = ", ".join(f"{lab} render {render[lab] / m * 1e3:.1f} / total {tot[lab] / m * 1e3:.1f}" for lab in labels)
        print(f"rounds 2-{args.repeat} (shaders compiled): {line} CPU-ms/video")
        if "baseline" in tot:
            print(f"ratio    : {tot['baseline'] / tot['simgen']:6.2f}x whole pipeline vs the TinyRenderer path, "
                  f"{render['baseline'] / max(render['simgen'], 1e-9):.2f}x render stage (rounds 2-{args.repeat})")
    print(f"peak RSS : {peak_mb:.0f} MB (this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
