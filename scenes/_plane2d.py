"""Shared by the 2-D law scenes (uniform_motion, parabola, two_ball_collision), modelled on the
"physical law perspective" study of video generation models: balls moving in the vertical x-z plane
(y = 0), seen by an orthographic side camera (image x = world x, image up = world z), on a plain
background, with no floor. Balls are frictionless spheres without spin. The family modules set ``ORTHOGRAPHIC``:
camera motion does not apply to them.
"""

from __future__ import annotations

import numpy as np

from simgen.shapes import principal_inertia
from simgen.spec import ObjectSpec, SceneSpec
from simgen.scenes.common import PALETTE, make_spec, side_camera


def ball(radius: float, density: float, color_name: str, position, velocity, restitution: float = 1.0) -> ObjectSpec:
    mass = density * 4.0 / 3.0 * np.pi * radius**3
    return ObjectSpec(shape="sphere", size=np.array([radius]), mass=mass, friction=0.0, restitution=restitution,
                      color=np.array(PALETTE[color_name]), position=np.asarray(position, float),
                      linear_velocity=np.asarray(velocity, float), inertia=principal_inertia("sphere", np.array([radius]), mass),
                      color_name=color_name)


def scene(family: str, ctx, objects, path_points, radius, gravity: float, params, caption, tags) -> SceneSpec:
    """The SceneSpec of a 2-D law scene: plain balls (the study's look; roughness and specular drawn
    by ``ctx.look``) before a flat backdrop, lit from the camera's side."""
    ctx.look.plain(objects)
    return make_spec(
        family, ctx, gravity,
        objects=objects,
        statics=[],
        camera=side_camera(ctx, np.asarray(path_points), radius),
        params=params,
        caption=caption,
        tags=tags,
    )
