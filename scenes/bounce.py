"""bounce: 1..N objects dropped onto a floor with sampled restitution, several bounces per clip.

PyBullet multiplies the two bodies' restitution; the floor has 1.0, so an object's ``restitution``
is the effective coefficient e of its floor impacts: the rebound speed is e times the impact speed
and successive apex heights (above the resting height) shrink by e^2. Objects start without spin and
far enough apart horizontally that they never touch each other (spheres bounce straight up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    Draw,
    ObjectFamilyConfig,
    describe,
    draw_object,
    drop_caption,
    drop_params,
    fit_camera,
    make_spec,
    material_word,
    rest_height,
    times_word,
)


@dataclass
class Config(ObjectFamilyConfig):
    name: str = "bounce"
    min_objects: int = bounded(1, ge=1, le=8, doc="fewest objects per scene")
    max_objects: int = bounded(2, ge=1, le=8, doc="most objects per scene")
    shapes: list = bounded(["sphere"], doc="shapes to draw from (sphere, box, cylinder, capsule, mesh)")
    size: Range = bounded(Range(0.08, 0.15, ood_lo=0.05, ood_hi=0.22), gt=0, doc="radius / half extent, m")
    restitution: Range = bounded(Range(0.3, 0.85, ood_lo=0.2, ood_hi=0.95), ge=0, doc="coefficient of restitution against the floor")
    friction: Range = bounded(Range(0.3, 0.8, ood_lo=0.1, ood_hi=1.0), ge=0, doc="Coulomb friction against the floor")
    height: Range = bounded(Range(0.6, 1.3, ood_lo=0.35, ood_hi=1.8), gt=0, doc="drop height of the lowest point above the floor, m")
    spread: float = bounded(0.6, gt=0, le=5, doc="objects start within +-spread m of the centre (x, y)")
    camera_azimuth: Range = bounded(Range(-25.0, 25.0), doc="degrees about z")
    grid_params: list = bounded(["height", "restitution"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    grid = bool(draw.fixed)
    k = cfg.min_objects if grid else int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    colors = ctx.look.colors(k, exclude=("gray",))
    floor, floor_kind = ctx.look.floor()
    objects, heights = [], []
    for i in range(k):
        obj = draw_object(draw, cfg, colors[i])
        r = bounding_radius(obj)
        h = draw("height")
        for _ in range(200):
            xy = rng.uniform(-cfg.spread, cfg.spread, size=2) * (0.0 if k == 1 and grid else 1.0)
            if all(np.hypot(*(xy - o.position[:2])) > r + bounding_radius(o) + 0.05 for o in objects):
                break
            cfg_spread = cfg.spread * 1.2  # crowded: widen a little
            xy = rng.uniform(-cfg_spread, cfg_spread, size=2)
        obj.position = np.array([xy[0], xy[1], h + rest_height(obj)])
        objects.append(obj)
        heights.append(h)
    pts = np.concatenate([[o.position, o.position * [1, 1, 0] + [0, 0, bounding_radius(o)]] for o in objects])
    camera = fit_camera(rng, ctx, pts, max(bounding_radius(o) for o in objects), cfg.camera_elevation,
                        cfg.camera_azimuth, cfg.yfov)
    ctx.look.dress(objects)
    names = [describe(o, material_word(o.restitution)) for o in objects]
    caption = drop_caption(names, heights, floor_kind)
    return make_spec(
        "bounce", ctx, cfg.gravity,
        objects=objects,
        statics=[floor],
        camera=camera,
        params=drop_params(objects, heights, floor_kind, cfg.gravity),
        caption=caption,
        tags=["free fall", "gravity", "collision", "restitution", "inelastic collision", "energy loss"],
    )


def floor_bounces(spec: SceneSpec, traj, obj: int = 1) -> int:
    """Floor impacts of object ``obj`` (1-based) in the clip: contact onsets with the floor whose
    normal impulse is at least 5 % of the first one (resting jitter is not a bounce)."""
    ev = [c for c in traj.contacts if c.body_a == obj and c.body_b == -1]
    if not ev:
        return 0
    first = max(ev[0].impulse, 1e-12)
    return sum(1 for c in ev if c.impulse >= 0.05 * first)


def finalize_caption(spec: SceneSpec, traj) -> str:
    """Post-simulation caption hook (see simgen.generate): adds how often the objects bounced."""
    n = [floor_bounces(spec, traj, i + 1) for i in range(len(spec.objects))]
    if len(n) == 1:
        return f"{spec.caption} and bounces {times_word(n[0])}." if n[0] else f"{spec.caption}."
    return f"{spec.caption} and bounce {min(n)} to {max(n)} times." if min(n) != max(n) else f"{spec.caption} and bounce {times_word(n[0])} each."
