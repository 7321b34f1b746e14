"""Camera matrices for OpenGL, and projection of points into OpenCV pixels.

The projection and view matrices follow pyrender's formulas operation for operation (float64, then
float32 on upload), so both backends rasterise the same triangles at the same positions.
"""

from __future__ import annotations

import numpy as np

from simgen.spec import CameraSpec

CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])  # OpenCV camera axes -> OpenGL camera axes


def gl_projection(cam: CameraSpec) -> np.ndarray:
    """4x4 OpenGL projection (pyrender's PerspectiveCamera / OrthographicCamera at the image size)."""
    n, f = cam.znear, cam.zfar
    P = np.zeros((4, 4))
    if cam.projection == "orthographic":
        ymag = cam.ortho_height / 2.0
        xmag = cam.width / cam.height * ymag
        P[0][0] = 1.0 / xmag
        P[1][1] = 1.0 / ymag
        P[2][2] = 2.0 / (n - f)
        P[2][3] = (f + n) / (n - f)
        P[3][3] = 1.0
        return P
    a = cam.width / cam.height
    t = np.tan(cam.yfov / 2.0)
    P[0][0] = 1.0 / (a * t)
    P[1][1] = 1.0 / t
    P[3][2] = -1.0
    P[2][2] = (f + n) / (n - f)
    P[2][3] = (2 * f * n) / (n - f)
    return P


def gl_views(poses: np.ndarray) -> np.ndarray:
    """OpenGL view matrices [T, 4, 4] of OpenCV cam_to_world poses [T, 4, 4] (pyrender: inv(pose))."""
    if len(poses) > 1 and (poses == poses[0]).all():  # a static camera: one inverse
        return np.repeat(np.linalg.inv(poses[0] @ CV_TO_GL)[None], len(poses), axis=0)
    return np.stack([np.linalg.inv(p @ CV_TO_GL) for p in poses])


def project(points: np.ndarray, w2c: np.ndarray, cam: CameraSpec) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV pixel coordinates [..., 2] and depth [...] of world points [T, ..., 3] seen by the
    cameras w2c [T, 4, 4] (one per leading index)."""
    p = np.asarray(points, np.float64)
    shape = p.shape
    flat = p.reshape(shape[0], -1, 3)
    pc = flat @ np.swapaxes(w2c[:, :3, :3], 1, 2) + w2c[:, None, :3, 3]  # batched matmul: einsum is slower
    k = cam.intrinsics()
    z = pc[..., 2]
    if cam.projection == "orthographic":
        xy = pc[..., :2]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = pc[..., :2] / z[..., None]
    uv = xy * np.array([k[0, 0], k[1, 1]]) + np.array([k[0, 2], k[1, 2]])
    return uv.reshape(shape[:-1] + (2,)), z.reshape(shape[:-1])


def camera_records(cam: CameraSpec, poses: np.ndarray) -> np.ndarray:
    """Per-frame camera records for the shaders: float32 [T, 3, 4, 4] = (GL view, OpenCV cam_to_world,
    its inverse), each column-major as GLSL reads it."""
    views = gl_views(poses)
    w2c = np.linalg.inv(poses)  # numpy inverts each matrix on its own: the same values as one by one
    rec = np.stack([views, poses, w2c], axis=1).astype(np.float32)
    return np.ascontiguousarray(rec.transpose(0, 1, 3, 2))  # row-major numpy -> column-major GLSL
