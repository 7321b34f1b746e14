"""two_ball_collision (2-D): two balls on a horizontal line collide elastically, no gravity, no floor.

Radii, densities (so masses) and velocities are sampled; they meet at ``contact_time`` (fraction of
the clip). Restitution is 1 for both (PyBullet multiplies: 1 x 1) and friction 0, so the collision is
elastic: momentum and kinetic energy are conserved, and the outgoing velocities follow
v1' = ((m1 - m2) v1 + 2 m2 v2) / (m1 + m2), v2' = ((m2 - m1) v2 + 2 m1 v1) / (m1 + m2).
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
    name: str = "two_ball_collision"
    radius_a: Range = bounded(Range(0.15, 0.3, ood_lo=0.08, ood_hi=0.4), gt=0, doc="left ball radius, m")
    radius_b: Range = bounded(Range(0.15, 0.3, ood_lo=0.08, ood_hi=0.4), gt=0, doc="right ball radius, m")
    speed_a: Range = bounded(Range(0.5, 2.0, ood_lo=0.2, ood_hi=3.0), gt=0, doc="left ball's speed towards +x, m/s")
    speed_b: Range = bounded(Range(-2.0, 0.5, ood_lo=-3.0, ood_hi=1.0), doc="right ball's velocity along x, m/s")
    density: Range = bounded(Range(100.0, 400.0, ood_lo=50.0, ood_hi=1000.0), gt=0, doc="kg/m^3 (per ball)")
    contact_time: Range = bounded(Range(0.35, 0.55), gt=0, lt=1, doc="when they meet, fraction of the clip")
    grid_params: list = bounded(["speed_a", "radius_b"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    ca, cb = ctx.look.colors(2, exclude=("white", "gray"))
    ra, rb = draw("radius_a"), draw("radius_b")
    va, vb = draw("speed_a"), draw("speed_b")
    if vb >= va:  # they would never meet: make the right ball slower than the left one
        vb = va - abs(va - vb) - 0.2
    duration = (ctx.frames - 1) / ctx.fps
    tc = draw("contact_time") * duration
    xa0 = np.array([-ra - va * tc, 0.0, 0.0])
    xb0 = np.array([rb - vb * tc, 0.0, 0.0])
    a = _plane2d.ball(ra, draw("density"), ca, xa0, [va, 0.0, 0.0])
    b = _plane2d.ball(rb, draw("density"), cb, xb0, [vb, 0.0, 0.0])
    ma, mb = a.mass, b.mass
    va2 = ((ma - mb) * va + 2 * mb * vb) / (ma + mb)
    vb2 = ((mb - ma) * vb + 2 * ma * va) / (ma + mb)
    rest = duration - tc
    path = np.array([xa0, xb0, [-ra + va2 * rest, 0, 0], [rb + vb2 * rest, 0, 0], [-ra, 0, 0], [rb, 0, 0]])
    caption = (f"{a_an(ca).capitalize()} {ca} ball of {ma:.1f} kg moving at {va:.1f} m/s hits {a_an(cb)} {cb} ball of {mb:.1f} kg moving at "
               f"{vb:.1f} m/s head-on; the collision is elastic.")
    return _plane2d.scene("two_ball_collision", ctx, [a, b], path, max(ra, rb), 0.0,
                          {"radius": np.array([ra, rb], np.float32), "velocity_x": np.array([va, vb], np.float32),
                           "mass": np.array([ma, mb], np.float32), "velocity_x_after": np.array([va2, vb2], np.float32),
                           "contact_time": float(tc), "restitution": 1.0, "gravity": 0.0},
                          caption, ["elastic collision", "conservation of momentum", "conservation of energy", "2d"])
