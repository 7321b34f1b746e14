"""Building blocks shared by the scene families: colours, floors, cameras, lights, objects.

Every function takes the sample's ``numpy.random.Generator``; nothing here draws from a global RNG.
"""

from __future__ import annotations

import math

import numpy as np

from simgen.config import Range
from simgen.shapes import bounding_radius, principal_inertia, random_convex_mesh, volume
from simgen.spec import CameraSpec, LightSpec, ObjectSpec, StaticSpec, project_points

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
    return f"{obj.color_name} {SHAPE_WORDS.get(obj.shape, obj.shape)}".strip()
