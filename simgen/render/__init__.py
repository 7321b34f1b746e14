"""Rendering: SceneSpec + Trajectory -> Frames (RGB, masks, depth, ...). Never steps physics.

:func:`make_renderer` is the one entry point the pipeline, the evaluator and the tools use; it picks
the backend from the render config.
"""

from __future__ import annotations


def make_renderer(render_cfg):
    """A renderer for ``render_cfg`` (the ``render`` group of the config: width, height, shading, ...).

    The object has ``render(spec, traj, masks=True, depth=True, silhouettes=False) -> Frames`` and
    ``close()``; create one per process and reuse it (it holds the GL context)."""
    from simgen.render.pyrender_renderer import Renderer

    return Renderer(int(render_cfg.width), int(render_cfg.height), shading=str(render_cfg.shading))
