"""Triangle meshes of a scene's objects and static geometry, as both renderers draw them.

Both backends take their triangles from here, so the rasterised silhouettes (and the masks) of the
batched renderer and the pyrender reference are the same: the same vertices in the same body frame,
transformed on the GPU by the same matrices.

Objects: round bodies (sphere, cylinder, capsule) have smooth vertex normals, boxes and meshes flat
ones (one vertex per face corner). Round bodies are tessellated for the largest size they reach in
the image (level of detail): just fine enough that the polygon departs from the true surface by at
most :data:`TOLERANCE_PX` pixels. Small triangles are what a rasteriser pays for, on a CPU most of all. Statics: a plane is two triangles, a box twelve, in the static's
own frame; texture coordinates are world-metre coordinates divided by ``texture_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import trimesh

from simgen.shapes import body_mesh, bounding_radius
from simgen.spec import ObjectSpec, SceneSpec, StaticSpec, Trajectory

ROUND_SHAPES = ("sphere", "cylinder", "capsule")
TOLERANCE_PX = 0.35  # largest gap between a round body's polygon and its surface, in pixels
# (level, gap as a fraction of the radius at face centres), coarse to fine
_ICOSPHERE = ((1, 0.0658), (2, 0.0178), (3, 0.00453), (4, 0.00114))
_CAPSULE = ((8, 0.0830), (12, 0.0375), (16, 0.0212), (24, 0.00949), (32, 0.00534), (48, 0.0024))
_CYLINDER = tuple((n, float(1.0 - np.cos(np.pi / n))) for n in (12, 16, 24, 32, 48, 64, 96))


@dataclass
class Mesh:
    positions: np.ndarray  # float32 [V, 3], body (or static) frame
    normals: np.ndarray  # float32 [V, 3]
    faces: np.ndarray  # int32 [F, 3]
    uv: np.ndarray | None = None  # float32 [V, 2] (statics)

    @property
    def bounds(self) -> np.ndarray:
        """[2, 3] axis-aligned box (min, max) of the vertices."""
        return np.stack([self.positions.min(axis=0), self.positions.max(axis=0)])


def _level(table, radius_px: float):
    for level, gap in table:
        if gap * radius_px <= TOLERANCE_PX:
            return level
    return table[-1][0]


def round_trimesh(obj: ObjectSpec, radius_px: float) -> trimesh.Trimesh:
    """A round body tessellated for an image radius of ``radius_px`` pixels."""
    s = np.asarray(obj.size, dtype=np.float64)
    if obj.shape == "sphere":
        return trimesh.creation.icosphere(subdivisions=_level(_ICOSPHERE, radius_px), radius=s[0])
    if obj.shape == "cylinder":
        return trimesh.creation.cylinder(radius=s[0], height=2.0 * s[1], sections=_level(_CYLINDER, radius_px * s[0] / max(s[0], s[1])))
    n = _level(_CAPSULE, radius_px * s[0] / (s[0] + s[1]))
    return trimesh.creation.capsule(height=2.0 * s[1], radius=s[0], count=[n, n])


def image_radius_px(spec: SceneSpec, traj: Trajectory) -> np.ndarray:
    """[N] the largest radius, in pixels, of each object's bounding sphere over the video (the whole
    image height where it comes close to the camera)."""
    cam = spec.camera
    T, N = traj.positions.shape[:2]
    if N == 0:
        return np.zeros(0)
    f = cam.intrinsics()[1, 1]
    radii = np.array([bounding_radius(o) for o in spec.objects])
    if cam.projection == "orthographic":
        return f * radii
    w2c = np.linalg.inv(cam.poses(T))
    z = np.einsum("tj,tnj->tn", w2c[:, 2, :3], traj.positions) + w2c[:, 2, 3][:, None]  # [T, N]
    near = np.maximum(z - radii[None], 1e-6)
    return np.minimum(f * radii / near.min(axis=0), float(cam.height))


def object_meshes(spec: SceneSpec, traj: Trajectory) -> list[Mesh]:
    """The render meshes of a scene's objects (body frame), tessellated for this video."""
    px = image_radius_px(spec, traj)
    return [object_mesh(o, float(px[k])) for k, o in enumerate(spec.objects)]


def object_mesh(obj: ObjectSpec, radius_px: float | None = None) -> Mesh:
    """The render mesh of an object in its body frame (round bodies: for an image radius of
    ``radius_px`` pixels; None: the finest tessellation of :func:`simgen.shapes.body_mesh`)."""
    tm = round_trimesh(obj, radius_px) if (radius_px is not None and obj.shape in ROUND_SHAPES) else body_mesh(obj)
    if obj.shape in ROUND_SHAPES:
        return Mesh(np.asarray(tm.vertices, np.float32), np.asarray(tm.vertex_normals, np.float32),
                    np.asarray(tm.faces, np.int32))
    faces = np.asarray(tm.faces, np.int64)
    pos = np.asarray(tm.vertices, np.float64)[faces].reshape(-1, 3)
    fn = np.repeat(np.asarray(tm.face_normals, np.float64), 3, axis=0)
    return Mesh(pos.astype(np.float32), fn.astype(np.float32), np.arange(len(pos), dtype=np.int32).reshape(-1, 3))


def static_mesh(st: StaticSpec) -> Mesh:
    """The render mesh of a static in its own frame (flat normals, uv in texture repeats)."""
    import trimesh

    if st.kind == "plane":
        hx, hy = float(st.size[0]), float(st.size[1])
        verts = np.array([[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]], dtype=np.float64)
        faces = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32)
        normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    else:
        box = trimesh.creation.box(extents=2.0 * np.asarray(st.size[:3], float))
        box.unmerge_vertices()  # flat faces
        verts, faces = np.asarray(box.vertices, np.float64), np.asarray(box.faces, np.int32)
        normals = np.asarray(trimesh.Trimesh(vertices=verts, faces=faces, process=False).vertex_normals)
    scale = float(st.texture_scale) if st.texture_scale else 1.0
    # planar projection along each face's dominant axis (a box face gets its own two axes)
    axis = np.argmax(np.abs(normals), axis=1)
    keep = np.array([[1, 2], [0, 2], [0, 1]])[axis]  # the two axes other than the dominant one
    uv = np.take_along_axis(verts, keep, axis=1) / scale
    return Mesh(verts.astype(np.float32), normals.astype(np.float32), faces, uv.astype(np.float32))
