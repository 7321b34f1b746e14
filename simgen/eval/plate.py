"""Background plates: a sample's static scene rendered without its objects.

The SceneSpec is rebuilt from the generation config stored in the shard and the row's ``index``
(:func:`simgen.scenes_registry.make_scene`: same seed, floor, ramp, lights, environment). The camera is
taken from the row, which is the truth (``cam_to_world`` per frame, ``intrinsics``, ``projection``),
whatever the sampler drew before any framing step. The objects are dropped and the renderer of the
config (:func:`simgen.render.make_renderer`) draws an empty trajectory: one frame when the camera is
still, every frame when it moves (each as a still camera at that frame's pose, so it does not depend on
the backend's support for camera paths). Nothing here depends on the rendering backend.

The plate matches the GT pixels only when it is rendered by the simgen version (renderer and look)
that made the dataset; :func:`plate_error` measures the match on the GT's first frame.
"""

from __future__ import annotations

import math

import numpy as np
from omegaconf import DictConfig

from simgen.scenes_registry import make_scene, scene_config
from simgen.spec import SceneSpec, Trajectory


_SCENE_CFG: dict[int, tuple[DictConfig, object]] = {}


def scene_from_row(cfg: DictConfig, row: dict) -> SceneSpec:
    """The sample's SceneSpec (objects included) with the row's camera."""
    cached = _SCENE_CFG.get(id(cfg))
    if cached is None or cached[0] is not cfg:  # validating a scene config costs ~0.2 s: once per config
        cached = _SCENE_CFG[id(cfg)] = (cfg, scene_config(cfg.scene))
    spec, _ = make_scene(cfg, int(row["index"]), cached[1])
    set_row_camera(spec, row)
    return spec


def set_row_camera(spec: SceneSpec, row: dict) -> None:
    cam = spec.camera
    K = np.asarray(row["intrinsics"], np.float64).reshape(3, 3)
    c2w = np.asarray(row["cam_to_world"], np.float64).reshape(-1, 4, 4)
    cam.width, cam.height = int(row["width"]), int(row["height"])
    cam.projection = str(row.get("projection") or cam.projection)
    if cam.projection == "orthographic":
        cam.ortho_height = cam.height / K[1, 1]
    else:
        cam.yfov = 2.0 * math.atan(0.5 * cam.height / K[1, 1])
    cam.cam_to_world = c2w[0]
    cam.trajectory = None if camera_is_still(c2w) else c2w


def camera_is_still(c2w: np.ndarray) -> bool:
    return bool(np.allclose(c2w, c2w[:1], atol=1e-6))


def empty_trajectory(frames: int, fps: float, physics_hz: float) -> Trajectory:
    z = lambda *s: np.zeros(s)  # noqa: E731
    return Trajectory(times=np.arange(frames) / fps, positions=z(frames, 0, 3), quaternions=z(frames, 0, 4),
                      linear_velocity=z(frames, 0, 3), angular_velocity=z(frames, 0, 3), mass=z(0), friction=z(0),
                      restitution=z(0), contacts=[], physics_hz=physics_hz, engine="none")


class Renderers:
    """One renderer per render config, created on first use, reused (it holds the GL context)."""

    def __init__(self):
        self._by_key: dict[str, object] = {}

    def get(self, render_cfg):
        from simgen.render import make_renderer

        key = repr(sorted(dict(render_cfg).items()))
        r = self._by_key.get(key)
        if r is None:
            r = self._by_key[key] = make_renderer(render_cfg)
        return r

    def close(self) -> None:
        for r in self._by_key.values():
            r.close()
        self._by_key.clear()


def render_rgb(renderer, spec: SceneSpec, traj: Trajectory) -> np.ndarray:
    """RGB frames of ``traj`` seen by ``spec.camera``; a moving camera (``camera.trajectory``) is rendered
    one frame at a time with that frame's pose as a still camera, so that any backend draws it right."""
    cam = spec.camera
    if cam.trajectory is None:
        return renderer.render(spec, traj, masks=False, depth=False).rgb
    poses, T = np.asarray(cam.trajectory), traj.positions.shape[0]
    frames = []
    try:
        for t in range(T):
            cam.trajectory, cam.cam_to_world, spec.frames = None, poses[t], 1
            one = Trajectory(times=traj.times[t : t + 1], positions=traj.positions[t : t + 1],
                             quaternions=traj.quaternions[t : t + 1], linear_velocity=traj.linear_velocity[t : t + 1],
                             angular_velocity=traj.angular_velocity[t : t + 1], mass=traj.mass,
                             friction=traj.friction, restitution=traj.restitution, contacts=[],
                             physics_hz=traj.physics_hz, engine=traj.engine)
            frames.append(renderer.render(spec, one, masks=False, depth=False).rgb[0])
    finally:
        cam.trajectory, cam.cam_to_world, spec.frames = poses, poses[0], T
    return np.stack(frames)


def render_plate(renderers: Renderers, cfg: DictConfig, row: dict, without: str = "") -> np.ndarray:
    """uint8 [1, H, W, 3] for a still camera, [T, H, W, 3] for a moving one. ``without="key"``: the
    same with the key light (the one whose shadows are drawn) at intensity 0; ``without="ambient"``: with
    no ambient light. The renderer darkens the background under a cast shadow by removing part of the key
    light's share and under an object's contact occlusion part of the ambient's, so these two plates
    span what a shadow can do to each background pixel (:func:`simgen.eval.segment.shadow_like`)."""
    spec = scene_from_row(cfg, row)
    spec.objects = []
    if without == "key" and spec.lights:
        from simgen.render.materials import key_light_index

        spec.lights[key_light_index(spec.lights)].intensity = 0.0
    elif without == "ambient":
        spec.ambient_light = np.zeros(3)
        if spec.environment is not None:
            spec.environment.ambient_sky = np.zeros(3)
            spec.environment.ambient_ground = np.zeros(3)
    frames = 1 if spec.camera.trajectory is None else int(row["num_frames"])
    spec.frames = frames
    traj = empty_trajectory(frames, float(row["fps"]), float(row.get("physics_hz") or 240.0))
    return render_rgb(renderers.get(cfg.render), spec, traj)


def plate_error(frame0: np.ndarray, plate0: np.ndarray, labels0: np.ndarray) -> float:
    """RMS difference (0..255) between the GT's first frame and the plate, away from the objects
    (their masks grown by 3 pixels) and their cast shadows' darkest part; a few units is H.264 noise,
    tens mean the plate does not show the GT's scene (another simgen version or look)."""
    from scipy import ndimage

    away = ~ndimage.binary_dilation(labels0 > 0, iterations=3)
    d = frame0.astype(np.float64) - plate0.astype(np.float64)
    lum = d.mean(axis=-1)
    away &= lum > -12  # leave out shadows (darker than the plate)
    return float(np.sqrt(np.mean(d[away] ** 2))) if away.any() else float("nan")
