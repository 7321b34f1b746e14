"""bounce: 1..N objects dropped onto a floor with sampled restitution, several bounces per clip.

PyBullet multiplies the two bodies' restitution; the floor has 1.0, so an object's ``restitution``
is the effective coefficient e of its floor impacts: the rebound speed is e times the impact speed
and successive apex heights (above the resting height) shrink by e^2. Objects start without spin and
far enough apart horizontally that they never touch each other (spheres bounce straight up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from simgen.config import Range, bounded
from simgen.shapes import bounding_radius
from simgen.spec import SceneSpec
from simgen.scenes.common import (
    Draw,
    a_an,
    FamilyConfig,
    check_assets_dir,
    check_restitution,
    check_shapes,
    count_word,
    default_lights,
    describe,
    fit_camera,
    make_any_object,
    make_appearance_floor,
    material_word,
    pick_appearance_colors,
    times_word,
)

SHAPES = ("sphere", "box", "cylinder", "capsule", "mesh")


@dataclass
class Config(FamilyConfig):
    name: str = "bounce"
    min_objects: int = bounded(1, ge=1, le=8, doc="fewest objects per scene")
    max_objects: int = bounded(2, ge=1, le=8, doc="most objects per scene")
    shapes: list = bounded(["sphere"], doc="shapes to draw from (sphere, box, cylinder, capsule, mesh)")
    size: Range = bounded(Range(0.08, 0.15, ood_lo=0.05, ood_hi=0.22), gt=0, doc="radius / half extent, m")
    density: Range = bounded(Range(300.0, 3000.0, ood_lo=100.0, ood_hi=8000.0, log=True), gt=0, doc="kg/m^3")
    mass: Optional[Range] = bounded(None, gt=0, doc="kg; when set, overrides density")
    restitution: Range = bounded(Range(0.3, 0.85, ood_lo=0.2, ood_hi=0.95), ge=0, doc="coefficient of restitution against the floor")
    friction: Range = bounded(Range(0.3, 0.8, ood_lo=0.1, ood_hi=1.0), ge=0, doc="Coulomb friction against the floor")
    height: Range = bounded(Range(0.6, 1.3, ood_lo=0.35, ood_hi=1.8), gt=0, doc="drop height of the lowest point above the floor, m")
    spread: float = bounded(0.6, gt=0, le=5, doc="objects start within +-spread m of the centre (x, y)")
    gravity: float = bounded(9.81, ge=0, le=100, doc="m/s^2, along -z")
    camera_elevation: Range = bounded(Range(5.0, 15.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-25.0, 25.0), doc="degrees about z")
    yfov: float = bounded(45.0, gt=1, lt=170, doc="vertical field of view, degrees")
    assets_dir: Optional[str] = bounded(None, doc="folder of the user's meshes for shape 'mesh' (default: shipped meshes)")
    grid_params: list = bounded(["height", "restitution"], doc="Range keys enumerated by sampler=grid")

    def check(self) -> None:
        from simgen.errors import ConfigError

        self.check_grid()
        if self.min_objects > self.max_objects:
            raise ConfigError(f"scene.min_objects={self.min_objects} is greater than scene.max_objects={self.max_objects}.")
        check_shapes(self.shapes, SHAPES)
        check_restitution("restitution", self.restitution)
        check_assets_dir(self.assets_dir)


def _rest_height(obj) -> float:
    """Height of the centre of mass when the object rests on the floor in its start orientation."""
    if obj.shape == "sphere":
        return float(obj.size[0])
    if obj.shape == "box":
        return float(obj.size[2])
    if obj.shape in ("cylinder", "capsule"):
        return float(obj.size[1] + (obj.size[0] if obj.shape == "capsule" else 0.0))
    return float(-obj.mesh.vertices[:, 2].min())


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    draw = Draw(cfg, rng, ctx)
    grid = bool(draw.fixed)
    k = cfg.min_objects if grid else int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    colors = pick_appearance_colors(rng, k, cfg.appearance, exclude=("gray",))
    floor, floor_style = make_appearance_floor(rng, cfg.appearance)
    objects, heights = [], []
    for i in range(k):
        shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
        size = draw("size")
        kw = {"mass": draw("mass")} if cfg.mass is not None else {"density": draw("density")}
        obj = make_any_object(rng, shape, size, draw("friction"), draw("restitution"), colors[i], cfg.appearance,
                              assets_dir=cfg.assets_dir, **kw)
        r = bounding_radius(obj)
        h = draw("height")
        for _ in range(200):
            xy = rng.uniform(-cfg.spread, cfg.spread, size=2) * (0.0 if k == 1 and grid else 1.0)
            if all(np.hypot(*(xy - o.position[:2])) > r + bounding_radius(o) + 0.05 for o in objects):
                break
            cfg_spread = cfg.spread * 1.2  # crowded: widen a little
            xy = rng.uniform(-cfg_spread, cfg_spread, size=2)
        obj.position = np.array([xy[0], xy[1], h + _rest_height(obj)])
        objects.append(obj)
        heights.append(h)
    pts = np.concatenate([[o.position, o.position * [1, 1, 0] + [0, 0, bounding_radius(o)]] for o in objects])
    camera = fit_camera(rng, ctx, pts, max(bounding_radius(o) for o in objects), cfg.camera_elevation,
                        cfg.camera_azimuth, cfg.yfov)
    names = [describe(o).replace(" ", f" {material_word(o.restitution)} ", 1) for o in objects]
    if k == 1:
        caption = f"{a_an(names[0]).capitalize()} {names[0]} falls {heights[0]:.1f} m onto a {floor_style} floor"
    else:
        caption = (f"{count_word(k).capitalize()} objects ({', '.join(names[:-1])} and {names[-1]}) fall from "
                   f"{min(heights):.1f} to {max(heights):.1f} m onto a {floor_style} floor")
    return SceneSpec(
        family="bounce",
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
            "restitution": np.array([o.restitution for o in objects], dtype=np.float32),
            "friction": np.array([o.friction for o in objects], dtype=np.float32),
            "floor_style": floor_style,
            "gravity": float(cfg.gravity),
        },
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
