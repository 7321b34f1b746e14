"""throw_parabolic: an object launched at an angle (sampled speed v0 and angle theta).

Before its first contact: apex at t = v0 sin(theta) / g, back at the launch height at twice that time
and at the horizontal distance R = v0^2 sin(2 theta) / g (the range formula). The launch point is
``launch_height`` above the object's resting height, so it returns to the launch height before touching
the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from simgen.config import Range, bounded
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    Draw,
    a_an,
    FamilyConfig,
    check_assets_dir,
    check_restitution,
    check_shapes,
    default_lights,
    describe,
    fit_camera,
    make_any_object,
    make_appearance_floor,
    pick_appearance_colors,
)
from simgen.scenes.throw_horizontal import projectile_points

SHAPES = ("sphere", "box", "cylinder", "capsule", "mesh")


@dataclass
class Config(FamilyConfig):
    name: str = "throw_parabolic"
    shapes: list = bounded(["sphere", "box", "cylinder"], doc="shapes to draw from")
    size: Range = bounded(Range(0.08, 0.14, ood_lo=0.05, ood_hi=0.2), gt=0, doc="radius / half extent, m")
    density: Range = bounded(Range(300.0, 3000.0, ood_lo=100.0, ood_hi=8000.0, log=True), gt=0, doc="kg/m^3")
    mass: Optional[Range] = bounded(None, gt=0, doc="kg; when set, overrides density")
    speed: Range = bounded(Range(2.5, 4.5, ood_lo=1.5, ood_hi=5.5), gt=0, doc="launch speed v0, m/s")
    angle: Range = bounded(Range(30.0, 60.0, ood_lo=15.0, ood_hi=75.0), gt=0, lt=90, doc="launch angle above the horizon, degrees")
    launch_height: Range = bounded(Range(0.1, 0.3), gt=0, doc="launch point above the resting height, m")
    spin: Range = bounded(Range(0.0, 4.0), ge=0, doc="initial spin about the launch's side axis, rad/s")
    friction: Range = bounded(Range(0.3, 0.8), ge=0, doc="friction against the floor")
    restitution: Range = bounded(Range(0.1, 0.5), ge=0, doc="restitution against the floor")
    gravity: float = bounded(9.81, ge=0.1, le=100, doc="m/s^2, along -z")
    camera_elevation: Range = bounded(Range(5.0, 15.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-15.0, 15.0), doc="degrees about z")
    yfov: float = bounded(45.0, gt=1, lt=170, doc="vertical field of view, degrees")
    assets_dir: Optional[str] = bounded(None, doc="folder of the user's meshes for shape 'mesh'")
    grid_params: list = bounded(["speed", "angle"], doc="Range keys enumerated by sampler=grid")

    def check(self) -> None:
        self.check_grid()
        check_shapes(self.shapes, SHAPES)
        check_restitution("restitution", self.restitution)
        check_assets_dir(self.assets_dir)


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = pick_appearance_colors(rng, 1, cfg.appearance, exclude=("gray",))[0]
    floor, floor_style = make_appearance_floor(rng, cfg.appearance)
    shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
    kw = {"mass": draw("mass")} if cfg.mass is not None else {"density": draw("density")}
    obj = make_any_object(rng, shape, draw("size"), draw("friction"), draw("restitution"), color, cfg.appearance,
                          assets_dir=cfg.assets_dir, **kw)
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
               f"{apex - z0:.1f} m and lands about {obj.linear_velocity[0] * t_land:.1f} m away on a {floor_style} floor.")
    return SceneSpec(
        family="throw_parabolic",
        objects=[obj],
        statics=[floor],
        camera=camera,
        lights=default_lights(rng),
        gravity=np.array([0.0, 0.0, -g]),
        fps=ctx.fps,
        frames=ctx.frames,
        physics_hz=ctx.physics_hz,
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
