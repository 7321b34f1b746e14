"""parabola (2-D): one ball launched in the x-z plane under a configured gravity g, no floor.

The ball starts with horizontal speed ``speed_x`` and vertical speed ``speed_z``; the check: the
recorded acceleration is (0, 0, -g) with g the sampled gravity (x linear, z quadratic in t).
The side camera frames the whole arc of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.spec import SceneSpec
from simgen.scenes import _plane2d
from simgen.scenes.common import Draw, FamilyConfig, a_an

ORTHOGRAPHIC = True  # a 2-D side view (see scenes/_plane2d.py)


@dataclass
class Config(FamilyConfig):
    name: str = "parabola"
    radius: Range = bounded(Range(0.15, 0.3, ood_lo=0.08, ood_hi=0.4), gt=0, doc="ball radius, m")
    speed_x: Range = bounded(Range(0.8, 2.0, ood_lo=0.3, ood_hi=3.0), ge=0, doc="horizontal launch speed, m/s")
    speed_z: Range = bounded(Range(0.0, 3.0, ood_hi=4.5), doc="vertical launch speed (up), m/s")
    gravity: Range = bounded(Range(4.0, 9.81, ood_lo=2.0, ood_hi=15.0), ge=0, doc="gravity g along -z, m/s^2")
    density: Range = bounded(Range(100.0, 400.0), gt=0, doc="kg/m^3")
    reverse_prob: float = bounded(0.5, ge=0, le=1, doc="probability of travelling towards -x")
    grid_params: list = bounded(["speed_x", "gravity"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = ctx.look.colors(1, exclude=("white", "gray"))[0]
    r, vx, vz, g = draw("radius"), draw("speed_x"), draw("speed_z"), draw("gravity")
    sign = -1.0 if (not draw.fixed and rng.random() < cfg.reverse_prob) else 1.0
    vel = np.array([sign * vx, 0.0, vz])
    duration = (ctx.frames - 1) / ctx.fps
    t = np.linspace(0.0, duration, 24)[:, None]
    rel = vel[None] * t + 0.5 * np.array([0.0, 0.0, -g])[None] * t * t
    x0 = -0.5 * (rel.min(axis=0) + rel.max(axis=0))  # centre the arc on the origin
    x0[1] = 0.0
    b = _plane2d.ball(r, draw("density"), color, x0, vel)
    caption = (f"{a_an(color).capitalize()} {color} ball is launched at {vx:.1f} m/s sideways and {vz:.1f} m/s upwards and follows a "
               f"parabola under gravity of {g:.1f} m/s^2.")
    return _plane2d.scene("parabola", ctx, [b], x0[None] + rel, r, g,
                          {"speed_x": float(vx), "speed_z": float(vz), "radius": float(r), "gravity": float(g),
                           "velocity": vel.astype(np.float32)},
                          caption, ["projectile motion", "parabolic trajectory", "gravity", "2d"])
