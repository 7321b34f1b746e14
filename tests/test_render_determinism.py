"""Pixels depend only on the scene: not on what the process rendered before, not on the process.

The second test is the one that would have caught the run-to-run differences of the first renderer
(pyrender summed its lights in the order of a set of nodes hashed by address, so one pixel in a few
thousand rounded differently in some processes, then up to 28 grey levels after H.264): it renders
the same samples at the default size in several fresh processes, with a second core kept busy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simgen.config import load_config
from simgen.generate import Pipeline

HASHES = Path(__file__).resolve().parent / "render_hashes.py"


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
    for key in ("rgb", "yuv420", "masks", "depth"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["gl", "pyrender"])
def test_same_pixels_in_fresh_processes_with_a_busy_core(backend):
    n, runs = 12, 3
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        env = dict(os.environ, PYTHONHASHSEED="random")
        results = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, str(HASHES), backend, str(n), "seed=0", "render.frames=4"],
                                 capture_output=True, text=True, timeout=300, env=env, check=True).stdout
            results.append([json.loads(line) for line in out.splitlines() if line.startswith("{")])
    finally:
        busy.kill()
        busy.wait()
    assert all(len(r) == n for r in results)
    for i in range(n):
        for key in results[0][i]:
            got = {r[i][key] for r in results}
            assert len(got) == 1, f"{backend}: sample {i} {key} differs between fresh processes"


def _hashes(env_extra: dict, *overrides: str) -> list[dict]:
    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, str(HASHES), "gl", *overrides], capture_output=True, text=True,
                         timeout=300, env=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("scene", ["freefall", "collide"])
def test_drivers_without_stencil_export_give_the_same_pixels(scene):
    """NVIDIA's driver lacks ARB_shader_stencil_export, with which the id pass writes each pixel's
    object id into the stencil that the shading passes test; there the renderer copies the ids into
    the stencil in extra passes. Both paths, forced here on Mesa, give the same bytes in every output."""
    from simgen.render.context import shared_context
    from simgen.render.resources import stencil_export

    if not stencil_export(shared_context()):
        pytest.skip("this driver has no ARB_shader_stencil_export: only the copy path exists here")
    args = ("5", "seed=3", "render.frames=8", f"scene={scene}")
    native, copied = _hashes({"SIMGEN_GL_STENCIL_EXPORT": "1"}, *args), _hashes({"SIMGEN_GL_STENCIL_EXPORT": "0"}, *args)
    assert len(native) == len(copied) == 5
    assert native == copied
