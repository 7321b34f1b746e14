"""Building blocks shared by the scene families: objects, sampler cameras, parameter draws, captions.

Every function takes the sample's ``numpy.random.Generator``; nothing here draws from a global RNG.
The look (colours, patterns, floors, lights, environment) is drawn by ``ctx.look``
(:class:`simgen.appearance.Look`) from the sample's appearance stream, never from the physics one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from simgen.appearance.colors import PALETTE
from simgen.appearance.colors import pick_colors as _pick_colors
from simgen.appearance.environment import STUDIO, backdrop_color
from simgen.appearance.floors import FLOOR_KINDS, FLOOR_WORDS
from simgen.appearance.floors import make_floor as _make_floor
from simgen.appearance.lights import key_and_fill
from simgen.appearance.split import APPEARANCE, APPEARANCES, appearance_set  # noqa: F401 (re-exported)
from simgen.camera.fit import look_at
from simgen.config import Range, bounded
from simgen.errors import ConfigError
from simgen.shapes import bounding_radius, principal_inertia, random_convex_mesh, volume
from simgen.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, StaticSpec, project_points

SHAPE_WORDS = {"sphere": "ball", "box": "box", "cylinder": "cylinder", "capsule": "capsule", "mesh": "rock"}


def uniform_quaternion(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation, scalar-last."""
    u1, u2, u3 = rng.random(3)
    q = np.array(
        [
            math.sqrt(1 - u1) * math.sin(2 * math.pi * u2),
            math.sqrt(1 - u1) * math.cos(2 * math.pi * u2),
            math.sqrt(u1) * math.sin(2 * math.pi * u3),
            math.sqrt(u1) * math.cos(2 * math.pi * u3),
        ]
    )
    return q / np.linalg.norm(q)


# --- single-generator helpers for custom scenes (examples/custom_scene.py predates ctx.look) ----------
# They draw the look from the generator they are given; the shipped families draw it from ctx.look.

def pick_colors(rng: np.random.Generator, k: int, exclude: tuple[str, ...] = ()) -> list[str]:
    """``k`` colour names of the whole palette."""
    return _pick_colors(rng, k, tuple(PALETTE), exclude)


def make_floor(rng: np.random.Generator, friction: float = 1.0, restitution: float = 1.0, half_size: float = 10.0) -> tuple[StaticSpec, str]:
    """A textured floor of any kind; returns it and its caption word."""
    floor, kind = _make_floor(rng, FLOOR_KINDS, half_size, friction, restitution)
    return floor, FLOOR_WORDS[kind]


def default_lights(rng: np.random.Generator) -> list[LightSpec]:
    """A shadow-casting key light and a fill for a camera on the -y side (studio lighting)."""
    return key_and_fill(rng, STUDIO, -90.0)


def orbit_camera(
    rng: np.random.Generator,
    width: int,
    height: int,
    target: np.ndarray,
    distance: Range,
    elevation_deg: Range,
    azimuth_deg: Range,
    yfov_deg: float,
    jitter: float = 0.05,
) -> CameraSpec:
    """A static perspective camera on a sphere around ``target`` (azimuth 0 looks along +y)."""
    d = distance.sample(rng)
    el = math.radians(elevation_deg.sample(rng))
    az = math.radians(azimuth_deg.sample(rng))
    eye = np.asarray(target, dtype=np.float64) + d * np.array(
        [math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)]
    )
    aim = np.asarray(target, dtype=np.float64) + rng.uniform(-jitter, jitter, size=3)
    return CameraSpec(width=width, height=height, cam_to_world=look_at(eye, aim), yfov=math.radians(yfov_deg))


def in_view(camera: CameraSpec, center: np.ndarray, radius: float, margin_px: float = 2.0) -> bool:
    """Whether a sphere lies wholly inside the image (conservative, perspective camera)."""
    uv, z = project_points(np.asarray(center)[None], camera)
    if z[0] <= radius + camera.znear:
        return False
    f = camera.intrinsics()[0, 0]
    r_px = f * radius / math.sqrt(max(z[0] ** 2 - radius**2, 1e-12)) + margin_px
    u, v = uv[0]
    return r_px <= u <= camera.width - 1 - r_px and r_px <= v <= camera.height - 1 - r_px


def make_object(
    rng: np.random.Generator,
    shape: str,
    size: float,
    friction: float,
    restitution: float,
    color_name: str,
    density: float | None = None,
    mass: float | None = None,
) -> ObjectSpec:
    """An object at the origin with the given characteristic size (radius or half extent, metres).

    Mass is ``density * volume`` unless ``mass`` is given. Boxes, cylinders and capsules get
    sampled aspect ratios; meshes are random convex polyhedra scaled to bounding radius ``size``."""
    mesh = None
    if shape == "sphere":
        dims = np.array([size])
    elif shape == "box":
        dims = size * rng.uniform(0.6, 1.0, size=3)
    elif shape == "cylinder":
        dims = np.array([size * rng.uniform(0.6, 1.0), size * rng.uniform(0.5, 1.0)])
    elif shape == "capsule":
        dims = np.array([size * rng.uniform(0.5, 0.7), size * rng.uniform(0.4, 0.8)])
    elif shape == "mesh":
        mesh = random_convex_mesh(rng)
        mesh.vertices = mesh.vertices * size
        dims = np.array([size])
    else:
        raise ValueError(f"unknown shape {shape!r}")
    vol = volume(shape, dims, mesh)
    m = float(mass) if mass is not None else float(density) * vol
    obj = ObjectSpec(
        shape=shape,
        size=dims,
        mass=m,
        friction=friction,
        restitution=restitution,
        color=np.array(PALETTE[color_name]),
        position=np.zeros(3),
        mesh=mesh,
        color_name=color_name,
    )
    obj.inertia = principal_inertia(shape, dims, m, mesh)
    return obj


def non_overlapping(objects: list[ObjectSpec], candidate: ObjectSpec, gap: float = 0.01) -> bool:
    """Whether ``candidate``'s bounding sphere clears every placed object's by ``gap``."""
    rc = bounding_radius(candidate)
    for o in objects:
        if np.linalg.norm(o.position - candidate.position) < rc + bounding_radius(o) + gap:
            return False
    return True


def count_word(k: int) -> str:
    return ["no", "one", "two", "three", "four", "five", "six", "seven", "eight"][k] if k <= 8 else str(k)


def describe(obj: ObjectSpec, adjective: str = "") -> str:
    """"striped red ball": pattern word (if any), colour, ``adjective`` (e.g. "rubber"), shape word."""
    word = SHAPE_WORDS.get(obj.shape, obj.shape)
    if obj.shape == "mesh" and obj.mesh is not None and obj.mesh.name not in ("convex", "mesh"):
        word = obj.mesh.name.replace("_", " ")  # a library mesh: its file name
    pattern = obj.material.name if obj.material is not None else ""
    return " ".join(w for w in (pattern, obj.color_name, adjective, word) if w)


# ---------------------------------------------------------------------------------------------
# Shared by the scene library (issue 3): family base config, grid sampler, cameras that fit a
# trajectory, caption words. The held-out appearance split (`scene.appearance=all|seen|unseen`) is
# simgen.appearance.split.APPEARANCE, re-exported here.
# ---------------------------------------------------------------------------------------------


@dataclass
class FamilyConfig:
    """Keys every family of the scene library has (besides its own ranges).

    ``grid_params`` names the Range fields that ``sampler=grid`` enumerates, each with
    ``grid_steps`` values; sample ``i`` takes grid point ``i mod G`` with ``G = steps ** len(grid_params)``
    (fewer with ``split=ood``, where only values inside the held-out bands are kept)."""

    appearance: str = bounded("all", choices=list(APPEARANCES), doc="colour/texture/mesh set: all | seen | unseen")
    grid_steps: int = bounded(5, ge=1, le=1000, doc="values per gridded parameter (sampler=grid)")
    grid_params: list = bounded([], doc="Range keys enumerated by sampler=grid")

    def check_grid(self) -> None:
        for name in self.grid_params:
            if not isinstance(getattr(self, name, None), Range):
                ranges = [k for k, v in vars(self).items() if isinstance(v, Range)]
                raise ConfigError(f"scene.grid_params names {name!r}, which is not a range of this scene; choose from {ranges}.")

    def check(self) -> None:
        self.check_grid()


def grid_axes(ranges: dict[str, Range], steps: int | dict[str, int], split: str = "id") -> dict[str, np.ndarray]:
    """The values of every gridded parameter (insertion order; the last varies fastest)."""
    out = {}
    for name, r in ranges.items():
        n = steps[name] if isinstance(steps, dict) else steps
        out[name] = np.asarray(r.grid(int(n), split), dtype=np.float64)
    return out


def grid_size(ranges: dict[str, Range], steps: int | dict[str, int], split: str = "id") -> int:
    return int(np.prod([len(v) for v in grid_axes(ranges, steps, split).values()], dtype=np.int64)) if ranges else 1


def grid_point(ranges: dict[str, Range], steps: int | dict[str, int], index: int, split: str = "id") -> dict[str, float]:
    """Grid point ``index mod G`` of the full product grid (mixed radix, the last name fastest)."""
    axes = grid_axes(ranges, steps, split)
    sizes = [len(v) for v in axes.values()]
    g = int(np.prod(sizes, dtype=np.int64)) if sizes else 1
    i = int(index) % max(g, 1)
    out = {}
    for (name, vals), n in zip(reversed(list(axes.items())), reversed(sizes)):
        out[name] = float(vals[i % n])
        i //= n
    return {name: out[name] for name in axes}


class Draw:
    """Draws a family's Range parameters for one sample.

    ``sampler=random``: ``draw(name)`` samples the named Range from the split's bands. ``sampler=grid``:
    the parameters in ``cfg.grid_params`` take their grid point's value (same value for every object
    of the scene); the others are still drawn at random."""

    def __init__(self, cfg, rng: np.random.Generator, ctx):
        self.cfg, self.rng, self.split = cfg, rng, ctx.split
        self.fixed: dict[str, float] = {}
        if getattr(ctx, "sampler", "random") == "grid" and getattr(cfg, "grid_params", None):
            ranges = {n: getattr(cfg, n) for n in cfg.grid_params}
            self.fixed = grid_point(ranges, cfg.grid_steps, ctx.index, ctx.split)

    def __call__(self, name: str) -> float:
        if name in self.fixed:
            return self.fixed[name]
        return getattr(self.cfg, name).sample(self.rng, self.split)


def family_grid_size(cfg, split: str = "id") -> int:
    """G of a family config (see :class:`FamilyConfig`)."""
    return grid_size({n: getattr(cfg, n) for n in cfg.grid_params}, cfg.grid_steps, split)


def fit_camera(
    rng: np.random.Generator,
    ctx,
    points: np.ndarray,
    radius: float,
    elevation_deg: Range,
    azimuth_deg: Range,
    yfov_deg: float,
    margin_px: float = 3.0,
    min_distance: float = 1.5,
) -> CameraSpec:
    """A static perspective camera looking at the centre of ``points`` from a sampled elevation and
    azimuth, pulled back until every point (a sphere of ``radius``) lies inside the image."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    target = 0.5 * (pts.min(axis=0) + pts.max(axis=0))
    el = math.radians(elevation_deg.sample(rng))
    az = math.radians(azimuth_deg.sample(rng))
    direction = np.array([math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)])
    d = min_distance
    for _ in range(200):
        cam = CameraSpec(width=ctx.width, height=ctx.height, cam_to_world=look_at(target + d * direction, target),
                         yfov=math.radians(yfov_deg))
        if all(in_view(cam, p, radius, margin_px) for p in pts):
            return cam
        d *= 1.05
    return cam


def side_camera(ctx, points: np.ndarray, radius: float, margin: float = 0.08, distance: float = 10.0) -> CameraSpec:
    """An orthographic camera on -y looking along +y (image x = world x, image up = world z) whose
    view holds every point (a sphere of ``radius``) with ``margin`` (fraction of the view) to spare."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    lo, hi = pts.min(axis=0) - radius, pts.max(axis=0) + radius
    cx, cz = 0.5 * (lo[0] + hi[0]), 0.5 * (lo[2] + hi[2])
    aspect = ctx.width / ctx.height
    h = max(hi[2] - lo[2], (hi[0] - lo[0]) / aspect) / (1.0 - 2.0 * margin)
    eye = np.array([cx, -distance, cz])
    return CameraSpec(width=ctx.width, height=ctx.height, cam_to_world=look_at(eye, np.array([cx, 0.0, cz])),
                      projection="orthographic", ortho_height=float(h), znear=0.1, zfar=2.0 * distance)


def material_word(restitution: float) -> str:
    """A caption word for how bouncy a body is."""
    if restitution >= 0.75:
        return "rubber"
    if restitution >= 0.5:
        return "plastic"
    if restitution >= 0.25:
        return "wooden"
    return "clay"


def friction_word(mu: float) -> str:
    if mu < 0.1:
        return "slippery"
    if mu < 0.3:
        return "smooth"
    if mu < 0.6:
        return "rough"
    return "very rough"


def times_word(k: int) -> str:
    return {0: "not at all", 1: "once", 2: "twice"}.get(k, f"{count_word(k)} times")


def check_restitution(key: str, r: Range) -> None:
    if r.hi > 1.0 or (r.ood_hi or 0) > 1.0:
        raise ConfigError(f"scene.{key} must lie in [0, 1] (hi and ood_hi included).")


def make_library_object(
    rng: np.random.Generator,
    appearance: str,
    size: float,
    friction: float,
    restitution: float,
    color_name: str,
    density: float | None = None,
    mass: float | None = None,
    assets_dir: str | None = None,
) -> ObjectSpec:
    """A 'mesh' object drawn from the shipped mesh library (appearance split) or from the user's
    ``assets_dir``; bounding radius ``size``, mass from density and the mesh volume, exact inertia."""
    from simgen.asset_library import mesh_library

    lib = mesh_library(None if assets_dir else appearance_set("meshes", appearance), assets_dir)
    asset = lib[int(rng.integers(len(lib)))]
    mesh, m, inertia = asset.scaled(size, density=density, mass=mass)
    obj = ObjectSpec(shape="mesh", size=np.array([size]), mass=m, friction=friction, restitution=restitution,
                     color=np.array(PALETTE[color_name]), position=np.zeros(3), mesh=mesh, color_name=color_name,
                     inertia=inertia)
    return obj


def check_assets_dir(assets_dir: str | None) -> None:
    """Load every user mesh once at config time so a bad file fails before any work starts."""
    if assets_dir:
        from simgen.asset_library import list_mesh_files, load_mesh
        from simgen.errors import UserError

        try:
            for f in list_mesh_files(assets_dir):
                load_mesh(str(f))
        except UserError as exc:
            raise ConfigError(str(exc)) from None


def check_shapes(shapes: list, allowed: tuple) -> None:
    bad = [s for s in shapes if s not in allowed]
    if bad or not shapes:
        raise ConfigError(f"scene.shapes={list(shapes)} is not allowed; choose a non-empty subset of {list(allowed)}.")


def a_an(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    return "an" if word[:1].lower() in "aeiou" else "a"


# ---------------------------------------------------------------------------------------------
# The families that drop, throw or launch solid objects over a floor (freefall, bounce, collide,
# throw_horizontal, throw_parabolic) share their material, camera and asset keys and how one
# object is drawn; each family redeclares only the keys whose defaults differ.
# ---------------------------------------------------------------------------------------------
OBJECT_SHAPES = ("sphere", "box", "cylinder", "capsule", "mesh")


@dataclass
class ObjectFamilyConfig(FamilyConfig):
    """Keys of the object families besides :class:`FamilyConfig`'s. A family with ``min_objects`` /
    ``max_objects`` keys gets their order checked too."""

    shapes: list = bounded(["sphere", "box", "cylinder"], doc="shapes to draw from (sphere, box, cylinder, capsule, mesh)")
    size: Range = bounded(Range(0.08, 0.14, ood_lo=0.05, ood_hi=0.2), gt=0, doc="radius / half extent, m")
    density: Range = bounded(Range(300.0, 3000.0, ood_lo=100.0, ood_hi=8000.0, log=True), gt=0, doc="kg/m^3")
    mass: Optional[Range] = bounded(None, gt=0, doc="kg; when set, overrides density")
    friction: Range = bounded(Range(0.3, 0.8), ge=0, doc="Coulomb friction against the floor")
    restitution: Range = bounded(Range(0.1, 0.5), ge=0, doc="coefficient of restitution against the floor")
    gravity: float = bounded(9.81, ge=0, le=100, doc="m/s^2, along -z")
    camera_elevation: Range = bounded(Range(5.0, 15.0), ge=-89, doc="degrees above the horizon")
    camera_azimuth: Range = bounded(Range(-15.0, 15.0), doc="degrees about z")
    yfov: float = bounded(45.0, gt=1, lt=170, doc="vertical field of view, degrees")
    assets_dir: Optional[str] = bounded(None, doc="folder of the user's meshes for shape 'mesh' (default: the shipped meshes)")

    def check(self) -> None:
        self.check_grid()
        lo, hi = getattr(self, "min_objects", None), getattr(self, "max_objects", None)
        if lo is not None and hi is not None and lo > hi:
            raise ConfigError(f"scene.min_objects={lo} is greater than scene.max_objects={hi}; "
                              "need min_objects <= max_objects.")
        check_shapes(self.shapes, OBJECT_SHAPES)
        check_restitution("restitution", self.restitution)
        check_assets_dir(self.assets_dir)


def draw_object(draw: Draw, cfg: ObjectFamilyConfig, color_name: str, procedural_mesh: bool = False) -> ObjectSpec:
    """One object of an object family, at the origin: shape, size, density (or mass), friction and
    restitution drawn in that order. Shape ``mesh`` comes from the mesh library (the appearance
    split, or ``assets_dir``); with ``procedural_mesh`` it is a fresh random convex hull instead."""
    rng = draw.rng
    shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
    size = draw("size")
    kw = {"mass": draw("mass")} if cfg.mass is not None else {"density": draw("density")}
    friction, restitution = draw("friction"), draw("restitution")
    if shape != "mesh" or procedural_mesh:
        return make_object(rng, shape, size, friction, restitution, color_name, **kw)
    return make_library_object(rng, cfg.appearance, size, friction, restitution, color_name,
                               assets_dir=cfg.assets_dir, **kw)


def rest_height(obj: ObjectSpec) -> float:
    """Height of the centre of mass when ``obj`` rests on the floor in its start orientation
    (primitives upright; a mesh as its vertices lie)."""
    if obj.shape == "sphere":
        return float(obj.size[0])
    if obj.shape == "box":
        return float(obj.size[2])
    if obj.shape == "cylinder":
        return float(obj.size[1])
    if obj.shape == "capsule":
        return float(obj.size[0] + obj.size[1])
    return float(-obj.mesh.vertices[:, 2].min())


def make_spec(family: str, ctx, gravity: float, lights: list[LightSpec] | None = None, **fields) -> SceneSpec:
    """A SceneSpec with the clip settings of ``ctx`` (fps, frames, physics rate), gravity ``gravity``
    m/s^2 along -z, and the environment and (unless ``lights`` are given) lights drawn by ``ctx.look``
    for the camera in ``fields`` (the sky's ground below the horizon takes the floor's colour)."""
    floor = next((st for st in fields.get("statics", []) if st.name == "floor"), None)
    env, drawn = ctx.look.stage(fields["camera"], ground=None if floor is None else floor.color)
    amb = 0.5 * (np.asarray(env.ambient_sky) + np.asarray(env.ambient_ground))
    return SceneSpec(family=family, lights=drawn if lights is None else lights,
                     gravity=np.array([0.0, 0.0, -float(gravity)]), fps=ctx.fps, frames=ctx.frames,
                     physics_hz=ctx.physics_hz, environment=env, background=backdrop_color(env), ambient_light=amb,
                     **fields)


def floor_phrase(kind: str) -> str:
    """"a wooden plank floor" for a floor of ``kind``."""
    word = FLOOR_WORDS.get(kind, kind)
    return f"{a_an(word)} {word} floor"


def drop_caption(names: list[str], heights: list[float], floor_kind: str) -> str:
    """"A red ball falls 1.2 m onto a tiled floor" / "Two objects (...) fall from 0.6 to 1.1 m onto ..."
    (no full stop: a family may go on)."""
    if len(names) == 1:
        return f"{a_an(names[0]).capitalize()} {names[0]} falls {heights[0]:.1f} m onto {floor_phrase(floor_kind)}"
    return (f"{count_word(len(names)).capitalize()} objects ({', '.join(names[:-1])} and {names[-1]}) fall from "
            f"{min(heights):.1f} to {max(heights):.1f} m onto {floor_phrase(floor_kind)}")


def drop_params(objects: list[ObjectSpec], heights: list[float], floor_style: str, gravity: float) -> dict:
    """The scene parameters of a drop: per-object drop height, restitution and friction; floor; gravity."""
    return {
        "drop_height": np.array(heights, dtype=np.float32),
        "restitution": np.array([o.restitution for o in objects], dtype=np.float32),
        "friction": np.array([o.friction for o in objects], dtype=np.float32),
        "floor_style": floor_style,
        "gravity": float(gravity),
    }
