"""Shared by the 2-D law scenes (uniform_motion, parabola, two_ball_collision), modelled on the
"physical law perspective" study of video generation models: balls moving in the vertical x-z plane
(y = 0), seen by an orthographic side camera (image x = world x, image up = world z), on a plain
background, with no floor. Balls are frictionless spheres without spin.
"""

from __future__ import annotations

import numpy as np

from simgen.shapes import principal_inertia
from simgen.spec import ObjectSpec, SceneSpec
from simgen.scenes.common import PALETTE, appearance_set, front_lights, make_spec, side_camera


def ball(radius: float, density: float, color_name: str, position, velocity, restitution: float = 1.0) -> ObjectSpec:
    mass = density * 4.0 / 3.0 * np.pi * radius**3
    return ObjectSpec(shape="sphere", size=np.array([radius]), mass=mass, friction=0.0, restitution=restitution,
                      color=np.array(PALETTE[color_name]), position=np.asarray(position, float),
                      linear_velocity=np.asarray(velocity, float), inertia=principal_inertia("sphere", np.array([radius]), mass),
                      color_name=color_name)


def background(rng, appearance: str) -> np.ndarray:
    opts = appearance_set("backgrounds", appearance)
    return np.array(opts[int(rng.integers(len(opts)))], dtype=np.float64)


def scene(family: str, rng, ctx, objects, path_points, radius, gravity: float, appearance: str, params, caption, tags) -> SceneSpec:
    return make_spec(
        family, rng, ctx, gravity,
        lights=front_lights(),
        objects=objects,
        statics=[],
        camera=side_camera(ctx, np.asarray(path_points), radius),
        ambient_light=np.full(3, 0.45),
        background=background(rng, appearance),
        params=params,
        caption=caption,
        tags=tags,
    )
