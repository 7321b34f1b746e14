"""One sample end to end: sample a SceneSpec, simulate, render, encode, build the row.

A :class:`Pipeline` holds the per-process state (engine client, GL context) and is created once per
worker process; :func:`Pipeline.make_row` depends only on ``(config, index)``.
"""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

import simgen
from simgen.appearance.record import appearance_cells
from simgen.camera import frame_camera
from simgen.codecs import encode_video, pack
from simgen.engines import make_engine
from simgen.engines.geometry import collision_vertices
from simgen.scenes_registry import make_scene, scene_config, scene_module
from simgen.schema import params_cells
from simgen.spec import SceneSpec, Trajectory, project_trajectory
from simgen.timing import StageTimer

STAGES = ("sample", "simulate", "render", "encode", "write")


class Pipeline(StageTimer):
    def __init__(self, cfg: DictConfig, render: bool = True):
        super().__init__()  # self.cpu: CPU seconds per stage (this process)
        self.cfg = cfg
        self.scene_cfg = scene_config(cfg.scene)
        eng = cfg.engine
        self.engine = make_engine(eng.name, **{k: v for k, v in eng.items() if k != "name"})
        self.renderer = None
        if render:
            from simgen.render import make_renderer

            self.renderer = make_renderer(cfg.render)

    def close(self) -> None:
        self.engine.close()
        if self.renderer is not None:
            self.renderer.close()

    def simulate(self, index: int) -> tuple[SceneSpec, Trajectory, int]:
        with self.timed("sample"):
            spec, seed = make_scene(self.cfg, index, self.scene_cfg)
        with self.timed("simulate"):
            traj = self.engine.simulate(spec)
        with self.timed("sample"):  # the camera is chosen once the trajectory is known
            frame_camera(spec, traj, self.cfg.camera, seed)
        # optional family hook: post-simulation facts in the caption ("... and bounces twice")
        hook = getattr(scene_module(self.scene_cfg.name), "finalize_caption", None)
        if callable(hook):
            spec.caption = hook(spec, traj)
        return spec, traj, seed

    def make_row(self, index: int) -> dict:
        cfg = self.cfg
        spec, traj, seed = self.simulate(index)
        with self.timed("render"):
            frames = self.renderer.render(spec, traj, masks=cfg.render.masks, depth=cfg.render.depth,
                                          silhouettes=bool(cfg.render.masks), flow=bool(cfg.render.get("flow", False)),
                                          rgb=False)
        with self.timed("encode"):
            row = build_row(cfg, index, seed, spec, traj, frames)
        return row


def mask_stats(masks: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and object: visible pixel count [T, N] and bbox [T, N, 4] as (x0, y0, x1, y1) in
    pixels, inclusive; -1 where the object is not visible."""
    if masks is None:
        T = 0
        return np.zeros((T, n), np.int32), np.full((T, n, 4), -1.0, np.float32)
    T, H, W = masks.shape
    counts = np.zeros((T, n), np.int32)
    boxes = np.full((T, n, 4), -1.0, np.float32)
    # objects cover little of a frame: look at each object only inside the rectangle every object
    # of the frame lies in (the whole-video comparisons per object cost twice as much)
    rows, cols = masks.max(axis=2), masks.max(axis=1)  # [T, H], [T, W]: ids > 0 where any object
    for t in range(T):
        ys, xs = np.flatnonzero(rows[t]), np.flatnonzero(cols[t])
        if not len(ys):
            continue
        y0, x0 = int(ys[0]), int(xs[0])
        sub = masks[t, y0:ys[-1] + 1, x0:xs[-1] + 1]
        for k in range(n):
            eq = sub == k + 1
            yy = np.flatnonzero(eq.any(axis=1))
            if not len(yy):
                continue
            xx = np.flatnonzero(eq.any(axis=0))
            counts[t, k] = np.count_nonzero(eq)
            boxes[t, k] = (x0 + xx[0], y0 + yy[0], x0 + xx[-1], y0 + yy[-1])
    return counts, boxes


def finite_acceleration(times: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Linear acceleration [T, N, 3] from the recorded velocities: central differences
    (v[t+1] - v[t-1]) / (t[t+1] - t[t-1]) inside, one-sided at the first and last frame. Over an
    impact it shows the velocity jump spread over two frames (it is a measurement, not a force)."""
    v = np.asarray(velocity, np.float64)
    t = np.asarray(times, np.float64)
    if v.shape[0] < 2:
        return np.zeros_like(v, dtype=np.float32)
    return np.gradient(v, t, axis=0, edge_order=1).astype(np.float32)


def visible_fraction(counts: np.ndarray, unoccluded: np.ndarray | None) -> np.ndarray:
    """visible pixels / pixels the object would cover alone inside the image; 0 where it covers none
    (wholly out of frame or behind the camera); NaN where the silhouettes were not computed."""
    counts = np.asarray(counts, np.float64)
    if unoccluded is None:
        return np.full(counts.shape, np.nan, np.float32)
    un = np.asarray(unoccluded, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(un > 0, np.minimum(counts / np.maximum(un, 1.0), 1.0), 0.0)
    frac[un < 0] = np.nan
    return frac.astype(np.float32)


def build_row(cfg: DictConfig, index: int, seed: int, spec: SceneSpec, traj: Trajectory, frames) -> dict:
    T, N = traj.positions.shape[:2]
    H, W = spec.camera.height, spec.camera.width
    video = encode_video(frames.rgb, spec.fps, crf=cfg.render.crf, preset=cfg.render.preset, x264_params=cfg.render.x264_params,
                         yuv420=getattr(frames, "yuv420", None))
    depth_dtype = cfg.render.depth_dtype
    uv, _ = project_trajectory(traj.positions, spec.camera)  # [T, N, 2], each frame with its camera
    counts, boxes = mask_stats(frames.masks, N)
    c2w = spec.camera.poses(T).astype(np.float32).reshape(T, 16)
    objs = spec.objects
    return {
        "sample_id": f"{spec.family}-{cfg.seed}-{index:08d}",
        "index": int(index),
        "scene": spec.family,
        "engine": traj.engine,
        "seed": int(seed),
        "run_seed": int(cfg.seed),
        "split": spec.split,
        "caption": spec.caption,
        "tags": list(spec.tags),
        "num_frames": T,
        "height": H,
        "width": W,
        "num_objects": N,
        "fps": float(spec.fps),
        "physics_hz": float(traj.physics_hz),
        "video": video,
        "video_codec": "h264",
        "masks": pack(frames.masks, np.uint8) if frames.masks is not None else None,
        "depth": pack(frames.depth, depth_dtype) if frames.depth is not None else None,
        "depth_dtype": depth_dtype if frames.depth is not None else None,
        "flow": pack(frames.flow, np.float16) if getattr(frames, "flow", None) is not None else None,
        "times": np.asarray(traj.times, np.float32),
        "positions": traj.positions,
        "quaternions": traj.quaternions,
        "linear_velocity": traj.linear_velocity,
        "angular_velocity": traj.angular_velocity,
        "centroid_2d": uv,
        "bbox_2d": boxes if frames.masks is not None else np.full((T, N, 4), -1.0, np.float32),
        "visible_pixels": list(counts) if frames.masks is not None else [np.zeros(N, np.int32)] * T,
        "visible_fraction": visible_fraction(counts, getattr(frames, "unoccluded", None))
        if frames.masks is not None else np.full((T, N), np.nan, np.float32),
        "linear_acceleration": finite_acceleration(traj.times, traj.linear_velocity),
        "mass": np.asarray(traj.mass, np.float32),
        "friction": np.asarray(traj.friction, np.float32),
        "restitution": np.asarray(traj.restitution, np.float32),
        "inertia": [np.asarray(o.inertia if o.inertia is not None else np.full(3, np.nan), np.float32) for o in objs],
        "object_shape": [o.shape for o in objs],
        "object_size": [np.asarray(o.size, np.float32) for o in objs],
        "object_color": [np.asarray(o.color, np.float32) for o in objs],
        "object_color_name": [o.color_name for o in objs],
        "object_vertices": [collision_vertices(o).astype(np.float32).tolist() for o in objs],
        "first_contact_frame": traj.first_contact_frame(N),
        "contacts": [
            {
                "frame": c.frame,
                "body_a": c.body_a,
                "body_b": c.body_b,
                "position": np.asarray(c.position, np.float32),
                "normal": np.asarray(c.normal, np.float32),
                "impulse": c.impulse,
            }
            for c in traj.contacts
        ],
        "intrinsics": spec.camera.intrinsics().astype(np.float32).reshape(9),
        "cam_to_world": list(c2w),
        "projection": spec.camera.projection,
        "gravity": np.asarray(spec.gravity, np.float32),
        "params": params_cells(spec.params),
        **appearance_cells(spec, cfg.camera.motion),
    }


def file_metadata(cfg: DictConfig, config_hash: str, shard: int, start: int, stop: int) -> dict:
    from omegaconf import OmegaConf

    return {
        "simgen_version": simgen.__version__,
        "schema_version": simgen.SCHEMA_VERSION,
        "config_hash": config_hash,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "engine": cfg.engine.name,
        "scene": cfg.scene.name,
        "shard": shard,
        "start": start,
        "stop": stop,
    }
