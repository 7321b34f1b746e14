"""Collision geometry shared by the engines, the stepping core and the truth audit.

Both engines collide a mesh object through the convex hull of its vertices; primitives are exact.
:func:`collision_vertices` is that hull (body frame), stored per object as ``object_vertices`` so a
user can check a mesh's contact from the data alone. :func:`support_points` gives, for any shape and
pose, the points of the body that can be its lowest along a direction (corners, hull vertices, or the
analytic support point of a round shape).
"""

from __future__ import annotations

import math

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


_CORNER_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float64)
_RIM_ANGLES = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
# a cylinder's two rims, 16 points each, for radius 1 and half length 1 (scaled by (r, r, h))
_RIMS = np.concatenate([np.stack([np.cos(_RIM_ANGLES), np.sin(_RIM_ANGLES), np.full(16, z)], axis=1) for z in (1.0, -1.0)])


def box_corners(half: np.ndarray) -> np.ndarray:
    """The 8 corners [8, 3] of a box with half extents ``half`` (body frame)."""
    return _CORNER_SIGNS * np.asarray(half, np.float64)[:3]


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


def strike_points(shape: str, size, vertices, pos: np.ndarray, quat: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """World points [K, 3] of a box, mesh or cylinder resting on a plane with ``normal`` (pointing at
    the body) that can be the next to strike it: corners and hull vertices; for a cylinder, each
    rim's lowest point and the point opposite it (a cap falling flat lands there first; the points
    next to a rim's lowest one only take over the contact as it rolls)."""
    if shape != "cylinder":
        return support_points(shape, size, vertices, pos, quat, -np.asarray(normal, np.float64))
    rot = quat_to_matrix(quat)
    r, h = float(size[0]), float(size[1])
    axis = rot[:, 2]
    radial = -np.asarray(normal, np.float64) + (np.asarray(normal, np.float64) @ axis) * axis
    size_r = float(np.linalg.norm(radial))
    radial = radial / size_r if size_r > 1e-9 else rot[:, 0]
    pos = np.asarray(pos, np.float64)
    return np.array([pos + s * h * axis + q * r * radial for s in (1.0, -1.0) for q in (1.0, -1.0)])


def contact_patch(shape: str, size, vertices, pos: np.ndarray, quat: np.ndarray, normal: np.ndarray,
                  tol: float = 5e-4, vel=None, omega=None, within: float = 0.0, touch: float = 1e-4) -> np.ndarray:
    """Centre of the part of a body that touches a plane with ``normal`` (pointing at the body):
    the mean of its extreme points along ``-normal`` within ``touch`` of the lowest, and of those
    within ``tol`` that close their gap within ``within`` seconds at the body's velocity ``vel``,
    ``omega`` (all within ``tol`` when no velocity is given): one corner, an edge's midpoint, a
    face's centre. A corner a fraction of a millimetre up that is not coming down is not part of
    the patch (it would move the impact point to an edge the body does not land on). With a
    velocity, the mean is weighted by how fast each point closes (those not closing count only when
    none is): a face landing flat gives its centre, a body nearly flat that turns as it lands the
    edge coming down (its face's centre left that edge striking at 0.45-1 m/s after the impact). Cylinders are
    taken by their rim (16 points per cap)."""
    n = np.asarray(normal, np.float64)
    if shape == "sphere":  # its one support point
        return np.asarray(pos, np.float64) + float(size[0]) * -n
    if shape == "box" and vel is not None:
        return _box_patch(size, pos, quat, n, vel, omega, tol, within, touch)
    if shape == "capsule" and vel is not None:
        return _capsule_patch(size, pos, quat, n, vel, omega)
    if shape == "cylinder":
        r, h = float(size[0]), float(size[1])
        pts = np.asarray(pos, np.float64) + (_RIMS * (r, r, h)) @ rotation(quat).T
    elif shape in ("box", "mesh"):  # one pose: no batched rotation
        local = box_corners(size) if shape == "box" else np.asarray(vertices, np.float64).reshape(-1, 3)
        pts = np.asarray(pos, np.float64) + local @ rotation(quat).T
    else:
        pts = support_points(shape, size, vertices, pos, quat, -n)
    height = pts @ n
    gap = height - np.minimum.reduce(height)
    take = gap <= tol
    if vel is not None:
        r = pts - np.asarray(pos, np.float64)
        wx, wy, wz = np.asarray(omega, np.float64).tolist()  # (the same floats as float() of each)
        n0, n1, n2 = n.tolist()  # (n x w in floats: the same arithmetic)
        nxw = np.array((n1 * wz - n2 * wy, n2 * wx - n0 * wz, n0 * wy - n1 * wx))
        closing = -(r @ nxw + float(np.asarray(vel, np.float64) @ n))
        take &= (gap <= touch) | (gap <= closing * within)
        w = np.maximum(closing[take], 0.0)
        if w.sum() > 0.0:  # weighted by how fast each point closes
            return w @ pts[take] / w.sum()
    sel = pts[take]
    return np.add.reduce(sel, axis=0) / len(sel)  # (their mean: ndarray.mean's sum and division, without its wrapper)


def _capsule_patch(size, pos, quat, n, vel, omega) -> np.ndarray:
    """:func:`contact_patch` of a capsule with a velocity, in plain floats: its one support point
    (the bottom of the end sphere nearer the plane; :func:`support_points`' arithmetic), weighted
    by its closing speed as a patch of one point is."""
    x, y, z, w = np.asarray(quat, np.float64).tolist()
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    ax, ay, az = 2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)  # the body's z axis
    nx, ny, nz = n.tolist()
    dx, dy, dz = -nx, -ny, -nz
    r, h = np.asarray(size, np.float64)[:2].tolist()
    px, py, pz = np.asarray(pos, np.float64).tolist()
    hs = h * (1.0 if ax * dx + ay * dy + az * dz >= 0 else -1.0)
    qx, qy, qz = px + hs * ax + r * dx, py + hs * ay + r * dy, pz + hs * az + r * dz
    wx, wy, wz = np.asarray(omega, np.float64).tolist()
    nxw = np.array((ny * wz - nz * wy, nz * wx - nx * wz, nx * wy - ny * wx))
    # (the two dot products by numpy, as contact_patch takes them: its sums are not a float loop's)
    closing = float(-(np.array(((qx - px, qy - py, qz - pz),)) @ nxw + float(np.asarray(vel, np.float64) @ n))[0])
    if closing > 0.0:
        return np.array([closing * qx / closing, closing * qy / closing, closing * qz / closing])
    return np.array([qx, qy, qz])


def _box_patch(size, pos, quat, n, vel, omega, tol: float, within: float, touch: float) -> np.ndarray:
    """:func:`contact_patch` of a box with a velocity, in plain floats (8 corners: numpy's per-call
    cost would dominate)."""
    (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = rotation(quat).tolist()
    hx, hy, hz = np.asarray(size, np.float64)[:3].tolist()  # (the same floats as float() of each)
    px, py, pz = np.asarray(pos, np.float64).tolist()
    nx, ny, nz = n.tolist()
    wx, wy, wz = np.asarray(omega, np.float64).tolist()
    vn = sum(a * b for a, b in zip(np.asarray(vel, np.float64).tolist(), (nx, ny, nz)))
    cx, cy, cz = ny * wz - nz * wy, nz * wx - nx * wz, nx * wy - ny * wx  # n x w
    corners = []
    for sx in (-hx, hx):
        for sy in (-hy, hy):
            for sz in (-hz, hz):
                rx, ry, rz = r00 * sx + r01 * sy + r02 * sz, r10 * sx + r11 * sy + r12 * sz, r20 * sx + r21 * sy + r22 * sz
                x, y, z = px + rx, py + ry, pz + rz
                corners.append((x * nx + y * ny + z * nz, -(rx * cx + ry * cy + rz * cz + vn), x, y, z))
    low = min(c[0] for c in corners)
    take = [c for c in corners if c[0] - low <= tol and (c[0] - low <= touch or c[0] - low <= c[1] * within)]
    wsum = sum(max(c[1], 0.0) for c in take)
    if wsum > 0.0:  # weighted by how fast each corner closes (see contact_patch)
        return np.array([sum(max(c[1], 0.0) * c[i] for c in take) / wsum for i in (2, 3, 4)])
    k = len(take)
    return np.array([sum(c[2] for c in take) / k, sum(c[3] for c in take) / k, sum(c[4] for c in take) / k])


def rotation(q) -> np.ndarray:
    """Rotation matrix (body -> world) of one quaternion (x, y, z, w); cheaper than
    :func:`~simgen.spec.quat_to_matrix` for a single pose."""
    x, y, z, w = q.tolist() if isinstance(q, np.ndarray) else (float(c) for c in q)
    s = 2.0 / (x * x + y * y + z * z + w * w)
    return np.array((1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w),
                     s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w),
                     s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y))).reshape(3, 3)


class Hull:
    """A body's shape for the stepper's broad phase: the height of its lowest point above a plane
    (along a predicted motion: ``Stepper._path_height``, from ``local1``, ``radius`` and ``half``),
    and the points of it that can strike a plane it rests on."""

    def __init__(self, shape: str, size, vertices=None):
        self.shape = shape
        self.size = np.asarray(size, np.float64)
        if shape == "box":
            self.local = box_corners(self.size)
        elif shape == "mesh":
            self.local = np.asarray(vertices, np.float64).reshape(-1, 3)
        else:
            self.local = None
        # the vertices with a 1 appended (a path's offset rides along in one product), and a
        # cylinder's or capsule's radius and half length as floats
        self.local1 = None if self.local is None else np.hstack([self.local, np.ones((len(self.local), 1))])
        self.radius, self.half = (float(self.size[0]), float(self.size[1])) if len(self.size) > 1 else (float(self.size[0]), 0.0)

    def lowest(self, rot: np.ndarray, n: np.ndarray) -> float:
        """Lowest extent along ``n`` relative to the centre (min over the body of n.(x - centre)), in
        pose ``rot``. (Along a spinning path: the stepper's ``_path_height``.)"""
        n = np.asarray(n, np.float64)
        if self.shape == "sphere":
            return -self.radius
        if self.local is not None:
            return float(np.minimum.reduce((self.local @ rot.T) @ n))
        s = abs(float(rot[:, 2] @ n))
        return -self.half * s - (self.radius if self.shape == "capsule" else self.radius * math.sqrt(max(1.0 - s * s, 0.0)))

    def strike(self, rows: tuple, n: tuple) -> list:
        """Offsets from the centre (3-tuples of floats) of the points that can be the next to strike
        a plane with normal ``n`` (3 floats) the body rests on, in the pose whose rotation matrix has
        the rows ``rows`` (3 x 3 floats): corners and hull vertices; a capsule's two end spheres'
        lowest points; for a cylinder, each rim's lowest point and the point opposite it (a cap
        falling flat lands there first; the points next to a rim's lowest one only take over the
        contact as it rolls)."""
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = rows
        if self.local is not None:
            return [(r00 * x + r01 * y + r02 * z, r10 * x + r11 * y + r12 * z, r20 * x + r21 * y + r22 * z)
                    for x, y, z in self.local.tolist()]
        r, h = float(self.size[0]), float(self.size[1])
        (ax, ay, az), (nx, ny, nz) = (r02, r12, r22), n  # the body's z axis
        if self.shape == "capsule":  # the bottoms of its two end spheres
            return [(s * h * ax - r * nx, s * h * ay - r * ny, s * h * az - r * nz) for s in (1.0, -1.0)]
        na = nx * ax + ny * ay + nz * az
        dx, dy, dz = -nx + na * ax, -ny + na * ay, -nz + na * az  # down the plane, across the axis
        size_r = math.sqrt(dx * dx + dy * dy + dz * dz)
        dx, dy, dz = (dx / size_r, dy / size_r, dz / size_r) if size_r > 1e-9 else (r00, r10, r20)
        return [(s * h * ax + q * r * dx, s * h * ay + q * r * dy, s * h * az + q * r * dz)
                for s in (1.0, -1.0) for q in (1.0, -1.0)]
