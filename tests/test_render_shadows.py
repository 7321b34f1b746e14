"""Shadows (render.shadows, on by default): present where they must be, nowhere else.

Same scenes and the same physics rendered with shadows on and off: a resting object darkens the
floor where it touches it (a visible contact shadow: no peter-panning), the lit objects are not
darkened by their own shadow maps (no acne), shadows only ever darken, and the ramps shadow the floor.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from simgen.config import load_config
from simgen.generate import Pipeline
from simgen.render.batched import BatchedRenderer

W = H = 96
T = 24


@pytest.fixture(scope="module")
def renderers():
    on = BatchedRenderer(W, H, depth_dtype="float32", shadows=True)
    off = BatchedRenderer(W, H, depth_dtype="float32", shadows=False)
    yield on, off
    on.close()
    off.close()


def _lum(img) -> np.ndarray:
    return np.asarray(img, np.float64) @ np.array([0.299, 0.587, 0.114])


def test_resting_objects_cast_contact_shadows_and_no_acne(renderers):
    """One object dropped (20 seeds, 5 shapes): where it is at rest on the floor in the last frame
    (still rocking or rolling counts as not at rest: a box rocking on an edge lifts its front off
    the floor), the floor pixels just below its silhouette are at least 8 % darker with shadows;
    its own inner pixels are the same to the bit (a convex body shadows no part of itself that the
    light reaches)."""
    on, off = renderers
    cfg = load_config(["scene=freefall", "seed=4", f"render.width={W}", f"render.height={H}", f"render.frames={T}",
                       "render.fps=8", "scene.max_objects=1"])
    pipe = Pipeline(cfg, render=False)
    ratios, shapes = [], set()
    for i in range(20):
        spec, traj = pipe.simulate(i)[:2]
        a, b = on.render(spec, traj), off.render(spec, traj)
        t = T - 1
        R = float(np.linalg.norm(np.asarray(spec.objects[0].size, float)[:3]))
        rest = (np.linalg.norm(traj.linear_velocity[t][0]) + np.linalg.norm(traj.angular_velocity[t][0]) * R) < 0.01
        m = a.masks[t] > 0
        inner = m & np.roll(m, 1, 0) & np.roll(m, -1, 0) & np.roll(m, 1, 1) & np.roll(m, -1, 1)
        np.testing.assert_array_equal(np.asarray(a.rgb[t])[inner], np.asarray(b.rgb[t])[inner], err_msg=f"sample {i}")
        cols = np.flatnonzero(m.any(axis=0))
        below = [(np.flatnonzero(m[:, c]).max() + 1, c) for c in cols]
        below = [(r, c) for r, c in below if r < H and a.depth[t, r, c] > 0]
        if len(below) < 3 or not rest:  # the object's bottom is out of the picture, or it still moves
            continue
        r, c = np.array(below).T
        ratios.append(_lum(a.rgb[t])[r, c].mean() / _lum(b.rgb[t])[r, c].mean())
        shapes.add(spec.objects[0].shape)
    pipe.close()
    assert len(ratios) >= 8 and len(shapes) >= 3
    assert max(ratios) < 0.92, ratios


def test_shadows_only_darken_and_ramps_shadow_the_floor(renderers):
    on, off = renderers
    cfg = load_config(["scene=ramp_down", "seed=2", f"render.width={W}", f"render.height={H}", "render.frames=8"])
    pipe = Pipeline(cfg, render=False)
    for i in range(4):
        spec, traj = pipe.simulate(i)[:2]
        a, b = on.render(spec, traj), off.render(spec, traj)
        np.testing.assert_array_equal(a.masks, b.masks)
        bg = (np.asarray(a.masks) == 0)
        near = ~bg | np.roll(~bg, 1, 1) | np.roll(~bg, -1, 1) | np.roll(~bg, 1, 2) | np.roll(~bg, -1, 2)
        la, lb = _lum(a.rgb), _lum(b.rgb)
        assert (la[~near] <= lb[~near] + 1e-9).all()  # nowhere brighter
        # the ramp's shadow on the floor (a static shadow: the same in every frame)
        plate = copy.copy(spec)
        plate.objects = []
        empty = copy.copy(traj)
        empty.positions = empty.linear_velocity = empty.angular_velocity = np.zeros((8, 0, 3))
        empty.quaternions = np.zeros((8, 0, 4))
        pa, pb = _lum(on.render(plate, empty).rgb[0]), _lum(off.render(plate, empty).rgb[0])
        assert (pa <= pb + 1e-9).all()
        assert ((pa < 0.75 * pb) & (a.depth[0] > 0)).mean() > 0.01
    pipe.close()


def test_shadow_volumes_reaching_behind_the_camera_match_the_rectangles(monkeypatch):
    """Low key light: the casters' reach boxes pass under and behind the camera (corners behind it)
    in these freefall videos. The stencil-tested boxes are still drawn (the camera lies outside
    them) and give the same frames, to the bit, as the rectangle fallback."""
    import math

    import simgen.render.batched as batched
    from simgen.render.camera import project
    from simgen.render.materials import light_uniforms
    from simgen.render.meshes import object_meshes
    from simgen.render.shadows import reach_boxes
    from simgen.shapes import volume

    pl = Pipeline(load_config(["scene=freefall", "out=/tmp/unused"]))
    r = pl.renderer
    for i in (6, 15):
        spec, traj, _ = pl.simulate(i)
        # the premise: some corner of a reach box lies behind the camera
        lights = light_uniforms(spec.lights)
        travel = -lights.light_dir[lights.key_light].astype(np.float64)
        radius = np.array([np.linalg.norm(m.positions, axis=1).max() for m in object_meshes(spec, traj)])
        occ = np.array([(3.0 * volume(o.shape, o.size, o.mesh) / (4.0 * math.pi)) ** (1 / 3) for o in spec.objects])
        zmin = min(st.position[2] for st in spec.statics if st.visible)
        box = reach_boxes(traj.positions, radius, occ, travel, zmin, 256)
        T = traj.positions.shape[0]
        _, zc = project(box.reshape(T, -1, 3), np.linalg.inv(spec.camera.poses(T)), spec.camera)
        assert (zc < 0).any(), f"freefall {i}: no reach box behind the camera any more; pick another video"
        vol = r.render(spec, traj, silhouettes=True)
        assert r._volumes, f"freefall {i}: the shadow volumes were not used"
        with monkeypatch.context() as m:
            m.setattr(batched, "camera_clear_of_reach", lambda *a, **k: False)
            rect = r.render(spec, traj, silhouettes=True)
            assert not r._volumes
        for name in ("rgb", "yuv420", "masks", "depth", "unoccluded"):
            assert np.array_equal(getattr(vol, name), getattr(rect, name)), f"freefall {i}: {name} differs"
