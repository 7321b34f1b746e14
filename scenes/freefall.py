"""freefall: 1..N objects of varied shapes dropped onto a textured floor (the PISA-style drop).

Each object gets a sampled shape, size, density (-> mass), friction, restitution, colour, drop
height and optional initial spin. Objects never start interpenetrating (bounding spheres are kept
apart) and start wholly inside the image; the camera is static with sampled jitter.
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
    in_view,
    make_spec,
    non_overlapping,
    orbit_camera,
    uniform_quaternion,
)


@dataclass
class Config(ObjectFamilyConfig):
    """Shape ``mesh`` is a fresh random convex hull (trimesh) per object with ``appearance=all``; with
    ``appearance=seen|unseen`` or ``assets_dir`` it comes from the mesh library, so that unseen meshes
    stay held out."""

    name: str = "freefall"
    min_objects: int = bounded(1, ge=1, le=16, doc="fewest objects per scene")
    max_objects: int = bounded(4, ge=1, le=16, doc="most objects per scene")
    shapes: list = bounded(["sphere", "box", "cylinder", "capsule", "mesh"], doc="shapes to draw from")
    size: Range = bounded(Range(0.08, 0.18, ood_lo=0.05, ood_hi=0.25), gt=0, doc="radius / half extent, m")
    friction: Range = bounded(Range(0.3, 0.9, ood_lo=0.05, ood_hi=1.2), ge=0, doc="Coulomb friction coefficient")
    restitution: Range = bounded(Range(0.1, 0.7, ood_lo=0.0, ood_hi=0.9), ge=0, doc="coefficient of restitution")
    height: Range = bounded(Range(0.4, 1.4, ood_lo=0.25, ood_hi=1.7), gt=0, doc="drop height of the centre of mass, m")
    spread: float = bounded(0.45, gt=0, le=5, doc="objects start within +-spread m of the centre (x, y)")
    spin_prob: float = bounded(0.5, ge=0, le=1, doc="probability that an object starts spinning")
    spin: Range = bounded(Range(0.0, 6.0), ge=0, doc="initial angular speed, rad/s")
    camera_distance: Range = bounded(Range(3.4, 4.0), gt=0, doc="m from the look-at point")
    camera_elevation: Range = bounded(Range(8.0, 22.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-20.0, 20.0), doc="degrees about z")
    grid_params: list = bounded(["height", "restitution"], doc="Range keys enumerated by sampler=grid")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    grid = bool(draw.fixed)  # grid scenes: min_objects objects, all at the grid point's height
    k = cfg.min_objects if grid else int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    colors = ctx.look.colors(k, exclude=("gray",))
    floor, floor_kind = ctx.look.floor()
    procedural = cfg.appearance == "all" and not cfg.assets_dir
    target = np.array([0.0, 0.0, 0.75])
    objects = []
    camera = None
    for _attempt in range(50):
        camera = orbit_camera(
            rng, ctx.width, ctx.height, target, cfg.camera_distance, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov
        )
        objects = []
        for i in range(k):
            obj = draw_object(draw, cfg, colors[i], procedural_mesh=procedural)
            r = bounding_radius(obj)
            for _ in range(100):
                h = max(draw("height"), r + 0.01)
                obj.position = np.array([rng.uniform(-cfg.spread, cfg.spread), rng.uniform(-cfg.spread, cfg.spread), h])
                if non_overlapping(objects, obj) and in_view(camera, obj.position, r):
                    break
            else:
                break  # could not place: resample the camera and start over
            spherical = obj.shape == "sphere"
            obj.quaternion = uniform_quaternion(rng) if not spherical or rng.random() < 0.5 else np.array([0, 0, 0, 1.0])
            if rng.random() < cfg.spin_prob:
                axis = rng.normal(size=3)
                obj.angular_velocity = axis / np.linalg.norm(axis) * draw("spin")
            objects.append(obj)
        if len(objects) == k:
            break
    else:
        raise RuntimeError("freefall: could not place the objects in view after 50 camera draws; widen scene.height or camera ranges")

    ctx.look.dress(objects)
    heights = [float(o.position[2]) for o in objects]
    names = [describe(o) for o in objects]
    caption = drop_caption(names, heights, floor_kind) + "."
    return make_spec(
        "freefall", ctx, cfg.gravity,
        objects=objects,
        statics=[floor],
        camera=camera,
        params=drop_params(objects, heights, floor_kind, cfg.gravity),
        caption=caption,
        tags=["free fall", "gravity", "collision", "friction"] + (["rotation"] if any(np.any(o.angular_velocity) for o in objects) else []),
    )
