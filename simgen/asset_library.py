"""Meshes and textures: the ones that ship in ``assets/`` and the user's own (``scene.assets_dir=``).

A mesh file (OBJ, GLB/GLTF, STL, PLY, OFF) is loaded with trimesh and turned into a
:class:`MeshAsset`: vertices re-centred on the centre of mass, rotated onto the principal axes of
inertia and scaled to a bounding radius of 1 (a scene scales it to its sampled size). What each engine
and the renderer get:

- visual mesh: the triangles as given (after the rigid re-centring and uniform scaling);
- collision shape: the convex hull of the vertices (PyBullet builds it from the vertex list);
- mass and inertia: ``density * volume`` and the inertia tensor of the closed mesh.

Repair, documented: degenerate and duplicate faces are dropped and vertices merged; a mesh that is not
watertight gets ``fill_holes``; if it is still open (or its volume is not positive) its mass properties
are taken from its convex hull instead (``MeshAsset.repair == "convex_hull_mass"``), and the visual mesh
stays as given. Files that cannot be read, are empty, or have non-finite vertices raise
:class:`simgen.errors.UserError` naming the file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simgen.errors import UserError
from simgen.paths import assets_dir
from simgen.spec import MeshData

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".stl", ".ply", ".off")


@dataclass(frozen=True)
class MeshAsset:
    """A mesh normalised to the body frame with a bounding radius of 1."""

    mesh: MeshData
    volume: float  # m^3 at scale 1 (of the closed mesh, or of its hull after repair)
    unit_inertia: np.ndarray  # principal moments at scale 1 and density 1 (kg m^2)
    repair: str  # "none", "merged", "filled_holes" or "convex_hull_mass"
    source: str

    def scaled(self, scale: float, density: float | None = None, mass: float | None = None):
        """(MeshData, mass, inertia [3]) at bounding radius ``scale`` with ``density`` or ``mass``."""
        vol = self.volume * scale**3
        m = float(mass) if mass is not None else float(density) * vol
        rho = m / vol
        inertia = self.unit_inertia * rho * scale**5
        mesh = MeshData(vertices=self.mesh.vertices * scale, faces=self.mesh.faces, name=self.mesh.name)
        return mesh, m, inertia


def shipped_meshes() -> dict[str, Path]:
    """Name -> path of the OBJ meshes in ``assets/meshes``."""
    return {p.stem: p for p in sorted((assets_dir() / "meshes").glob("*.obj"))}


def shipped_textures() -> dict[str, Path]:
    return {p.stem: p for p in sorted((assets_dir() / "textures").glob("*.png"))}


@functools.lru_cache(maxsize=64)
def load_texture(name_or_path: str) -> np.ndarray:
    """A shipped texture by name, or a PNG/JPEG path, as uint8 [h, w, 3]."""
    from PIL import Image

    path = shipped_textures().get(name_or_path) or Path(name_or_path)
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, ValueError) as exc:
        raise UserError(f"Cannot read texture {str(path)!r}: {exc}.") from None


def list_mesh_files(folder: str | Path) -> list[Path]:
    """The mesh files in a user folder (sorted, not recursive); UserError if there are none."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"scene.assets_dir={str(folder)!r} is not a folder; point it at a folder of {', '.join(MESH_SUFFIXES)} files.")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in MESH_SUFFIXES and p.is_file())
    if not files:
        raise UserError(f"scene.assets_dir={str(folder)!r} holds no mesh files ({', '.join(MESH_SUFFIXES)}).")
    return files


@functools.lru_cache(maxsize=256)
def load_mesh(path: str) -> MeshAsset:
    """Load, check, repair (see the module docstring) and normalise one mesh file."""
    import trimesh

    p = Path(path)
    try:
        tm = trimesh.load(str(p), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise UserError(f"Cannot read mesh {str(p)!r}: {type(exc).__name__}: {exc}.") from None
    if not isinstance(tm, trimesh.Trimesh) or len(tm.faces) == 0 or len(tm.vertices) < 4:
        raise UserError(f"Mesh {str(p)!r} has no triangles (an empty file, a point cloud or only lines); a solid triangle mesh is needed.")
    if not np.all(np.isfinite(tm.vertices)):
        raise UserError(f"Mesh {str(p)!r} has non-finite vertex coordinates (NaN or inf).")
    repair = "none"
    n_faces = len(tm.faces)
    tm.merge_vertices()
    tm.update_faces(tm.nondegenerate_faces())
    tm.update_faces(tm.unique_faces())
    tm.remove_unreferenced_vertices()
    if len(tm.faces) == 0:
        raise UserError(f"Mesh {str(p)!r} has only degenerate triangles.")
    if len(tm.faces) != n_faces:
        repair = "merged"
    extent = float(np.ptp(tm.vertices, axis=0).max())
    if not extent > 0:
        raise UserError(f"Mesh {str(p)!r} has zero size.")
    mass_mesh = tm
    if not tm.is_watertight:
        trimesh.repair.fill_holes(tm)
        repair = "filled_holes"
    if tm.is_watertight:
        trimesh.repair.fix_normals(tm)
    if not tm.is_watertight or not tm.volume > 1e-9 * extent**3:
        hull = tm.convex_hull
        if not hull.volume > 1e-9 * extent**3:
            raise UserError(f"Mesh {str(p)!r} is flat (no volume even as a convex hull); a solid is needed for mass and collision.")
        mass_mesh, repair = hull, "convex_hull_mass"
    # body frame: centre of mass at the origin, principal axes along x, y, z
    # (computed here: trimesh's principal_inertia_transform does not centre exactly for symmetric bodies)
    c = np.asarray(mass_mesh.center_mass, np.float64)
    _, R = np.linalg.eigh(np.asarray(mass_mesh.moment_inertia, np.float64))
    if np.linalg.det(R) < 0:
        R[:, 2] *= -1.0
    T = np.eye(4)
    T[:3, :3] = R.T
    T[:3, 3] = -R.T @ c
    tm = tm.copy()
    tm.apply_transform(T)
    mass_mesh = mass_mesh.copy()
    mass_mesh.apply_transform(T)
    s = 1.0 / float(np.linalg.norm(tm.vertices, axis=1).max())
    tm.apply_scale(s)
    mass_mesh.apply_scale(s)
    mass_mesh.density = 1.0
    inertia = np.diag(mass_mesh.moment_inertia).astype(np.float64).copy()
    return MeshAsset(
        mesh=MeshData(vertices=np.asarray(tm.vertices, np.float64), faces=np.asarray(tm.faces, np.int32), name=p.stem),
        volume=float(mass_mesh.volume),
        unit_inertia=inertia,
        repair=repair,
        source=str(p),
    )


def mesh_library(appearance_names: tuple[str, ...] | None = None, user_dir: str | None = None) -> list[MeshAsset]:
    """The meshes a scene draws from: the user's folder when given, else the shipped meshes
    (restricted to ``appearance_names`` when given)."""
    if user_dir:
        return [load_mesh(str(f)) for f in list_mesh_files(user_dir)]
    ship = shipped_meshes()
    names = [n for n in ship if appearance_names is None or n in appearance_names]
    return [load_mesh(str(ship[n])) for n in names]
