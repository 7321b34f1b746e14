"""Shipped assets and user meshes: loading, mass properties, repair, clear errors, and a scene that
uses them end to end (physics only)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from simgen.asset_library import load_mesh, load_texture, mesh_library, shipped_meshes, shipped_textures
from simgen.config import load_config
from simgen.errors import ConfigError, UserError
from simgen.paths import assets_dir
from simgen.scenes.common import APPEARANCE


def test_shipped_assets_are_small_and_cover_the_appearance_split():
    meshes, textures = shipped_meshes(), shipped_textures()
    for app in ("seen", "unseen"):
        assert set(APPEARANCE[app]["meshes"]) <= set(meshes)
        assert set(APPEARANCE[app]["textures"]) <= set(textures)
    total = sum(p.stat().st_size for p in assets_dir().rglob("*") if p.suffix in (".obj", ".png"))
    assert total < 500 * 1024
    assert load_texture("wood").shape == (64, 64, 3)


def test_shipped_meshes_normalised_with_exact_mass_properties():
    for name, path in shipped_meshes().items():
        a = load_mesh(str(path))
        assert a.repair in ("none", "merged"), name  # all shipped meshes are watertight
        assert np.linalg.norm(a.mesh.vertices, axis=1).max() == pytest.approx(1.0)
        tm = trimesh.Trimesh(a.mesh.vertices, a.mesh.faces)
        assert np.abs(tm.center_mass).max() < 1e-6, name  # centre of mass at the origin
        mesh, m, inertia = a.scaled(0.2, density=500.0)
        assert m == pytest.approx(500.0 * tm.volume * 0.2**3, rel=1e-6)
        tm2 = trimesh.Trimesh(mesh.vertices, mesh.faces)
        tm2.density = 500.0
        I = tm2.moment_inertia
        assert np.abs(I - np.diag(np.diag(I))).max() < 1e-6 * np.abs(I).max()  # principal axes
        assert np.diag(I) == pytest.approx(inertia, rel=1e-5)


def test_user_meshes_repair_and_errors(tmp_path):
    box = trimesh.creation.box(extents=[0.4, 0.2, 0.1])
    box.export(tmp_path / "box.stl")
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2])  # one face missing: not watertight
    open_box.export(tmp_path / "open.obj")
    a = load_mesh(str(tmp_path / "box.stl"))
    assert a.repair in ("none", "merged") and a.volume > 0
    b = load_mesh(str(tmp_path / "open.obj"))
    assert b.repair in ("filled_holes", "convex_hull_mass")
    assert b.volume == pytest.approx(a.volume, rel=1e-6)  # repaired to the same solid
    (tmp_path / "junk.obj").write_text("this is not a mesh\n")
    with pytest.raises(UserError, match="junk.obj"):
        load_mesh(str(tmp_path / "junk.obj"))
    flat = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], [[0, 1, 2], [1, 3, 2]])
    flat.export(tmp_path / "flat.obj")
    with pytest.raises(UserError, match="flat"):
        load_mesh(str(tmp_path / "flat.obj"))


def test_assets_dir_config_errors_and_use(tmp_path):
    with pytest.raises(ConfigError, match="not a folder"):
        load_config(["scene=bounce", f"scene.assets_dir={tmp_path / 'missing'}"])
    good = tmp_path / "good"
    good.mkdir()
    trimesh.creation.icosahedron().export(good / "ico.obj")
    trimesh.creation.box(extents=[0.4, 0.2, 0.1]).export(good / "slab.glb")
    from simgen.engines import make_engine
    from simgen.scenes_registry import make_scene

    cfg = load_config(["scene=bounce", f"scene.assets_dir={good}", "scene.shapes=[mesh]", "render.frames=16"])
    spec, _ = make_scene(cfg, 0)
    assert all(o.shape == "mesh" and o.mesh.name in ("ico", "slab") for o in spec.objects)
    traj = make_engine("pybullet").simulate(spec)
    assert np.allclose(traj.mass, [o.mass for o in spec.objects], rtol=1e-5)
    assert traj.positions[-1, :, 2].min() > 0  # they land on the floor, not through it
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.stl").write_bytes(b"\x00" * 10)
    with pytest.raises(ConfigError, match=r"x\.stl"):
        load_config(["scene=bounce", f"scene.assets_dir={bad}"])
    assert len(mesh_library(APPEARANCE["seen"]["meshes"])) == 3
