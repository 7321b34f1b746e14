"""Pixels depend only on the scene, not on what the worker process rendered before."""

from __future__ import annotations

import numpy as np

from simgen.config import load_config
from simgen.generate import Pipeline


def test_render_is_independent_of_render_history():
    cfg = load_config(["seed=7", "render.width=96", "render.height=96", "render.frames=6"])
    fresh = Pipeline(cfg)
    spec, traj, _ = fresh.simulate(4)
    a = fresh.renderer.render(spec, traj)
    fresh.close()
    used = Pipeline(cfg)
    for i in (3, 5, 1):  # other scenes first: other textures, meshes and programs in the context
        s, t, _ = used.simulate(i)
        used.renderer.render(s, t)
    spec, traj, _ = used.simulate(4)
    b = used.renderer.render(spec, traj)
    used.close()
    np.testing.assert_array_equal(a.rgb, b.rgb)
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_array_equal(a.depth, b.depth)
