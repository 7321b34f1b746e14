"""throw_horizontal: an object launched horizontally from a height.

Until its first contact the centre of mass moves as x = x0 + v0 t (uniform) and
z = z0 - g t^2 / 2; the object lands after sqrt(2 h / g) at a distance v0 sqrt(2 h / g).
The launch direction is along +x (the camera looks roughly along +y, so the motion crosses the image).
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


@dataclass
class Config(ObjectFamilyConfig):
    name: str = "throw_horizontal"
    speed: Range = bounded(Range(1.0, 2.5, ood_lo=0.5, ood_hi=3.5), gt=0, doc="horizontal launch speed v0, m/s")
    height: Range = bounded(Range(0.6, 1.4, ood_lo=0.3, ood_hi=1.8), gt=0, doc="launch height of the centre of mass, m")
    gravity: float = bounded(9.81, ge=0.1, le=100, doc="m/s^2, along -z")
    grid_params: list = bounded(["speed", "height"], doc="Range keys enumerated by sampler=grid")


def projectile_points(x0: np.ndarray, v0: np.ndarray, g: float, t_end: float, n: int = 12) -> np.ndarray:
    t = np.linspace(0.0, t_end, n)[:, None]
    return x0[None] + v0[None] * t + 0.5 * np.array([0.0, 0.0, -g])[None] * t * t


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = ctx.look.colors(1, exclude=("gray",))[0]
    floor, floor_kind = ctx.look.floor()
    obj = draw_object(draw, cfg, color)
    ctx.look.dress([obj])
    r = bounding_radius(obj)
    v0, h = draw("speed"), max(draw("height"), r + 0.02)
    t_land = math.sqrt(2 * (h - r) / cfg.gravity)
    reach = v0 * t_land
    obj.position = np.array([-0.5 * reach - 0.2, 0.0, h])
    obj.linear_velocity = np.array([v0, 0.0, 0.0])
    pts = projectile_points(obj.position, obj.linear_velocity, cfg.gravity, t_land)
    pts = np.concatenate([pts, [[obj.position[0] + reach + 0.4, 0.0, r]]])
    camera = fit_camera(rng, ctx, pts, r, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov)
    caption = (f"{a_an(describe(obj)).capitalize()} {describe(obj)} is thrown horizontally at {v0:.1f} m/s from {h:.1f} m and lands "
               f"{reach:.1f} m away on {floor_phrase(floor_kind)}.")
    return make_spec(
        "throw_horizontal", ctx, cfg.gravity,
        objects=[obj],
        statics=[floor],
        camera=camera,
        params={
            "launch_speed": float(v0),
            "launch_angle": 0.0,
            "launch_height": float(h),
            "fall_time": float(t_land),
            "range": float(reach),
            "friction": float(obj.friction),
            "restitution": float(obj.restitution),
            "gravity": float(cfg.gravity),
        },
        caption=caption,
        tags=["projectile motion", "gravity", "free fall", "uniform motion", "collision"],
    )
