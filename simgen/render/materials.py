"""What a SceneSpec says about looks, turned into shader inputs: object materials (procedural patterns
in the body frame), static surfaces, lights and the environment (backdrop and hemispheric ambient).

Defaults reproduce the look of the first renderer: ``ObjectSpec.material=None`` is a plain colour,
with round bodies two-tone by octant (0.72 of the colour) so that rotation shows; roughness 0.55;
statics roughness 0.9; ``SceneSpec.environment=None`` is the flat ``background`` colour and a uniform
``ambient_light``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simgen.render.meshes import ROUND_SHAPES
from simgen.spec import EnvironmentSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec, StaticSpec

PATTERNS = ("plain", "octants", "stripes", "checks", "marble", "wood", "noise")
NOISE_PATTERNS = ("marble", "wood", "noise")  # the patterns built on value noise (costlier to shade)
ENVIRONMENTS = ("flat", "sky", "image")
MAPPINGS = ("equirect", "screen")
OCTANT_SHADE = 0.72  # second tone of the default two-tone round bodies
PATTERN_SHADE = 0.6  # default second colour of a pattern: this fraction of the object colour
MAX_LIGHTS = 8


def specular_strength(roughness: float, specular: float) -> float:
    """The Blinn-Phong highlight weight: ``1.4 * specular * (1 - roughness)`` (the defaults, 0.55 and
    0.25, give the first renderer's 0.35 * (1 - roughness))."""
    return 1.4 * float(specular) * (1.0 - float(np.clip(roughness, 0.0, 1.0)))


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what}={value!r} is not one of {', '.join(allowed)}")


def object_material(obj: ObjectSpec) -> MaterialSpec:
    """The material an object is drawn with (its own, or the default look for its shape)."""
    if obj.material is not None:
        _check(obj.material.pattern, PATTERNS, "MaterialSpec.pattern")
        return obj.material
    color = np.asarray(obj.color, np.float64)
    if obj.shape in ROUND_SHAPES:
        return MaterialSpec(pattern="octants", color2=np.clip(color * OCTANT_SHADE, 0, 1))
    return MaterialSpec(pattern="plain")


def material_records(objects: list[ObjectSpec], bounding: np.ndarray, occluder: np.ndarray,
                     convex: np.ndarray) -> np.ndarray:
    """float32 [N, 16]: per object (colour, seed), (second colour, scale), (pattern, roughness, ks, 0),
    (bounding radius, occluder radius, 1 if not convex, 0), as shaders/common.glsl's ``Mat``."""
    rec = np.zeros((len(objects), 16), np.float32)
    for k, obj in enumerate(objects):
        m = object_material(obj)
        color = np.asarray(obj.color, np.float64)[:3]
        c2 = np.asarray(m.color2, np.float64)[:3] if m.color2 is not None else np.clip(color * PATTERN_SHADE, 0, 1)
        rec[k, 0:3], rec[k, 3] = color, float(m.seed)
        rec[k, 4:7], rec[k, 7] = c2, max(float(m.scale), 1e-4)
        rec[k, 8:11] = PATTERNS.index(m.pattern), float(m.roughness), specular_strength(m.roughness, m.specular)
        rec[k, 12:15] = bounding[k], occluder[k], 0.0 if convex[k] else 1.0
    return rec


def static_surface(st: StaticSpec) -> tuple[float, float]:
    """(roughness, specular weight) of a static surface."""
    if st.material is None:
        return 0.9, specular_strength(0.9, 0.25)
    return float(st.material.roughness), specular_strength(st.material.roughness, st.material.specular)


def key_light_index(lights: list[LightSpec]) -> int:
    """The light whose shadows are drawn: the first marked ``cast_shadows``, else the first light."""
    for i, light in enumerate(lights):
        if light.cast_shadows:
            return i
    return 0 if lights else -1


@dataclass
class LightUniforms:
    n_lights: int
    light_dir: np.ndarray  # [MAX_LIGHTS, 3] unit vectors toward each light
    light_rgb: np.ndarray  # [MAX_LIGHTS, 3] colour * intensity
    key_light: int


def light_uniforms(lights: list[LightSpec]) -> LightUniforms:
    if len(lights) > MAX_LIGHTS:
        raise ValueError(f"at most {MAX_LIGHTS} lights per scene, got {len(lights)}")
    dirs = np.zeros((MAX_LIGHTS, 3), np.float32)
    rgb = np.zeros((MAX_LIGHTS, 3), np.float32)
    for i, light in enumerate(lights):
        d = np.asarray(light.direction, np.float64)
        dirs[i] = -d / np.linalg.norm(d)
        rgb[i] = np.asarray(light.color, np.float64)[:3] * float(light.intensity)
    return LightUniforms(len(lights), dirs, rgb, key_light_index(lights))


def environment_of(spec: SceneSpec) -> EnvironmentSpec:
    """The scene's environment; None becomes a flat ``background`` with uniform ``ambient_light``."""
    env = spec.environment
    if env is None:
        bg = np.asarray(spec.background, np.float64)[:3]
        amb = np.asarray(spec.ambient_light, np.float64)[:3]
        return EnvironmentSpec(kind="flat", zenith=bg, horizon=bg, ground=bg, ambient_sky=amb, ambient_ground=amb)
    _check(env.kind, ENVIRONMENTS, "EnvironmentSpec.kind")
    if env.kind == "image":
        _check(env.mapping, MAPPINGS, "EnvironmentSpec.mapping")
        if env.image is None:
            raise ValueError("EnvironmentSpec.kind='image' needs an image")
    return env


def environment_kind(env: EnvironmentSpec) -> int:
    """The shader's env_kind: 0 flat, 1 sky gradient, 2 equirectangular image, 3 screen image."""
    if env.kind == "image":
        return 2 if env.mapping == "equirect" else 3
    return ENVIRONMENTS.index(env.kind)


def flat_color(env: EnvironmentSpec) -> np.ndarray:
    """One colour for the whole backdrop (the pyrender reference): the horizon, or the image's mean."""
    if env.kind == "image" and env.image is not None:
        return np.asarray(env.image, np.float64)[..., :3].reshape(-1, 3).mean(axis=0) / 255.0
    return np.asarray(env.horizon if env.kind == "sky" else env.zenith, np.float64)[:3]
