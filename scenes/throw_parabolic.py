"""throw_parabolic: an object launched at an angle (sampled speed v0 and angle theta).

Before its first contact: apex at t = v0 sin(theta) / g, back at the launch height at twice that time
and at the horizontal distance R = v0^2 sin(2 theta) / g (the range formula). The launch point is
``launch_height`` above the object's resting height, so it returns to the launch height before touching
the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    Draw,
    ObjectFamilyConfig,
    a_an,
    describe,
    draw_object,
    fit_camera,
    floor_phrase,
    make_spec,
)
from simgen.scenes.throw_horizontal import projectile_points


@dataclass
class Config(ObjectFamilyConfig):
    name: str = "throw_parabolic"
    speed: Range = bounded(Range(2.5, 4.5, ood_lo=1.5, ood_hi=5.5), gt=0, doc="launch speed v0, m/s")
    angle: Range = bounded(Range(30.0, 60.0, ood_lo=15.0, ood_hi=75.0), gt=0, lt=90, doc="launch angle above the horizon, degrees")
    launch_height: Range = bounded(Range(0.1, 0.3), gt=0, doc="launch point above the resting height, m")
    spin: Range = bounded(Range(0.0, 4.0), ge=0, doc="initial spin about the launch's side axis, rad/s")
    gravity: float = bounded(9.81, ge=0.1, le=100, doc="m/s^2, along -z")
    grid_params: list = bounded(["speed", "angle"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = ctx.look.colors(1, exclude=("gray",))[0]
    floor, floor_kind = ctx.look.floor()
    obj = draw_object(draw, cfg, color)
    ctx.look.dress([obj])
    r = bounding_radius(obj)
    v0, theta = draw("speed"), draw("angle")
    th = math.radians(theta)
    g = cfg.gravity
    z0 = r + draw("launch_height")
    t_apex = v0 * math.sin(th) / g
    rng_x = v0 * v0 * math.sin(2 * th) / g
    apex = z0 + (v0 * math.sin(th)) ** 2 / (2 * g)
    t_land = (v0 * math.sin(th) + math.sqrt((v0 * math.sin(th)) ** 2 + 2 * g * (z0 - r))) / g
    obj.position = np.array([-0.5 * rng_x, 0.0, z0])
    obj.linear_velocity = np.array([v0 * math.cos(th), 0.0, v0 * math.sin(th)])
    obj.angular_velocity = np.array([0.0, draw("spin"), 0.0])
    pts = projectile_points(obj.position, obj.linear_velocity, g, t_land)
    pts = np.concatenate([pts, [[pts[-1][0] + 0.3, 0.0, r]]])
    camera = fit_camera(rng, ctx, pts, r, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov)
    caption = (f"{a_an(describe(obj)).capitalize()} {describe(obj)} is thrown at {v0:.1f} m/s, {theta:.0f} degrees above the horizon, rises "
               f"{apex - z0:.1f} m and lands about {obj.linear_velocity[0] * t_land:.1f} m away on {floor_phrase(floor_kind)}.")
    return make_spec(
        "throw_parabolic", ctx, g,
        objects=[obj],
        statics=[floor],
        camera=camera,
        params={
            "launch_speed": float(v0),
            "launch_angle": float(theta),
            "launch_height": float(z0),
            "apex_time": float(t_apex),
            "apex_height": float(apex),
            "range": float(rng_x),
            "friction": float(obj.friction),
            "restitution": float(obj.restitution),
            "gravity": float(g),
        },
        caption=caption,
        tags=["projectile motion", "gravity", "parabolic trajectory", "collision"],
    )
