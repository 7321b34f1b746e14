"""Choosing the camera after simulation, when the trajectory is known (``camera.framing=auto``).

The sampler's camera gives the view direction (its rotation: elevation, azimuth and jitter drawn
from the family's ``camera_*`` ranges) and the lens. Framing keeps both and moves the eye: the tight
fit of :mod:`simgen.camera.fit` over every object, as posed in every frame (a few spheres or points
that hold it: :func:`body_spheres`), and the corners of ramps, with ``camera.margin`` of the image
height free around them, no nearer than ``camera.min_distance`` to their centre. With ``camera.motion`` the fit is made in the moving
camera's frame (:mod:`simgen.camera.motion`), so objects stay in view in every frame of the move.
The orthographic side views of the 2-D scenes are refitted to the recorded path (motion does not
apply to them). ``camera.framing=fixed`` keeps the sampler's camera (a motion then moves it as is).

Draws (motion amounts and directions) come from the sample's camera stream
(:data:`simgen.scenes_registry.CAMERA_STREAM`), never from the physics or appearance streams.
"""

from __future__ import annotations

import math

import numpy as np

from simgen.camera.fit import fit_eye, fit_orthographic, half_tans, pose, spheres_in_view, static_anchors
from simgen.camera.motion import Motion, ramp
from simgen.spec import SceneSpec, Trajectory, quat_to_matrix

ORTHO_MARGIN = 0.08  # fraction of the view the 2-D side cameras keep free (as their samplers do)


def body_spheres(obj) -> tuple[np.ndarray, np.ndarray]:
    """Spheres (body-frame centres [P, 3], radii [P]) whose union holds the object as rendered: a
    sphere itself; a capsule's two cap spheres; the corners of a box; two circumscribed 16-gons of a
    cylinder's rims; the convex hull vertices of a mesh (radius 0: points)."""
    s = np.asarray(obj.size, np.float64)
    if obj.shape == "sphere":
        return np.zeros((1, 3)), s[:1]
    if obj.shape == "capsule":
        return np.array([[0.0, 0.0, -s[1]], [0.0, 0.0, s[1]]]), np.full(2, s[0])
    if obj.shape == "box":
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], np.float64)
        return signs * s[:3], np.zeros(8)
    if obj.shape == "cylinder":
        ang = np.arange(16) * (2 * math.pi / 16)
        rim = s[0] / math.cos(math.pi / 16) * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        pts = np.concatenate([np.c_[rim, np.full(16, z)] for z in (-s[1], s[1])])
        return pts, np.zeros(len(pts))
    from scipy.spatial import ConvexHull

    v = np.asarray(obj.mesh.vertices, np.float64)
    v = v[ConvexHull(v).vertices]
    return v, np.zeros(len(v))


def _spheres(spec: SceneSpec, traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Centres [T, K, 3] and radii [K]: spheres holding every object in every frame
    (:func:`body_spheres` moved with the object), then the ramp corners."""
    T = traj.positions.shape[0]
    centres, radii = [], []
    for k, obj in enumerate(spec.objects):
        pts, r = body_spheres(obj)
        rot = quat_to_matrix(traj.quaternions[:, k])  # [T, 3, 3]
        centres.append(np.einsum("tij,pj->tpi", rot, pts) + np.asarray(traj.positions[:, k], np.float64)[:, None])
        radii.append(r)
    anchors = static_anchors(spec.statics)
    centres.append(np.repeat(anchors[None], T, axis=0))
    radii.append(np.zeros(len(anchors)))
    return np.concatenate(centres, axis=1), np.concatenate(radii)


def _back_off(rotation: np.ndarray, eye: np.ndarray, centres: np.ndarray, min_distance: float) -> np.ndarray:
    """The eye moved back along the optical axis until the centre of ``centres`` is ``min_distance`` ahead."""
    flat = centres.reshape(-1, 3)
    mid = 0.5 * (flat.min(axis=0) + flat.max(axis=0))
    ahead = float((mid - eye) @ rotation[:, 2])
    return eye - max(0.0, min_distance - ahead) * rotation[:, 2]


def _fit(rotation, centres, radii, a, b, min_distance):
    T = centres.shape[0]
    eye = fit_eye(rotation, centres.reshape(-1, 3), np.tile(radii, T), a, b)
    return _back_off(rotation, eye, centres, min_distance)


def _draw_motion(cfg, rng: np.random.Generator, frames: int, rotation, eye, centres, a) -> Motion:
    """The motion of this sample: amount and direction drawn from the camera stream."""
    flat = centres.reshape(-1, 3)
    mid = 0.5 * (flat.min(axis=0) + flat.max(axis=0))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if cfg.motion == "orbit":
        amount = math.radians(_sample(cfg.orbit_degrees, rng))
        return Motion("orbit", ramp(frames, sign * amount), pivot=mid)
    if cfg.motion == "dolly":  # forward (in) or back (out) by a fraction of the distance
        distance = float((mid - eye) @ rotation[:, 2])
        return Motion("dolly", ramp(frames, sign * _sample(cfg.dolly_fraction, rng) * distance))
    # pan: turn the way the objects move across the image (a random way when they hardly do)
    amount = math.radians(_sample(cfg.pan_degrees, rng))
    objs = centres.mean(axis=1)  # [T, 3]
    x = (objs - eye) @ rotation[:, 0]
    z = (objs - eye) @ rotation[:, 2]
    du = x[-1] / z[-1] - x[0] / z[0]  # image-plane motion of the objects' mean, in units of f
    if abs(du) > 0.1 * a:
        sign = -1.0 if du > 0 else 1.0  # objects move right: turn right (negative about +z)
    return Motion("pan", ramp(frames, sign * amount))


def _sample(r, rng) -> float:
    return float(r.lo + rng.random() * (r.hi - r.lo))


def frame_scene(spec: SceneSpec, traj: Trajectory, cfg, rng: np.random.Generator) -> None:
    """Set ``spec.camera`` (its pose and, with motion, its per-frame ``trajectory``) for the recorded
    ``traj`` under the ``camera`` config group ``cfg``; ``rng`` is the sample's camera stream."""
    cam = spec.camera
    T = traj.positions.shape[0]
    centres, radii = _spheres(spec, traj)
    rotation = np.asarray(cam.cam_to_world, np.float64)[:3, :3]
    if cam.projection == "orthographic":
        if cfg.framing == "auto" and len(radii):
            depth = float(np.asarray(cam.cam_to_world, np.float64)[:3, 3] @ rotation[:, 2])
            eye, h = fit_orthographic(rotation, depth, centres.reshape(-1, 3), np.tile(radii, T),
                                      cam.width / cam.height, ORTHO_MARGIN)
            cam.cam_to_world, cam.ortho_height = pose(rotation, eye), h
        return
    if len(radii) == 0:
        return
    a, b = half_tans(cam, cfg.margin * cam.height)
    if cfg.framing == "auto":
        eye = _fit(rotation, centres, radii, a, b, cfg.min_distance)
    else:
        eye = np.asarray(cam.cam_to_world, np.float64)[:3, 3]
    if cfg.motion == "static":
        cam.cam_to_world, cam.trajectory = pose(rotation, eye), None
        return
    motion = _draw_motion(cfg, rng, T, rotation, eye, centres, a)
    if cfg.framing == "auto":
        for _ in range(1 if motion.kind != "pan" else 6):  # pan turns about the eye: iterate the fit
            eye = _fit(rotation, motion.relative(centres, rotation, eye), radii, a, b, cfg.min_distance)
        for _ in range(100):  # safety net (pan): back off until every object is in view in every frame
            if spheres_in_view(motion.poses(rotation, eye), centres, radii, a, b).all():
                break
            eye = eye - 0.05 * max(float(np.ptp(centres.reshape(-1, 3), axis=0).max()), 0.1) * rotation[:, 2]
    poses = motion.poses(rotation, eye)
    cam.cam_to_world, cam.trajectory = poses[0], poses
