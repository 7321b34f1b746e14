"""Rendering: SceneSpec + Trajectory -> Frames (RGB, masks, depth, flow, ...). Never steps physics.

:func:`make_renderer` is the one entry point the pipeline, the evaluator and the tools use; it picks
the backend from the render config: ``render.backend=gl`` (default) is the batched renderer
(:mod:`simgen.render.batched`, moderngl over EGL), ``pyrender`` the reference
(:mod:`simgen.render.pyrender_renderer`).

Modules: ``context`` (EGL context, raw GL calls), ``resources`` (programs, layered targets),
``meshes`` (triangles both backends draw), ``camera`` (matrices, projection), ``materials`` (looks
from the SceneSpec), ``shadows`` (shadow-map cameras), ``tiles`` (where frames change), ``flow``
(rigid-motion flow), ``batched`` (the frame loop and read-back), ``frames`` (the result).
"""

from __future__ import annotations

from simgen.render.frames import Frames

__all__ = ["Frames", "make_renderer"]


def make_renderer(render_cfg):
    """A renderer for ``render_cfg`` (the ``render`` group of the config: width, height, backend, ...).

    The object has ``render(spec, traj, masks=True, depth=True, silhouettes=False, flow=None) ->
    Frames`` and ``close()``; create one per process and reuse it (it holds the GL context). A
    SceneSpec with no objects (and a Trajectory with none) renders the static scene alone."""
    get = render_cfg.get if hasattr(render_cfg, "get") else (lambda k, d=None: getattr(render_cfg, k, d))
    width, height = int(get("width")), int(get("height"))
    backend = str(get("backend", "gl"))
    shading = str(get("shading", "fast"))
    flow = bool(get("flow", False))
    depth_dtype = str(get("depth_dtype", "float32"))
    if backend == "pyrender":
        from simgen.render.pyrender_renderer import Renderer

        return Renderer(width, height, shading=shading, flow=flow, depth_dtype=depth_dtype)
    if backend != "gl":
        raise ValueError(f"render.backend={backend!r} is not one of gl, pyrender")
    from simgen.render.batched import BatchedRenderer

    return BatchedRenderer(width, height, shading=shading, shadows=bool(get("shadows", True)),
                           msaa=int(get("msaa", 4)), shadow_map_size=int(get("shadow_map_size", 256)),
                           depth_dtype=depth_dtype, flow=flow)
