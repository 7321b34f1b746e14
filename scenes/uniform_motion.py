"""uniform_motion (2-D): one ball moving at constant velocity in the x-z plane, no gravity, no floor.

The check: the recorded velocity is constant (Newton's first law) and positions are linear in time.
The side camera frames the whole path of the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.spec import SceneSpec
from simgen.scenes import _plane2d
from simgen.scenes.common import Draw, FamilyConfig, a_an

ORTHOGRAPHIC = True  # a 2-D side view (see scenes/_plane2d.py)


@dataclass
class Config(FamilyConfig):
    name: str = "uniform_motion"
    radius: Range = bounded(Range(0.2, 0.4, ood_lo=0.1, ood_hi=0.55), gt=0, doc="ball radius, m")
    speed: Range = bounded(Range(1.0, 3.0, ood_lo=0.3, ood_hi=4.5), gt=0, doc="speed, m/s")
    direction: Range = bounded(Range(-20.0, 20.0, ood_lo=-40.0, ood_hi=40.0), doc="angle of travel above +x, degrees")
    density: Range = bounded(Range(100.0, 400.0), gt=0, doc="kg/m^3")
    reverse_prob: float = bounded(0.5, ge=0, le=1, doc="probability of travelling towards -x")
    grid_params: list = bounded(["speed", "radius"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    color = ctx.look.colors(1, exclude=("white", "gray"))[0]
    r, v, ang = draw("radius"), draw("speed"), math.radians(draw("direction"))
    sign = -1.0 if (not draw.fixed and rng.random() < cfg.reverse_prob) else 1.0
    vel = np.array([sign * v * math.cos(ang), 0.0, v * math.sin(ang)])
    duration = (ctx.frames - 1) / ctx.fps
    x0 = -0.5 * vel * duration
    b = _plane2d.ball(r, draw("density"), color, x0, vel)
    path = np.array([x0, x0 + vel * duration])
    caption = f"{a_an(color).capitalize()} {color} ball of radius {r:.2f} m moves in a straight line at a constant {v:.1f} m/s."
    return _plane2d.scene("uniform_motion", ctx, [b], path, r, 0.0,
                          {"speed": float(v), "radius": float(r), "direction": float(math.degrees(ang)),
                           "velocity": vel.astype(np.float32), "gravity": 0.0},
                          caption, ["uniform motion", "inertia", "Newton's first law", "2d"])
