"""Shadow-map cameras of the key light (a directional light, so orthographic cameras).

* **Object maps**: one small map per object and frame, fitted to the object's bounding sphere. An
  orthographic light camera puts a caster's shadow at the caster's own light-space position, so a
  map that holds only the object covers its whole shadow wherever it falls; the map's texels are a
  fixed fraction of the object's size, so shadows stay sharp however far apart the objects are.
  The floor and ramps are never in these maps: they cannot shadow themselves (no acne), and the
  receiver depth needs no bias at contact (no peter-panning).
* **Static map**: one per video for the static casters (ramps, boxes; planes cast on nothing below
  them), fitted to their corners.

Casters are drawn back faces only (front faces culled): a lit surface compares against the far side
of its own solid, which removes self-shadowing acne on closed meshes.
"""

from __future__ import annotations

import numpy as np

MAP_MARGIN = 1.05   # map half-width = bounding radius * this
DEPTH_MARGIN = 1.1  # depth half-range = bounding radius * this (casters stay below 0.955 of the range)


def light_basis(travel: np.ndarray) -> np.ndarray:
    """3x3 rows (x, y, z) of the light's camera frame: z points toward the light (OpenGL cameras look
    down -z), x horizontal where possible."""
    z = -np.asarray(travel, np.float64)
    z /= np.linalg.norm(z)
    up = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    x = np.cross(up, z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def ortho_matrices(basis: np.ndarray, centers: np.ndarray, half: np.ndarray, depth_half: np.ndarray) -> np.ndarray:
    """World -> clip matrices [..., 4, 4] of light cameras centred at ``centers`` [..., 3]: x, y in
    [-half, half] and depth in [-depth_half, depth_half] (nearest to the light first) map to [-1, 1]."""
    centers = np.asarray(centers, np.float64)
    m = np.zeros(centers.shape[:-1] + (4, 4))
    half = np.broadcast_to(np.asarray(half, np.float64), centers.shape[:-1])
    depth_half = np.broadcast_to(np.asarray(depth_half, np.float64), centers.shape[:-1])
    scale = np.stack([1.0 / half, 1.0 / half, -1.0 / depth_half], axis=-1)  # depth grows away from the light
    rot = basis * scale[..., :, None]
    m[..., :3, :3] = rot
    m[..., :3, 3] = -np.einsum("...ij,...j->...i", rot, centers)
    m[..., 3, 3] = 1.0
    return m


def object_light_matrices(travel: np.ndarray, positions: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """[T, N, 4, 4] light cameras, one per object and frame, fitted to the bounding spheres."""
    basis = light_basis(travel)
    r = np.broadcast_to(np.asarray(radii, np.float64), positions.shape[:-1])
    return ortho_matrices(basis, positions, r * MAP_MARGIN, r * DEPTH_MARGIN)


def static_light_matrix(travel: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, float]:
    """The light camera of the static casters (their world corners [M, 3]) and its texel scale
    (metres across the map)."""
    basis = light_basis(travel)
    ls = corners @ basis.T
    lo, hi = ls.min(axis=0), ls.max(axis=0)
    center_ls = 0.5 * (lo + hi)
    half_xy = 0.5 * float(max(hi[0] - lo[0], hi[1] - lo[1])) * 1.02 + 1e-3
    depth_half = 0.5 * float(hi[2] - lo[2]) * DEPTH_MARGIN + 1e-3
    center = basis.T @ center_ls
    return ortho_matrices(basis, center, half_xy, depth_half), 2.0 * half_xy


def receiver_masks(centers: np.ndarray, radius: np.ndarray, travel: np.ndarray) -> np.ndarray:
    """uint32 [T, N]: bit j of (t, k) is set when object j may shadow object k (the sphere of j,
    moved along the light, passes within both radii of k's centre), and for j == k. Objects past
    the 32nd cast nothing."""
    T, N = centers.shape[:2]
    L = np.asarray(travel, np.float64)
    L = L / np.linalg.norm(L)
    out = np.zeros((T, N), np.uint32)
    for j in range(min(N, 32)):
        w = centers - centers[:, j:j + 1]              # [T, N, 3] from j to every k
        along = np.maximum(w @ L, 0.0)                   # distance along the light (only past j)
        perp = np.linalg.norm(w - along[..., None] * L, axis=-1)
        hit = perp <= radius[j] + radius
        hit[:, j] = True
        out |= np.where(hit, np.uint32(1 << j), np.uint32(0))
    return out


# shaders/common.glsl: penumbra at contact, growth per metre, cap in texels; contact occlusion reach
PENUMBRA0, PENUMBRA_SLOPE, PENUMBRA_TEXELS, AO_REACH = 0.004, 0.02, 4.0, 1.6
PCF_REACH_TEXELS = 3.5  # how far past the penumbra the filter reaches (normal offset, disk, bilinear taps)


def _reach_frames(centers: np.ndarray, radius: np.ndarray, occluder: np.ndarray, travel: np.ndarray,
                  receivers_z: float, shadow_size: int, receivers_top: float | None = None):
    """The boxes shaders/volume.vert draws around each caster (the same formulas, with the contact
    occlusion's reach always in: no smaller than the drawn ones, which leave it out where it meets
    no static), as their axes (x, y across the light, L along it) and extents: half-width [T, N],
    near and far ends along L.
    ``receivers_top`` (the highest static point): the near end no higher than where the box first
    dips below it; None: not cut."""
    L = np.asarray(travel, np.float64)
    L = L / np.linalg.norm(L)
    x = np.cross([0.0, 0.0, 1.0] if abs(L[2]) < 0.99 else [1.0, 0.0, 0.0], L)
    x /= np.linalg.norm(x)
    y = np.cross(L, x)
    R = np.broadcast_to(np.asarray(radius, np.float64), centers.shape[:-1])
    reach = AO_REACH * np.broadcast_to(np.asarray(occluder, np.float64), centers.shape[:-1])
    depth = (centers[..., 2] - receivers_z + R) / -L[2] if L[2] < -0.05 else np.full(R.shape, 50.0)
    depth = np.clip(depth, 0.0, 50.0) + R
    span = 2.0 * R * 1.05
    pen = np.minimum(PENUMBRA0 + PENUMBRA_SLOPE * depth, PENUMBRA_TEXELS * span / shadow_size)
    half = np.maximum(R + pen + PCF_REACH_TEXELS * span / shadow_size, reach) * 1.02
    near = -np.maximum(R, reach) * 1.02
    if receivers_top is not None and L[2] < -0.05:
        near = np.maximum(near, (centers[..., 2] - receivers_top - half * abs(y[2])) / -L[2] - 1e-3)
    return x, y, L, half, near, depth


def reach_boxes(centers: np.ndarray, radius: np.ndarray, occluder: np.ndarray, travel: np.ndarray,
                receivers_z: float, shadow_size: int, receivers_top: float | None = None) -> np.ndarray:
    """World corners [T, N, 8, 3] of the boxes shaders/volume.vert draws around each caster (the same
    formulas): along the light from behind the bounding sphere (or the height of ``receivers_top``)
    to below ``receivers_z``."""
    x, y, L, half, near, depth = _reach_frames(centers, radius, occluder, travel, receivers_z, shadow_size,
                                               receivers_top)
    c = np.arange(8)
    sx, sy = np.where(c & 1, 1.0, -1.0), np.where(c & 2, 1.0, -1.0)
    along = np.where(c & 4, depth[..., None], near[..., None])  # [T, N, 8]
    return (centers[..., None, :] + (sx * half[..., None])[..., None] * x + (sy * half[..., None])[..., None] * y
            + along[..., None] * L)


def camera_clear_of_reach(centers: np.ndarray, radius: np.ndarray, occluder: np.ndarray, travel: np.ndarray,
                          receivers_z: float, shadow_size: int, eyes: np.ndarray, margin: float,
                          receivers_top: float | None = None) -> bool:
    """Whether every frame's camera centre (eyes [T, 3]) lies farther than ``margin`` from every
    caster's box (:func:`reach_boxes`). The stencil-tested boxes need only that: a ray from outside
    a convex box enters it through a front face between the camera and the surface, which the near
    plane cannot clip when the box keeps ``margin`` (more than the near plane's corners' distance)
    away from the camera; corners behind the camera are clipped away harmlessly."""
    x, y, L, half, near, depth = _reach_frames(centers, radius, occluder, travel, receivers_z, shadow_size,
                                               receivers_top)
    d = np.asarray(eyes, np.float64)[:, None, :] - centers  # [T, N, 3]
    inside = ((np.abs(d @ x) < half + margin) & (np.abs(d @ y) < half + margin)
              & (d @ L > near - margin) & (d @ L < depth + margin))
    return not bool(inside.any())
