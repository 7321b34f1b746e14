"""Collision geometry shared by the engines, the stepping core and the truth audit.

Both engines collide a mesh object through the convex hull of its vertices; primitives are exact.
:func:`collision_vertices` is that hull (body frame), stored per object as ``object_vertices`` so a
user can check a mesh's contact from the data alone. :func:`support_points` gives, for any shape and
pose, the points of the body that can be its lowest along a direction (corners, hull vertices, or the
analytic support point of a round shape).
"""

from __future__ import annotations

import numpy as np

from simgen.spec import ObjectSpec, quat_to_matrix


def collision_vertices(obj: ObjectSpec) -> np.ndarray:
    """Body-frame vertices [V, 3] of the convex hull the engines collide for a mesh object; empty
    [0, 3] for primitives (their ``size`` defines them exactly)."""
    if obj.shape != "mesh" or obj.mesh is None:
        return np.zeros((0, 3), np.float64)
    from scipy.spatial import ConvexHull

    v = np.asarray(obj.mesh.vertices, np.float64)
    return v[np.sort(ConvexHull(v).vertices)]


def box_corners(half: np.ndarray) -> np.ndarray:
    """The 8 corners [8, 3] of a box with half extents ``half`` (body frame)."""
    s = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float64)
    return s * np.asarray(half, np.float64)[:3]


def support_points(shape: str, size, vertices, pos: np.ndarray, quat: np.ndarray, down: np.ndarray) -> np.ndarray:
    """World points [..., K, 3] among which the body's extreme point along ``down`` lies.

    ``pos`` [..., 3] and ``quat`` [..., 4] (x, y, z, w) give the pose; ``down`` [3] is a unit
    direction (e.g. minus a surface normal). Boxes: the 8 corners; meshes: the hull ``vertices``;
    spheres, cylinders and capsules: their analytic support point (K = 1)."""
    pos = np.asarray(pos, np.float64)
    rot = quat_to_matrix(quat)  # [..., 3, 3] body -> world
    size = np.asarray(size, np.float64)
    d = np.asarray(down, np.float64)
    if shape in ("box", "mesh"):
        local = box_corners(size) if shape == "box" else np.asarray(vertices, np.float64).reshape(-1, 3)
        return pos[..., None, :] + np.einsum("...ij,kj->...ki", rot, local)
    if shape == "sphere":
        return (pos + size[0] * d)[..., None, :]
    axis = rot[..., :, 2]  # body z in the world frame
    along = np.einsum("...i,i->...", axis, d)
    tip = pos + size[1] * np.where(along >= 0, 1.0, -1.0)[..., None] * axis
    if shape == "capsule":
        return (tip + size[0] * d)[..., None, :]
    if shape == "cylinder":
        radial = d - along[..., None] * axis
        norm = np.linalg.norm(radial, axis=-1, keepdims=True)
        radial = np.where(norm > 1e-9, radial / np.maximum(norm, 1e-12), 0.0)
        return (tip + size[0] * radial)[..., None, :]
    raise ValueError(f"unknown shape {shape!r}")


def bounding_radius(shape: str, size, vertices=None) -> float:
    """Radius of a sphere about the centre of mass that contains the body."""
    s = np.asarray(size, np.float64)
    if shape == "sphere":
        return float(s[0])
    if shape == "box":
        return float(np.linalg.norm(s[:3]))
    if shape == "cylinder":
        return float(np.hypot(s[0], s[1]))
    if shape == "capsule":
        return float(s[0] + s[1])
    return float(np.linalg.norm(np.asarray(vertices, np.float64).reshape(-1, 3), axis=1).max())


def contact_patch(shape: str, size, vertices, pos: np.ndarray, quat: np.ndarray, normal: np.ndarray,
                  tol: float = 5e-4) -> np.ndarray:
    """Centre of the part of a body that touches a plane with ``normal`` (pointing at the body):
    the mean of its extreme points along ``-normal`` within ``tol`` of the lowest (one corner, an
    edge's midpoint, a face's centre). Cylinders are taken by their rim (16 points per cap)."""
    n = np.asarray(normal, np.float64)
    if shape == "cylinder":
        rot = quat_to_matrix(quat)
        r, h = float(size[0]), float(size[1])
        ang = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
        rim = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros_like(ang)], axis=1)
        local = np.concatenate([rim + [0.0, 0.0, h], rim - [0.0, 0.0, h]])
        pts = np.asarray(pos, np.float64) + local @ rot.T
    else:
        pts = support_points(shape, size, vertices, pos, quat, -n)
    height = pts @ n
    return pts[height <= height.min() + tol].mean(axis=0)
