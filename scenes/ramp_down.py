"""ramp_down: a box released (or pushed) down an incline with sampled angle and friction.

While it slides, its along-slope acceleration is g (sin theta - mu cos theta) (Coulomb friction,
mu = the box's friction, which is the effective coefficient against the ramp in PyBullet). With the
default ranges tan(theta) > mu, so a released box always starts sliding.
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
    floor_phrase,
    friction_word,
    make_spec,
)


@dataclass
class Config(FamilyConfig):
    name: str = "ramp_down"
    angle: Range = bounded(Range(20.0, 40.0, ood_lo=10.0, ood_hi=50.0), gt=0, lt=80, doc="ramp angle, degrees")
    friction: Range = bounded(Range(0.05, 0.35, ood_lo=0.0, ood_hi=0.6), ge=0, doc="Coulomb friction box-ramp (effective)")
    push_speed: Range = bounded(Range(0.0, 0.8, ood_hi=1.5), ge=0, doc="initial speed down the slope, m/s")
    push_prob: float = bounded(0.5, ge=0, le=1, doc="probability that the box is pushed (else released at rest)")
    length: Range = bounded(Range(1.8, 2.6), gt=0.5, doc="ramp length along the slope, m")
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
    theta, mu, length = draw("angle"), draw("friction"), draw("length")
    ramp, tex = _ramp.make_ramp(ctx.look, theta, length)
    pushed = bool(draw.fixed) or rng.random() < cfg.push_prob
    v0 = draw("push_speed") if pushed and not draw.fixed else (cfg.push_speed.lo if draw.fixed else 0.0)
    size = draw("size")
    obj = _ramp.make_slider(rng, size, mu, color, draw("density"), theta, length, from_top=size + 0.1, speed_down=v0)
    ctx.look.dress([obj])
    th = math.radians(theta)
    accel = cfg.gravity * (math.sin(th) - mu * math.cos(th))
    d, _, _ = _ramp.ramp_frame(theta)
    pts = np.array([obj.position, -length * d, np.zeros(3), [0.6, 0.0, 0.05], [0.0, 0.5 * _ramp.WIDTH, 0.0], [0.0, -0.5 * _ramp.WIDTH, 0.0]])
    camera = fit_camera(rng, ctx, pts, 0.15, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov)
    speed = f"{v0:.1f}" if v0 >= 0.1 else f"{v0:.2g}"  # a slow push reads "0.03 m/s", never "0.0 m/s"
    start = f"pushed at {speed} m/s" if v0 > 0 else "released"
    motion = "slides down" if accel > 0 or v0 > 0 else "stays put"
    caption = (f"{a_an(describe(obj)).capitalize()} {describe(obj)} is {start} on a {theta:.0f} degree {tex} ramp with a "
               f"{friction_word(mu)} surface (friction {mu:.2f}) and {motion} onto {floor_phrase(floor_kind)}.")
    return make_spec(
        "ramp_down", ctx, cfg.gravity,
        objects=[obj],
        statics=[floor, ramp],
        camera=camera,
        params={
            "ramp_angle": float(theta),
            "friction": float(mu),
            "push_speed": float(v0),
            "ramp_length": float(length),
            "expected_acceleration": float(accel),
            "ramp_texture": tex,
            "gravity": float(cfg.gravity),
        },
        caption=caption,
        tags=["inclined plane", "friction", "gravity", "uniformly accelerated motion"],
    )
