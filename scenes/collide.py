"""collide: 2..6 objects launched at each other, in the air or sliding on a frictionless floor.

All objects are aimed at one meeting point that they reach together at ``contact_time`` (a fraction
of the clip): head-on when the impact offset is 0, oblique otherwise (``oblique`` is the sideways
offset of each object's aim point as a fraction of the sum of the two radii).

- ``air``: objects are lobbed from near the floor so that they meet in the air. Under uniform gravity
  the relative motion is a straight line, so they meet exactly as aimed; total momentum changes only by
  ``M g t`` until the first floor contact (the collision conserves it).
- ``plane``: objects rest on the floor and slide (friction 0: PyBullet multiplies the object's 0 with
  the floor's 1), so horizontal momentum is conserved through every collision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.appearance.floors import FLOOR_WORDS
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    Draw,
    ObjectFamilyConfig,
    count_word,
    describe,
    draw_object,
    fit_camera,
    make_spec,
    rest_height,
)


@dataclass
class Config(ObjectFamilyConfig):
    name: str = "collide"
    min_objects: int = bounded(2, ge=2, le=6, doc="fewest objects per scene")
    max_objects: int = bounded(3, ge=2, le=6, doc="most objects per scene")
    shapes: list = bounded(["sphere"], doc="shapes to draw from (sphere, box, cylinder, capsule, mesh)")
    mode: str = bounded("mixed", choices=["air", "plane", "mixed"], doc="air: lobbed, meet airborne; plane: slide on the floor")
    air_prob: float = bounded(0.5, ge=0, le=1, doc="mode=mixed: probability of an air scene")
    size: Range = bounded(Range(0.12, 0.2, ood_lo=0.08, ood_hi=0.26), gt=0, doc="radius / half extent, m")
    speed: Range = bounded(Range(0.5, 1.2, ood_lo=0.25, ood_hi=2.0), gt=0, doc="horizontal approach speed of each object, m/s")
    oblique: Range = bounded(Range(0.0, 0.5, ood_hi=0.9), ge=0, doc="aim offset, fraction of the two radii (0 = head-on)")
    head_on_prob: float = bounded(0.3, ge=0, le=1, doc="probability of an exactly head-on scene (oblique = 0)")
    restitution: Range = bounded(Range(0.5, 0.95, ood_lo=0.2, ood_hi=1.0), ge=0, doc="coefficient of restitution (pairs multiply)")
    friction: Range = bounded(Range(0.0, 0.0), ge=0, doc="object friction; 0 = frictionless (products with the floor's 1.0)")
    contact_time: Range = bounded(Range(0.3, 0.5), gt=0, le=0.95, doc="when the objects meet, fraction of the clip")
    meet_height: Range = bounded(Range(0.6, 1.0), gt=0, doc="air: height of the meeting point, m")
    camera_elevation: Range = bounded(Range(15.0, 35.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-30.0, 30.0), doc="degrees about z")
    grid_params: list = bounded(["speed", "oblique"], doc="Range keys enumerated by sampler=grid")


def _min_gap_before(objects, t_end: float, steps: int = 60) -> float:
    """Smallest bounding-sphere gap between any two objects for t in [0, t_end] (straight relative motion)."""
    gap = np.inf
    ts = np.linspace(0.0, t_end, steps)
    for i in range(len(objects)):
        for j in range(i + 1, len(objects)):
            a, b = objects[i], objects[j]
            d = (a.position - b.position)[None] + ts[:, None] * (a.linear_velocity - b.linear_velocity)[None]
            gap = min(gap, float(np.linalg.norm(d, axis=1).min()) - bounding_radius(a) - bounding_radius(b))
    return gap


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    grid = bool(draw.fixed)
    k = cfg.min_objects if grid else int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    mode = cfg.mode if cfg.mode != "mixed" else ("air" if rng.random() < cfg.air_prob else "plane")
    g = np.array([0.0, 0.0, -cfg.gravity])
    colors = ctx.look.colors(k, exclude=("gray",))
    floor, floor_kind = ctx.look.floor()
    duration = (ctx.frames - 1) / ctx.fps
    head_on = (not grid) and rng.random() < cfg.head_on_prob
    objects = []
    for attempt in range(100):
        objects = []
        # short clips: they may meet after the last frame; slow, large objects that would start
        # overlapping get a longer run-up on each failed attempt
        t_c = min(max(draw("contact_time") * duration, 0.35) * 1.03**attempt, max(0.95 * duration, 0.35 * 1.03**attempt))
        z_meet = draw("meet_height")
        phi0 = rng.uniform(0, 2 * math.pi)
        oblique = 0.0 if head_on else draw("oblique")
        for i in range(k):
            obj = draw_object(draw, cfg, colors[i])
            if mode == "plane":  # upright, random yaw
                yaw = rng.uniform(0, 2 * math.pi)
                obj.quaternion = np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])
            phi = phi0 + 2 * math.pi * i / k + (rng.uniform(-0.3, 0.3) if k > 2 else 0.0)
            u = np.array([-math.cos(phi), -math.sin(phi), 0.0])  # horizontal direction of travel
            side = np.array([-u[1], u[0], 0.0])
            r = bounding_radius(obj)
            aim = side * (0.5 * oblique * r if i % 2 == 0 else -0.5 * oblique * r)
            speed = draw("speed")
            if mode == "plane":
                h = rest_height(obj) + 1e-3
                obj.position = np.array([0, 0, h]) + aim - u * speed * t_c
                obj.linear_velocity = u * speed
            else:
                z0 = rest_height(obj) + rng.uniform(0.15, 0.35)
                # x(t_c) = x0 + v t_c + g t_c^2 / 2 = meeting point
                target = np.array([0, 0, z_meet]) + aim
                x0 = target - u * speed * t_c
                x0[2] = z0
                v = u * speed
                v[2] = (target[2] - z0 - 0.5 * g[2] * t_c**2) / t_c
                obj.position, obj.linear_velocity = x0, v
            objects.append(obj)
        if _min_gap_before(objects, 0.5 * t_c) > 0.01:
            break
    else:
        raise RuntimeError(f"collide: could not place the objects without early overlaps in 100 tries (clip {duration:.2f} s); "
                           "widen scene.speed or scene.contact_time")
    # camera: start points, meeting point and the air arcs
    pts = [o.position for o in objects] + [np.array([0, 0, z_meet if mode == "air" else 0.1])]
    if mode == "air":
        for o in objects:
            for t in np.linspace(0, t_c, 6):
                pts.append(o.position + o.linear_velocity * t + 0.5 * g * t * t)
    pts.append(np.zeros(3))
    camera = fit_camera(rng, ctx, np.array(pts), max(bounding_radius(o) for o in objects) * 1.5,
                        cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov)
    ctx.look.dress(objects)
    names = [describe(o) for o in objects]
    how = "head-on" if oblique == 0 else "at an angle"
    where = "in mid-air" if mode == "air" else f"sliding on a frictionless {FLOOR_WORDS[floor_kind]} floor"
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    caption = f"{count_word(k).capitalize()} objects ({listed}) collide {how} {where}."
    speeds = np.array([np.linalg.norm(o.linear_velocity[:2]) for o in objects], np.float32)
    return make_spec(
        "collide", ctx, cfg.gravity,
        objects=objects,
        statics=[floor],
        camera=camera,
        params={
            "mode": mode,
            "speed": speeds,
            "oblique": float(oblique),
            "contact_time": float(t_c),
            "restitution": np.array([o.restitution for o in objects], np.float32),
            "friction": np.array([o.friction for o in objects], np.float32),
            "meet_height": float(z_meet) if mode == "air" else 0.0,
            "gravity": float(cfg.gravity),
        },
        caption=caption,
        tags=["collision", "conservation of momentum"] + (["projectile motion", "gravity"] if mode == "air" else ["frictionless sliding"])
        + (["elastic collision"] if min(o.restitution for o in objects) >= 0.99 else ["inelastic collision"]),
    )
