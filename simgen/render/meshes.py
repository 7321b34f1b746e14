"""Triangle meshes of a scene's objects and static geometry, as both renderers draw them.

Both backends take their triangles from here, so the rasterised silhouettes (and the masks) of the
batched renderer and the pyrender reference are the same: the same vertices in the same body frame,
transformed on the GPU by the same matrices.

Objects: round bodies (sphere, cylinder, capsule) have smooth vertex normals, boxes and meshes flat
ones (one vertex per face corner). Round bodies are tessellated for the largest size they reach in
the image (level of detail): just fine enough that the polygon departs from the true surface by at
most :data:`TOLERANCE_PX` pixels (small triangles are what a rasteriser pays for, on a CPU most of
all). Statics: a plane is two triangles, a box twelve, in the static's own frame; texture
coordinates are metres along the face divided by ``texture_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import trimesh

from simgen.shapes import body_mesh, bounding_radius
from simgen.spec import ObjectSpec, SceneSpec, StaticSpec, Trajectory

ROUND_SHAPES = ("sphere", "cylinder", "capsule")
TOLERANCE_PX = 0.75  # largest gap between a round body's polygon and its surface, in pixels
# geodesic spheres: each icosahedron face cut into n x n triangles (20 n^2 faces), n = 1 .. 16;
# the gap at face centres falls as ~0.29 / n^2 of the radius. Every frequency, not only the powers of
# two of repeated subdivision (an icosphere's levels 1-4 are n = 2, 4, 8, 16): a sphere 43-165 px in
# radius took 1280 faces where 500-980 meet the same tolerance
_MAX_FREQUENCY = 16
_SEGMENTS = (8, 12, 16, 24, 32, 48, 64, 96)  # segments around a cylinder / capsule: gap 1 - cos(pi / n)


@dataclass
class Mesh:
    positions: np.ndarray  # float32 [V, 3], body (or static) frame
    normals: np.ndarray  # float32 [V, 3]
    faces: np.ndarray  # int32 [F, 3], counter-clockwise seen from outside
    uv: np.ndarray | None = None  # float32 [V, 2] (statics)

    @property
    def bounds(self) -> np.ndarray:
        """[2, 3] axis-aligned box (min, max) of the vertices."""
        return np.stack([self.positions.min(axis=0), self.positions.max(axis=0)])


def _segments(radius_px: float) -> int:
    for n in _SEGMENTS:
        if (1.0 - np.cos(np.pi / n)) * radius_px <= TOLERANCE_PX:
            return n
    return _SEGMENTS[-1]


@cache
def _unit_geodesic(n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The unit geodesic sphere of frequency ``n``: vertices, faces (counter-clockwise seen from
    outside) and its gap (1 - the smallest distance of a face centre from the centre)."""
    ico = trimesh.creation.icosahedron()
    corners, tris = np.asarray(ico.vertices, np.float64), np.asarray(ico.faces)
    index: dict[tuple, int] = {}
    points, faces = [], []

    def vertex(weights: tuple) -> int:
        # a point is the sum of icosahedron corners with integer weights (summing to n): the key
        # is the same on both faces of an edge, and so are the floats (summed in corner order)
        key = tuple(sorted((c, w) for c, w in weights if w))
        v = index.get(key)
        if v is None:
            p = sum(w * corners[c] for c, w in key) / n
            v = index[key] = len(points)
            points.append(p / np.linalg.norm(p))
        return v

    for a, b, c in tris.tolist():
        grid = {(i, j): vertex(((a, n - i - j), (b, i), (c, j))) for i in range(n + 1) for j in range(n + 1 - i)}
        for i in range(n):
            for j in range(n - i):
                faces.append((grid[i, j], grid[i + 1, j], grid[i, j + 1]))
                if i + j < n - 1:
                    faces.append((grid[i + 1, j], grid[i + 1, j + 1], grid[i, j + 1]))
    v, f = np.array(points), np.array(faces, np.int32)
    tri = v[f]
    outward = np.einsum("fi,fi->f", np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), tri.sum(axis=1)) > 0
    f[~outward] = f[~outward][:, ::-1]
    return v, f, float(1.0 - np.linalg.norm(tri.mean(axis=1), axis=1).min())


def _grid_faces(rows: int, cols: int, start: int = 0) -> np.ndarray:
    """Quads between consecutive rings of ``cols`` vertices (``rows`` rings, ring r at start + r*cols),
    wrapping around; ring r+1 lies below ring r (z decreasing), vertices go counter-clockwise seen
    from +z: triangles counter-clockwise seen from outside."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols), indexing="ij")
    a = start + r * cols + c
    b = start + r * cols + (c + 1) % cols
    a2, b2 = a + cols, b + cols
    return np.concatenate([np.stack([a, a2, b2], -1).reshape(-1, 3), np.stack([a, b2, b], -1).reshape(-1, 3)]).astype(np.int32)


@cache
def _unit_capsule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A capsule of unit radius around the z axis, cut at the equator (the caller moves the halves
    apart): vertices on the unit sphere [V, 3], a +1/-1 half flag [V], faces."""
    m = max(2, n // 4)  # rings per hemisphere, pole excluded: steps of about 2 pi / n
    phi = np.arange(n) * (2.0 * np.pi / n)
    lat = np.arange(1, m + 1) * (0.5 * np.pi / m)  # from the top pole down to the equator
    rings_top = np.stack([np.sin(lat)[:, None] * np.cos(phi), np.sin(lat)[:, None] * np.sin(phi),
                          np.cos(lat)[:, None] * np.ones_like(phi)], -1).reshape(-1, 3)
    rings_bot = rings_top.reshape(m, n, 3)[::-1].reshape(-1, 3) * np.array([1.0, 1.0, -1.0])  # equator first
    v = np.concatenate([[[0.0, 0.0, 1.0]], rings_top, rings_bot, [[0.0, 0.0, -1.0]]])
    half = np.concatenate([[1.0], np.ones(m * n), -np.ones(m * n), [-1.0]])
    top_fan = np.stack([np.zeros(n, int), 1 + np.arange(n), 1 + (np.arange(n) + 1) % n], -1)
    body = _grid_faces(2 * m, n, start=1)  # top rings, the band between the equators, bottom rings
    last = len(v) - 1
    bot_ring = 1 + (2 * m - 1) * n
    bot_fan = np.stack([np.full(n, last), bot_ring + (np.arange(n) + 1) % n, bot_ring + np.arange(n)], -1)
    return v, half, np.concatenate([top_fan, body, bot_fan]).astype(np.int32)


def _cylinder(radius: float, half_length: float, n: int) -> Mesh:
    """Smooth sides, flat caps (their own vertices)."""
    phi = np.arange(n) * (2.0 * np.pi / n)
    ring = np.stack([np.cos(phi), np.sin(phi), np.zeros(n)], -1)
    side = np.concatenate([ring * [radius, radius, 0] + [0, 0, half_length], ring * [radius, radius, 0] - [0, 0, half_length]])
    side_n = np.concatenate([ring, ring])
    top = np.concatenate([[[0.0, 0.0, half_length]], ring * [radius, radius, 0] + [0, 0, half_length]])
    bot = np.concatenate([[[0.0, 0.0, -half_length]], ring * [radius, radius, 0] - [0, 0, half_length]])
    i = np.arange(n)
    f_side = _grid_faces(2, n)
    t0, b0 = 2 * n, 3 * n + 1
    f_top = np.stack([np.full(n, t0), t0 + 1 + i, t0 + 1 + (i + 1) % n], -1)
    f_bot = np.stack([np.full(n, b0), b0 + 1 + (i + 1) % n, b0 + 1 + i], -1)
    pos = np.concatenate([side, top, bot])
    nrm = np.concatenate([side_n, np.tile([0.0, 0.0, 1.0], (n + 1, 1)), np.tile([0.0, 0.0, -1.0], (n + 1, 1))])
    return Mesh(pos.astype(np.float32), nrm.astype(np.float32), np.concatenate([f_side, f_top, f_bot]).astype(np.int32))


def round_mesh(obj: ObjectSpec, radius_px: float) -> Mesh:
    """A round body tessellated for an image radius of ``radius_px`` pixels: smooth normals (flat caps
    on cylinders)."""
    s = np.asarray(obj.size, dtype=np.float64)
    if obj.shape == "sphere":
        n = next((n for n in range(1, _MAX_FREQUENCY) if _unit_geodesic(n)[2] * radius_px <= TOLERANCE_PX), _MAX_FREQUENCY)
        v, f, _ = _unit_geodesic(n)
        return Mesh((v * s[0]).astype(np.float32), v.astype(np.float32), f)
    if obj.shape == "cylinder":
        return _cylinder(s[0], s[1], _segments(radius_px * s[0] / max(s[0], s[1])))
    v, half, f = _unit_capsule(_segments(radius_px * s[0] / (s[0] + s[1])))
    pos = v * s[0] + half[:, None] * np.array([0.0, 0.0, s[1]])
    return Mesh(pos.astype(np.float32), v.astype(np.float32), f)


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


def object_mesh(obj: ObjectSpec, radius_px: float = 256.0) -> Mesh:
    """The render mesh of an object in its body frame (round bodies tessellated for an image radius
    of ``radius_px`` pixels)."""
    if obj.shape in ROUND_SHAPES:
        return round_mesh(obj, radius_px)
    if obj.shape == "box":  # the unit box scaled: the same floats as trimesh's box of these extents
        v, n, f = _unit_box()
        return Mesh((v * np.asarray(obj.size[:3], np.float64)).astype(np.float32), n.copy(), f.copy())
    pos, fn, faces = _flat(body_mesh(obj))
    return Mesh(pos.astype(np.float32), fn, faces)


def _flat(tm: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mesh with a vertex per face corner: positions (float64), flat normals (float32), faces."""
    faces = np.asarray(tm.faces, np.int64)
    pos = np.asarray(tm.vertices, np.float64)[faces].reshape(-1, 3)
    fn = np.repeat(np.asarray(tm.face_normals, np.float64), 3, axis=0).astype(np.float32)
    return pos, fn, np.arange(len(pos), dtype=np.int32).reshape(-1, 3)


@cache
def _unit_box() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_flat` of trimesh's box of half-size 1: a box of half-sizes s has the vertices times s
    exactly (trimesh scales its +-0.5 table by 2 s) and the same normals (axis-aligned edges: the
    cross products are exact)."""
    arrays = _flat(trimesh.creation.box(extents=np.full(3, 2.0)))
    for a in arrays:  # shared by every box mesh
        a.flags.writeable = False
    return arrays


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


def is_convex(obj: ObjectSpec) -> bool:
    """Whether an object's surface is convex (then it cannot shadow itself): every vertex lies on or
    behind the plane of every face (to a millionth of its size)."""
    if obj.shape != "mesh":
        return True
    v = np.asarray(obj.mesh.vertices, np.float64)
    tri = v[np.asarray(obj.mesh.faces)]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
    height = np.einsum("fvj,fj->fv", v[None] - tri[:, None, 0], n)  # [faces, vertices] above each face
    return bool((height <= 1e-6 * np.abs(v).max()).all())
