"""Camera geometry for framing: poses, the tight fit of a fixed-orientation camera around a set of
spheres, and the check that spheres lie inside the image.

The fit is closed form. For a camera with rotation ``R`` (columns: camera x right, y down, z forward,
OpenCV) a sphere (centre p, radius r) lies wholly inside the image, with a margin, when it is on the
inner side of the four planes through the eye that bound the view: with q = R^T p and e = R^T eye,
``e_x + a e_z <= q_x + a q_z - r sqrt(1 + a^2)`` (left), the mirror image for the right edge, and the
same in y with b (``a``, ``b``: tangents of the half field of view, shrunk by the margin). Each edge
gives one linear bound on the eye; the eye that goes furthest forward (objects largest) while meeting
all four is ``e_z = min((A + B) / 2a, (C + D) / 2b)`` with ``e_x = (A - B) / 2``, ``e_y = (C - D) / 2``,
where A, B, C, D are the smallest right-hand sides over all spheres (objects centred on the free axis).
"""

from __future__ import annotations

import numpy as np

from simgen.spec import CameraSpec, StaticSpec, quat_to_matrix

QUANTUM = 0.02  # m: edge bounds are rounded down to this, so mm differences (engines) give one camera


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """cam_to_world (4x4) in the OpenCV convention (x right, y down, z forward) looking at target."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


def pose(rotation: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """4x4 cam_to_world from a rotation [3, 3] (or [T, 3, 3]) and an eye [3] (or [T, 3])."""
    rotation, eye = np.asarray(rotation, np.float64), np.asarray(eye, np.float64)
    out = np.zeros(rotation.shape[:-2] + (4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = eye
    out[..., 3, 3] = 1.0
    return out


def half_tans(camera: CameraSpec, margin_px: float) -> tuple[float, float]:
    """Tangents of the half field of view in x and y, shrunk by ``margin_px`` on every side."""
    k = camera.intrinsics()
    return (0.5 * camera.width - margin_px) / k[0, 0], (0.5 * camera.height - margin_px) / k[1, 1]


def fit_eye(rotation: np.ndarray, centres: np.ndarray, radii: np.ndarray, a: float, b: float,
            quantum: float = QUANTUM) -> np.ndarray:
    """The eye (world) of a camera with ``rotation`` that holds every sphere inside the image and is as
    far forward as that allows (see the module docstring). ``centres`` [K, 3], ``radii`` [K]."""
    q = np.asarray(centres, np.float64).reshape(-1, 3) @ rotation  # rows: R^T p
    r = np.asarray(radii, np.float64).reshape(-1)
    sa, sb = np.hypot(1.0, a), np.hypot(1.0, b)
    bounds = np.array([
        (q[:, 0] + a * q[:, 2] - r * sa).min(), (-q[:, 0] + a * q[:, 2] - r * sa).min(),
        (q[:, 1] + b * q[:, 2] - r * sb).min(), (-q[:, 1] + b * q[:, 2] - r * sb).min(),
    ])
    if quantum > 0:
        bounds = np.floor(bounds / quantum) * quantum
    A, B, C, D = bounds
    e = np.array([(A - B) / 2.0, (C - D) / 2.0, min((A + B) / (2.0 * a), (C + D) / (2.0 * b))])
    return rotation @ e


def fit_orthographic(rotation: np.ndarray, eye_depth: float, centres: np.ndarray, radii: np.ndarray,
                     aspect: float, margin: float) -> tuple[np.ndarray, float]:
    """(eye, ortho_height) of an orthographic camera with ``rotation`` whose view holds every sphere
    with ``margin`` (fraction of the view) to spare; the eye keeps its depth ``eye_depth`` (R^T eye)_z."""
    q = np.asarray(centres, np.float64).reshape(-1, 3) @ rotation
    r = np.asarray(radii, np.float64).reshape(-1)
    lo, hi = (q[:, :2] - r[:, None]).min(axis=0), (q[:, :2] + r[:, None]).max(axis=0)
    h = max(hi[1] - lo[1], (hi[0] - lo[0]) / aspect) / (1.0 - 2.0 * margin)
    c = 0.5 * (lo + hi)
    return rotation @ np.array([c[0], c[1], eye_depth]), float(h)


def spheres_in_view(poses: np.ndarray, centres: np.ndarray, radii: np.ndarray, a: float, b: float) -> np.ndarray:
    """bool [T, K]: sphere k at frame t (``centres`` [T, K, 3], ``radii`` [K]) lies wholly inside the
    view of perspective pose ``poses[t]`` (half tangents ``a``, ``b``; see :func:`half_tans`)."""
    R, eye = poses[:, :3, :3], poses[:, :3, 3]
    pc = np.einsum("tji,tkj->tki", R, np.asarray(centres, np.float64) - eye[:, None, :])  # R^T (p - eye)
    r = np.asarray(radii, np.float64)[None, :]
    sa, sb = np.hypot(1.0, a), np.hypot(1.0, b)
    x, y, z = pc[..., 0], pc[..., 1], pc[..., 2]
    return ((x + a * z >= r * sa - 1e-9) & (-x + a * z >= r * sa - 1e-9)
            & (y + b * z >= r * sb - 1e-9) & (-y + b * z >= r * sb - 1e-9) & (z > r))


def static_anchors(statics: list[StaticSpec]) -> np.ndarray:
    """Corners [C, 3] of the visible box statics (ramps), which a framed camera keeps in view too
    (planes, the floor, are unbounded and left out)."""
    corners = []
    signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], np.float64)
    for st in statics:
        if st.visible and st.kind == "box":
            R = quat_to_matrix(np.asarray(st.quaternion, np.float64))
            corners.append(np.asarray(st.position, np.float64) + (signs * np.asarray(st.size[:3], np.float64)) @ R.T)
    return np.concatenate(corners) if corners else np.zeros((0, 3))
