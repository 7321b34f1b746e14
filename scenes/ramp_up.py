"""ramp_up: a box pushed up an incline; it decelerates at g (sin theta + mu cos theta), stops,
and slides back down when tan(theta) > mu (else it stays).

The ramp is made long enough for the climb, v0^2 / (2 g (sin theta + mu cos theta)), plus a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.spec import SceneSpec
from simgen.scenes import _ramp
from simgen.scenes.common import (
    Draw,
    FamilyConfig,
    a_an,
    describe,
    fit_camera,
    friction_word,
    make_spec,
)


@dataclass
class Config(FamilyConfig):
    name: str = "ramp_up"
    angle: Range = bounded(Range(10.0, 30.0, ood_lo=5.0, ood_hi=40.0), gt=0, lt=80, doc="ramp angle, degrees")
    friction: Range = bounded(Range(0.1, 0.5, ood_lo=0.0, ood_hi=0.8), ge=0, doc="Coulomb friction box-ramp (effective)")
    speed: Range = bounded(Range(1.5, 3.0, ood_lo=1.0, ood_hi=4.0), gt=0, doc="initial speed up the slope, m/s")
    length: Range = bounded(Range(1.8, 2.6), gt=0.5, doc="ramp length along the slope (at least the climb), m")
    size: Range = bounded(Range(0.07, 0.12, ood_lo=0.05, ood_hi=0.16), gt=0, doc="half length of the box, m")
    density: Range = bounded(Range(300.0, 3000.0, ood_lo=100.0, ood_hi=8000.0, log=True), gt=0, doc="kg/m^3")
    gravity: float = bounded(9.81, ge=0.1, le=100, doc="m/s^2, along -z")
    camera_elevation: Range = bounded(Range(10.0, 25.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-20.0, 20.0), doc="degrees about z")
    yfov: float = bounded(45.0, gt=1, lt=170, doc="vertical field of view, degrees")
    grid_params: list = bounded(["angle", "friction"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = ctx.look.colors(1, exclude=("gray",))[0]
    floor, floor_kind = ctx.look.floor()
    theta, mu, v0 = draw("angle"), draw("friction"), draw("speed")
    th = math.radians(theta)
    decel = cfg.gravity * (math.sin(th) + mu * math.cos(th))
    climb = v0 * v0 / (2 * decel)
    size = draw("size")
    start = 2 * size + 0.15  # distance of the box centre from the lower end, along the slope
    length = max(draw("length"), start + climb + size + 0.25)
    ramp, tex = _ramp.make_ramp(ctx.look, theta, length)
    obj = _ramp.make_slider(rng, size, mu, color, draw("density"), theta, length, from_top=length - start, speed_down=-v0)
    ctx.look.dress([obj])
    slides_back = math.tan(th) > mu
    d, _, _ = _ramp.ramp_frame(theta)
    pts = np.array([obj.position, -(start + climb) * d, np.zeros(3), [0.3, 0.0, 0.05],
                    [0.0, 0.5 * _ramp.WIDTH, 0.0], [0.0, -0.5 * _ramp.WIDTH, 0.0]])
    camera = fit_camera(rng, ctx, pts, 0.15, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov)
    after = "slides back down" if slides_back else "stays there"
    speed = f"{v0:.1f}" if v0 >= 0.1 else f"{v0:.2g}"  # a slow push reads "0.03 m/s", never "0.0 m/s"
    caption = (f"{a_an(describe(obj)).capitalize()} {describe(obj)} is pushed at {speed} m/s up a {theta:.0f} degree {tex} "
               f"ramp with a {friction_word(mu)} surface (friction {mu:.2f}), climbs {climb:.1f} m, stops and {after}.")
    return make_spec(
        "ramp_up", ctx, cfg.gravity,
        objects=[obj],
        statics=[floor, ramp],
        camera=camera,
        params={
            "ramp_angle": float(theta),
            "friction": float(mu),
            "launch_speed": float(v0),
            "ramp_length": float(length),
            "expected_deceleration": float(decel),
            "climb_distance": float(climb),
            "slides_back": float(slides_back),
            "ramp_texture": tex,
            "gravity": float(cfg.gravity),
        },
        caption=caption,
        tags=["inclined plane", "friction", "gravity", "uniformly decelerated motion"],
    )
