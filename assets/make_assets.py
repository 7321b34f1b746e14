"""Make the meshes (OBJ) and textures (PNG) that ship in assets/. Deterministic: rerunning it
rewrites byte-identical files.

    python assets/make_assets.py

Meshes (assets/meshes/*.obj, body-frame units, any scale: simgen recentres them on the centre of
mass, rotates them onto principal axes and scales them to the sampled size):
  seen:   rock (noisy icosphere), cone, torus (not convex: collides as its convex hull)
  unseen: star (star prism), bowl (thick revolved bowl, not convex), gem (faceted bipyramid)
Textures (assets/textures/*.png, 64x64 RGB, tileable):
  seen:   checker, stripes, wood
  unseen: dots, marble, bricks
The seen/unseen split is ``simgen.scenes.common.APPEARANCE``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

HERE = Path(__file__).resolve().parent


def write_obj(path: Path, mesh: trimesh.Trimesh) -> None:
    lines = [f"# simgen asset {path.stem}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces"]
    lines += [f"v {x:.5f} {y:.5f} {z:.5f}" for x, y, z in np.asarray(mesh.vertices)]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in np.asarray(mesh.faces)]
    path.write_text("\n".join(lines) + "\n")


def rock(rng) -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=2)
    r = 1.0 + 0.18 * rng.standard_normal(len(m.vertices))
    return trimesh.convex.convex_hull(m.vertices * np.clip(r, 0.7, 1.3)[:, None] * np.array([1.0, 0.8, 0.65]))


def star(points: int = 5, r_out: float = 1.0, r_in: float = 0.45, half_h: float = 0.25) -> trimesh.Trimesh:
    ang = np.arange(2 * points) * math.pi / points
    rad = np.where(np.arange(2 * points) % 2 == 0, r_out, r_in)
    ring = np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
    n = len(ring)
    verts = np.concatenate([np.c_[ring, np.full(n, -half_h)], np.c_[ring, np.full(n, half_h)], [[0, 0, -half_h], [0, 0, half_h]]])
    cb, ct = 2 * n, 2 * n + 1
    faces = []
    for i in range(n):
        j = (i + 1) % n
        faces += [[cb, j, i], [ct, n + i, n + j], [i, j, n + j], [i, n + j, n + i]]
    return trimesh.Trimesh(verts, np.array(faces), process=True)


def bowl() -> trimesh.Trimesh:
    # closed profile (r, z) of a thick bowl, revolved about z
    t = np.linspace(0.0, math.pi / 2, 10)
    outer = np.stack([np.sin(t), -np.cos(t)], axis=1)[::-1]  # rim -> bottom
    inner = 0.82 * np.stack([np.sin(t), -np.cos(t)], axis=1)
    prof = np.concatenate([outer, inner, outer[:1]])  # rim down the outside, up the inside, closed
    m = trimesh.creation.revolve(prof, sections=24)
    m.merge_vertices()
    trimesh.repair.fix_normals(m)
    return m


def gem() -> trimesh.Trimesh:
    n = 8
    ang = np.arange(n) * 2 * math.pi / n
    ring = np.c_[np.cos(ang), np.sin(ang), np.zeros(n)]
    return trimesh.convex.convex_hull(np.concatenate([ring, [[0, 0, 0.6], [0, 0, -1.1]]]))


def meshes(rng) -> dict[str, trimesh.Trimesh]:
    return {
        "rock": rock(rng),
        "cone": trimesh.creation.cone(radius=0.6, height=1.4, sections=24),
        "torus": trimesh.creation.torus(major_radius=0.7, minor_radius=0.25, major_sections=24, minor_sections=10),
        "star": star(),
        "bowl": bowl(),
        "gem": gem(),
    }


def textures(rng, s: int = 64) -> dict[str, np.ndarray]:
    yy, xx = np.mgrid[0:s, 0:s] / s

    def two(pat, a, b):
        return np.where(pat[..., None], np.array(a), np.array(b))

    wood_rings = (np.sin(2 * math.pi * (6 * xx + 0.6 * np.sin(2 * math.pi * yy))) + 1) / 2
    marble = (np.sin(2 * math.pi * (2 * xx + 2 * yy + 0.5 * np.sin(4 * math.pi * yy) + 0.3 * np.sin(6 * math.pi * xx))) + 1) / 2
    bricks_rows = (yy * 8).astype(int)
    bricks = ((((xx * 4) + 0.5 * (bricks_rows % 2)) % 1.0) < 0.06) | ((yy * 8) % 1.0 < 0.12)
    out = {
        "checker": two(((xx * 4).astype(int) + (yy * 4).astype(int)) % 2 == 0, (0.85, 0.85, 0.8), (0.3, 0.3, 0.35)),
        "stripes": two(((xx * 8).astype(int) % 2) == 0, (0.9, 0.75, 0.3), (0.55, 0.35, 0.15)),
        "wood": np.array([0.62, 0.42, 0.22]) * (0.75 + 0.25 * wood_rings[..., None]),
        "dots": two(((xx * 4 % 1 - 0.5) ** 2 + (yy * 4 % 1 - 0.5) ** 2) < 0.08, (0.2, 0.35, 0.6), (0.9, 0.9, 0.95)),
        "marble": np.array([0.92, 0.92, 0.9]) - np.array([0.35, 0.35, 0.3]) * (marble[..., None] ** 6),
        "bricks": two(bricks, (0.85, 0.82, 0.78), (0.6, 0.22, 0.15)),
    }
    for k in out:
        out[k] = np.clip(out[k] + rng.normal(0, 0.015, size=(s, s, 1)), 0, 1)
        out[k] = (out[k] * 255).round().astype(np.uint8)
    return out


def main() -> None:
    rng = np.random.default_rng(20240611)
    (HERE / "meshes").mkdir(exist_ok=True)
    (HERE / "textures").mkdir(exist_ok=True)
    for name, m in meshes(rng).items():
        assert m.is_watertight, name
        write_obj(HERE / "meshes" / f"{name}.obj", m)
    for name, img in textures(rng).items():
        Image.fromarray(img).save(HERE / "textures" / f"{name}.png", optimize=True)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file() and p.suffix in (".obj", ".png"))
    print(f"wrote {len(list((HERE / 'meshes').glob('*.obj')))} meshes and {len(list((HERE / 'textures').glob('*.png')))} textures, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
