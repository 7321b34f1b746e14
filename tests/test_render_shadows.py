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
    """One object dropped and at rest in the last frame (12 seeds, 5 shapes): the floor pixels just
    below its silhouette are at least 8 % darker with shadows; its own inner pixels are the same
    to the bit (a convex body shadows no part of itself that the light reaches)."""
    on, off = renderers
    cfg = load_config(["scene=freefall", "seed=4", f"render.width={W}", f"render.height={H}", f"render.frames={T}",
                       "render.fps=8", "scene.max_objects=1"])
    pipe = Pipeline(cfg, render=False)
    ratios, shapes = [], set()
    for i in range(12):
        spec, traj = pipe.simulate(i)[:2]
        a, b = on.render(spec, traj), off.render(spec, traj)
        t = T - 1
        m = a.masks[t] > 0
        inner = m & np.roll(m, 1, 0) & np.roll(m, -1, 0) & np.roll(m, 1, 1) & np.roll(m, -1, 1)
        np.testing.assert_array_equal(np.asarray(a.rgb[t])[inner], np.asarray(b.rgb[t])[inner], err_msg=f"sample {i}")
        cols = np.flatnonzero(m.any(axis=0))
        below = [(np.flatnonzero(m[:, c]).max() + 1, c) for c in cols]
        below = [(r, c) for r, c in below if r < H and a.depth[t, r, c] > 0]
        if len(below) < 3:  # the object's bottom is out of the picture
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
