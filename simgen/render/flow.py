"""Optical flow from rigid motion: where the surface seen at a pixel of frame t is at frame t + 1.

The batched renderer computes flow in its id pass (shaders/ids.frag: each fragment's surface point,
moved with its object's pose from frame t to t + 1, projected by the camera of frame t + 1; the
background moves only with the camera). This module does the same from the outputs — depth, masks,
poses, camera — in numpy: the pyrender reference uses it, and it documents the convention.

Convention: ``flow[t, v, u] = (du, dv)`` in pixels (du right, dv down) such that the surface at pixel
(u, v) of frame t is at (u + du, v + dv) in frame t + 1; the last frame is zero. Pixels without a
surface (depth 0) move with the camera's rotation (points at infinity).
"""

from __future__ import annotations

import numpy as np

from simgen.spec import CameraSpec


def rigid_flow(depth: np.ndarray, masks: np.ndarray, models: np.ndarray, camera: CameraSpec) -> np.ndarray:
    """float32 [T, H, W, 2] forward flow from metric depth [T, H, W] (0: no surface), object ids
    [T, H, W] (0: static), object poses ``models`` [T, N, 4, 4] (body to world) and the camera."""
    T, H, W = depth.shape
    poses = camera.poses(T)
    w2c = np.linalg.inv(poses)
    k = camera.intrinsics()
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    ortho = camera.projection == "orthographic"
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float64)
    xn, yn = (uu - cx) / fx, (vv - cy) / fy
    out = np.zeros((T, H, W, 2), np.float32)
    for t in range(T - 1):
        d = depth[t].astype(np.float64)
        surf = d > 0
        if ortho:
            pc = np.stack([xn, yn, d], axis=-1)
        else:
            pc = np.stack([xn * d, yn * d, d], axis=-1)
        pw = pc @ poses[t, :3, :3].T + poses[t, :3, 3]
        ids = masks[t].astype(np.int64)
        for obj in np.unique(ids[surf & (ids > 0)]):
            sel = ids == obj
            step = models[t + 1, obj - 1] @ np.linalg.inv(models[t, obj - 1])
            pw[sel] = pw[sel] @ step[:3, :3].T + step[:3, 3]
        q = pw @ w2c[t + 1, :3, :3].T + w2c[t + 1, :3, 3]
        if not ortho:
            # no surface: the direction of the view ray, seen by the next camera's rotation
            ray = np.stack([xn, yn, np.ones_like(xn)], axis=-1) @ poses[t, :3, :3].T
            q = np.where(surf[..., None], q, ray @ w2c[t + 1, :3, :3].T)
            with np.errstate(divide="ignore", invalid="ignore"):
                u1, v1 = fx * q[..., 0] / q[..., 2] + cx, fy * q[..., 1] / q[..., 2] + cy
        else:
            u1, v1 = fx * q[..., 0] + cx, fy * q[..., 1] + cy
            u1, v1 = np.where(surf, u1, uu), np.where(surf, v1, vv)
        out[t, ..., 0] = u1 - uu
        out[t, ..., 1] = v1 - vv
    return out
