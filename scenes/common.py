"""Building blocks shared by the scene families: colours, floors, cameras, lights, objects.

Every function takes the sample's ``numpy.random.Generator``; nothing here draws from a global RNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from simgen.config import Range, bounded
from simgen.errors import ConfigError
from simgen.shapes import bounding_radius, principal_inertia, random_convex_mesh, volume
from simgen.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, StaticSpec, project_points

# Named colours (for captions) in linear-ish RGB [0, 1].
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.10),
    "orange": (0.95, 0.50, 0.08),
    "yellow": (0.95, 0.85, 0.10),
    "green": (0.15, 0.70, 0.20),
    "teal": (0.05, 0.60, 0.60),
    "blue": (0.10, 0.30, 0.90),
    "purple": (0.55, 0.20, 0.75),
    "pink": (0.95, 0.45, 0.70),
    "white": (0.92, 0.92, 0.92),
    "black": (0.08, 0.08, 0.08),
    "brown": (0.50, 0.30, 0.12),
    "gray": (0.50, 0.50, 0.50),
}

SHAPE_WORDS = {"sphere": "ball", "box": "box", "cylinder": "cylinder", "capsule": "capsule", "mesh": "rock"}

FLOOR_STYLES = ("checkered", "tiled", "striped", "plain")


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


def pick_colors(rng: np.random.Generator, k: int, exclude: tuple[str, ...] = ()) -> list[str]:
    names = [c for c in PALETTE if c not in exclude]
    return [names[i] for i in rng.choice(len(names), size=k, replace=k > len(names))]


def floor_texture(rng: np.random.Generator, style: str | None = None, size: int = 256) -> tuple[np.ndarray, str]:
    """A procedural floor texture (uint8 [size, size, 3]) and its caption word."""
    style = style or FLOOR_STYLES[int(rng.integers(len(FLOOR_STYLES)))]
    base = rng.uniform(0.35, 0.8, size=3)
    other = np.clip(base * rng.uniform(0.55, 0.8), 0, 1)
    yy, xx = np.mgrid[0:size, 0:size]
    if style == "checkered":
        pat = ((xx // (size // 4)) + (yy // (size // 4))) % 2
    elif style == "tiled":
        pat = ((xx % (size // 4)) < 4) | ((yy % (size // 4)) < 4)
    elif style == "striped":
        pat = (xx // (size // 8)) % 2
    else:
        pat = np.zeros_like(xx)
    img = np.where(pat[..., None].astype(bool), other, base)
    noise = rng.normal(0.0, 0.02, size=(size, size, 1))
    return (np.clip(img + noise, 0, 1) * 255).astype(np.uint8), style


def make_floor(rng: np.random.Generator, friction: float = 1.0, restitution: float = 1.0, half_size: float = 10.0) -> tuple[StaticSpec, str]:
    tex, style = floor_texture(rng)
    floor = StaticSpec(
        name="floor",
        kind="plane",
        size=np.array([half_size, half_size]),
        position=np.zeros(3),
        friction=friction,
        restitution=restitution,
        texture=tex,
        texture_scale=float(rng.uniform(0.8, 1.6)),
    )
    return floor, style


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """cam_to_world (4x4) in the OpenCV convention (x right, y down, z forward) looking at target."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


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


def default_lights(rng: np.random.Generator) -> list[LightSpec]:
    az = rng.uniform(0, 2 * math.pi)
    el = math.radians(rng.uniform(45, 75))
    direction = -np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
    return [
        LightSpec(direction=direction, intensity=float(rng.uniform(2.5, 3.5))),
        LightSpec(direction=np.array([0.3, 0.5, -1.0]) / np.linalg.norm([0.3, 0.5, -1.0]), intensity=0.8),
    ]


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


def describe(obj: ObjectSpec) -> str:
    word = SHAPE_WORDS.get(obj.shape, obj.shape)
    if obj.shape == "mesh" and obj.mesh is not None and obj.mesh.name not in ("convex", "mesh"):
        word = obj.mesh.name.replace("_", " ")  # a library mesh: its file name
    return f"{obj.color_name} {word}".strip()


# ---------------------------------------------------------------------------------------------
# Shared by the scene library (issue 3): family base config, grid sampler, appearance split,
# cameras that fit a trajectory, caption words.
# ---------------------------------------------------------------------------------------------
# Held-out appearance: `appearance=seen` draws colours / floor styles / textures / meshes from the
# "seen" halves only, `appearance=unseen` from the other halves, `all` from both. A model trained on
# appearance=seen data can be evaluated on appearance=unseen data with new colours and textures.
APPEARANCE = {
    "seen": {
        "colors": ("red", "green", "blue", "yellow", "purple", "orange"),
        "floors": ("checkered", "tiled"),
        "textures": ("checker", "stripes", "wood"),
        "meshes": ("rock", "cone", "torus"),
        "backgrounds": ((0.92, 0.92, 0.90), (0.85, 0.90, 0.95)),
    },
    "unseen": {
        "colors": ("teal", "pink", "brown", "black", "white"),
        "floors": ("striped", "plain"),
        "textures": ("dots", "marble", "bricks"),
        "meshes": ("star", "bowl", "gem"),
        "backgrounds": ((0.95, 0.90, 0.82), (0.88, 0.95, 0.88)),
    },
}
APPEARANCES = ("all", "seen", "unseen")


def appearance_set(kind: str, appearance: str) -> tuple:
    """The names of ``kind`` (colors, floors, textures, meshes, backgrounds) allowed by ``appearance``."""
    if appearance == "all":
        return tuple(APPEARANCE["seen"][kind]) + tuple(APPEARANCE["unseen"][kind])
    return tuple(APPEARANCE[appearance][kind])


def pick_appearance_colors(rng: np.random.Generator, k: int, appearance: str, exclude: tuple[str, ...] = ()) -> list[str]:
    names = [c for c in appearance_set("colors", appearance) if c not in exclude]
    return [names[i] for i in rng.choice(len(names), size=k, replace=k > len(names))]


def make_appearance_floor(rng: np.random.Generator, appearance: str, half_size: float = 10.0) -> tuple[StaticSpec, str]:
    """A textured floor whose style is drawn from the appearance split (friction/restitution 1.0:
    against it the object's own coefficients are the effective ones in PyBullet)."""
    styles = appearance_set("floors", appearance)
    style = styles[int(rng.integers(len(styles)))]
    tex, style = floor_texture(rng, style)
    floor = StaticSpec(name="floor", kind="plane", size=np.array([half_size, half_size]), position=np.zeros(3),
                       texture=tex, texture_scale=float(rng.uniform(0.8, 1.6)))
    return floor, style


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


def front_lights() -> list[LightSpec]:
    """Lights for the 2-D side views: a key light from the camera side, a fill from above."""
    return [
        LightSpec(direction=np.array([0.35, 1.0, -0.55]) / np.linalg.norm([0.35, 1.0, -0.55]), intensity=3.0),
        LightSpec(direction=np.array([-0.2, 0.3, -1.0]) / np.linalg.norm([-0.2, 0.3, -1.0]), intensity=1.0),
    ]


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


def make_spec(family: str, rng: np.random.Generator, ctx, gravity: float, lights: list[LightSpec] | None = None,
              **fields) -> SceneSpec:
    """A SceneSpec with the clip settings of ``ctx`` (fps, frames, physics rate), gravity ``gravity``
    m/s^2 along -z and, unless ``lights`` are given, :func:`default_lights` (drawn from ``rng`` here,
    after everything the caller drew)."""
    return SceneSpec(family=family, lights=default_lights(rng) if lights is None else lights,
                     gravity=np.array([0.0, 0.0, -float(gravity)]), fps=ctx.fps, frames=ctx.frames,
                     physics_hz=ctx.physics_hz, **fields)


def drop_caption(names: list[str], heights: list[float], floor_style: str) -> str:
    """"A red ball falls 1.2 m onto a tiled floor" / "Two objects (...) fall from 0.6 to 1.1 m onto ..."
    (no full stop: a family may go on)."""
    if len(names) == 1:
        return f"{a_an(names[0]).capitalize()} {names[0]} falls {heights[0]:.1f} m onto a {floor_style} floor"
    return (f"{count_word(len(names)).capitalize()} objects ({', '.join(names[:-1])} and {names[-1]}) fall from "
            f"{min(heights):.1f} to {max(heights):.1f} m onto a {floor_style} floor")


def drop_params(objects: list[ObjectSpec], heights: list[float], floor_style: str, gravity: float) -> dict:
    """The scene parameters of a drop: per-object drop height, restitution and friction; floor; gravity."""
    return {
        "drop_height": np.array(heights, dtype=np.float32),
        "restitution": np.array([o.restitution for o in objects], dtype=np.float32),
        "friction": np.array([o.friction for o in objects], dtype=np.float32),
        "floor_style": floor_style,
        "gravity": float(gravity),
    }
