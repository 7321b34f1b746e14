"""freefall: 1..N objects of varied shapes dropped onto a textured floor (the PISA-style drop).

Each object gets a sampled shape, size, density (-> mass), friction, restitution, colour, drop
height and optional initial spin. Objects never start interpenetrating (bounding spheres are kept
apart) and start wholly inside the image; the camera is static with sampled jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from simgen.config import Range, bounded
from simgen.errors import ConfigError
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    count_word,
    default_lights,
    describe,
    in_view,
    make_floor,
    make_object,
    non_overlapping,
    orbit_camera,
    pick_colors,
    uniform_quaternion,
)

ALL_SHAPES = ["sphere", "box", "cylinder", "capsule", "mesh"]


@dataclass
class Config:
    name: str = "freefall"
    min_objects: int = bounded(1, ge=1, le=16, doc="fewest objects per scene")
    max_objects: int = bounded(4, ge=1, le=16, doc="most objects per scene")
    shapes: list = bounded(list(ALL_SHAPES), doc="shapes to draw from")
    size: Range = bounded(Range(0.08, 0.18, ood_lo=0.05, ood_hi=0.25), gt=0, doc="radius / half extent, m")
    density: Range = bounded(Range(300.0, 3000.0, ood_lo=100.0, ood_hi=8000.0, log=True), gt=0, doc="kg/m^3")
    mass: Optional[Range] = bounded(None, gt=0, doc="kg; when set, overrides density")
    friction: Range = bounded(Range(0.3, 0.9, ood_lo=0.05, ood_hi=1.2), ge=0, doc="Coulomb friction coefficient")
    restitution: Range = bounded(Range(0.1, 0.7, ood_lo=0.0, ood_hi=0.9), ge=0, doc="coefficient of restitution")
    height: Range = bounded(Range(0.4, 1.4, ood_lo=0.25, ood_hi=1.7), gt=0, doc="drop height of the centre of mass, m")
    spread: float = bounded(0.45, gt=0, le=5, doc="objects start within +-spread m of the centre (x, y)")
    spin_prob: float = bounded(0.5, ge=0, le=1, doc="probability that an object starts spinning")
    spin: Range = bounded(Range(0.0, 6.0), ge=0, doc="initial angular speed, rad/s")
    gravity: float = bounded(9.81, ge=0, le=100, doc="m/s^2, along -z")
    camera_distance: Range = bounded(Range(3.4, 4.0), gt=0, doc="m from the look-at point")
    camera_elevation: Range = bounded(Range(8.0, 22.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-20.0, 20.0), doc="degrees about z")
    yfov: float = bounded(45.0, gt=1, lt=170, doc="vertical field of view, degrees")

    def check(self) -> None:
        if self.min_objects > self.max_objects:
            raise ConfigError(
                f"scene.min_objects={self.min_objects} is greater than scene.max_objects={self.max_objects}; "
                "need min_objects <= max_objects."
            )
        bad = [s for s in self.shapes if s not in ALL_SHAPES]
        if bad or not self.shapes:
            raise ConfigError(f"scene.shapes={list(self.shapes)} is not allowed; choose a non-empty subset of {ALL_SHAPES}.")
        if self.restitution.hi > 1.0 or (self.restitution.ood_hi or 0) > 1.0:
            raise ConfigError("scene.restitution must lie in [0, 1] (hi and ood_hi included).")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    split = ctx.split
    k = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    colors = pick_colors(rng, k, exclude=("gray",))
    floor, floor_style = make_floor(rng)
    target = np.array([0.0, 0.0, 0.75])
    objects = []
    camera = None
    for _attempt in range(50):
        camera = orbit_camera(
            rng, ctx.width, ctx.height, target, cfg.camera_distance, cfg.camera_elevation, cfg.camera_azimuth, cfg.yfov
        )
        objects = []
        for i in range(k):
            shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
            size = cfg.size.sample(rng, split)
            if cfg.mass is not None:
                obj = make_object(rng, shape, size, cfg.friction.sample(rng, split), cfg.restitution.sample(rng, split),
                                  colors[i], mass=cfg.mass.sample(rng, split))
            else:
                obj = make_object(rng, shape, size, cfg.friction.sample(rng, split), cfg.restitution.sample(rng, split),
                                  colors[i], density=cfg.density.sample(rng, split))
            r = bounding_radius(obj)
            for _ in range(100):
                h = max(cfg.height.sample(rng, split), r + 0.01)
                obj.position = np.array([rng.uniform(-cfg.spread, cfg.spread), rng.uniform(-cfg.spread, cfg.spread), h])
                if non_overlapping(objects, obj) and in_view(camera, obj.position, r):
                    break
            else:
                break  # could not place: resample the camera and start over
            obj.quaternion = uniform_quaternion(rng) if shape != "sphere" or rng.random() < 0.5 else np.array([0, 0, 0, 1.0])
            if rng.random() < cfg.spin_prob:
                axis = rng.normal(size=3)
                obj.angular_velocity = axis / np.linalg.norm(axis) * cfg.spin.sample(rng, split)
            objects.append(obj)
        if len(objects) == k:
            break
    else:
        raise RuntimeError("freefall: could not place the objects in view after 50 camera draws; widen scene.height or camera ranges")

    heights = [float(o.position[2]) for o in objects]
    names = [describe(o) for o in objects]
    if k == 1:
        caption = f"A {names[0]} falls {heights[0]:.1f} m onto a {floor_style} floor."
    else:
        caption = (
            f"{count_word(k).capitalize()} objects ({', '.join(names[:-1])} and {names[-1]}) fall from "
            f"{min(heights):.1f} to {max(heights):.1f} m onto a {floor_style} floor."
        )
    return SceneSpec(
        family="freefall",
        objects=objects,
        statics=[floor],
        camera=camera,
        lights=default_lights(rng),
        gravity=np.array([0.0, 0.0, -cfg.gravity]),
        fps=ctx.fps,
        frames=ctx.frames,
        physics_hz=ctx.physics_hz,
        params={
            "drop_height": np.array(heights, dtype=np.float32),
            "floor_style": floor_style,
            "gravity": float(cfg.gravity),
        },
        caption=caption,
        tags=["free fall", "gravity", "collision", "friction"] + (["rotation"] if any(np.any(o.angular_velocity) for o in objects) else []),
    )
