"""Lights of one sample: a shadow-casting key light (direction, colour temperature, intensity) and a
weak fill. The sky/ambient fill is hemispheric and lives in the environment
(:mod:`simgen.appearance.environment`), which also says what sun suits it (:class:`Lighting`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simgen.spec import LightSpec

# CIE 1931 XYZ -> linear sRGB (D65)
_XYZ_TO_RGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])


@dataclass(frozen=True)
class Lighting:
    """Ranges of the key light that suit an environment, and its ambient level."""

    elevation: tuple[float, float]  # degrees above the horizon
    kelvin: tuple[float, float]  # colour temperature
    intensity: tuple[float, float]
    ambient: float  # hemispheric ambient level (sky side)


def _planck_rgb(kelvin: float) -> np.ndarray:
    """Linear sRGB of a black body (Kim et al. 2002 cubic fit of the Planckian locus, 1667-25000 K)."""
    t = float(np.clip(kelvin, 1667.0, 25000.0))
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return _XYZ_TO_RGB @ np.array([x / y, 1.0, (1.0 - x - y) / y])


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Colour of a light of temperature ``kelvin``: linear RGB, white at 6500 K, brightest channel 1."""
    rgb = np.clip(_planck_rgb(kelvin) / _planck_rgb(6500.0), 0.0, None)
    return rgb / rgb.max()


def toward(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector pointing toward a light at ``elevation`` above the horizon and ``azimuth`` about z
    (0 along +x, 90 along +y)."""
    el, az = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])


def key_and_fill(rng: np.random.Generator, lighting: Lighting, view_azimuth_deg: float,
                 spread_deg: float = 135.0) -> list[LightSpec]:
    """The key light (casts shadows) at an azimuth within ``spread_deg`` of the camera's side
    (``view_azimuth_deg``: azimuth of the camera seen from the scene; the key is never straight
    behind the objects), and a weak fill from the other side that casts none."""
    el = rng.uniform(*lighting.elevation)
    az = view_azimuth_deg + rng.uniform(-spread_deg, spread_deg)
    color = kelvin_to_rgb(rng.uniform(*lighting.kelvin))
    key = LightSpec(direction=-toward(el, az), intensity=float(rng.uniform(*lighting.intensity)), color=color,
                    cast_shadows=True)
    fill_dir = -toward(35.0, az + 180.0)
    fill = LightSpec(direction=fill_dir, intensity=float(0.2 * key.intensity), color=np.ones(3))
    return [key, fill]


def key_light(lights: list[LightSpec]) -> LightSpec | None:
    """The light whose shadows are drawn (the first with ``cast_shadows``, else the first light)."""
    for light in lights:
        if light.cast_shadows:
            return light
    return lights[0] if lights else None
