"""Shared geometry of ramp_down and ramp_up: a static box incline and a box sliding on it.

The ramp is a thin static box rotated about +y by the ramp angle theta, so its top surface descends
towards +x: along-slope "down" is d = (cos theta, 0, -sin theta), the surface normal n = (sin theta, 0,
cos theta). The lower end of the top surface touches the floor at x = 0. The slider is a flat box with
the ramp's orientation, resting on the surface. PyBullet multiplies friction coefficients and the ramp
has friction 1.0, so the slider's ``friction`` is the effective mu against the ramp.
"""

from __future__ import annotations

import math

import numpy as np

from simgen.asset_library import load_texture
from simgen.spec import ObjectSpec, StaticSpec
from simgen.scenes.common import PALETTE
from simgen.shapes import principal_inertia

THICKNESS = 0.06
WIDTH = 0.8


def ramp_frame(theta_deg: float):
    th = math.radians(theta_deg)
    d = np.array([math.cos(th), 0.0, -math.sin(th)])
    n = np.array([math.sin(th), 0.0, math.cos(th)])
    q = np.array([0.0, math.sin(th / 2), 0.0, math.cos(th / 2)])  # rotation about +y by theta
    return d, n, q


def make_ramp(look, theta_deg: float, length: float) -> tuple[StaticSpec, str]:
    """The ramp, its surface texture drawn by ``look`` (a :class:`simgen.appearance.Look`); returns it
    and the texture name."""
    d, n, q = ramp_frame(theta_deg)
    bottom = np.zeros(3)  # lower end of the top surface
    centre = bottom - 0.5 * length * d - 0.5 * THICKNESS * n
    tex, material = look.ramp_surface()
    ramp = StaticSpec(name="ramp", kind="box", size=np.array([0.5 * length, 0.5 * WIDTH, 0.5 * THICKNESS]),
                      position=centre, quaternion=q, texture=load_texture(tex), texture_scale=0.5, material=material)
    return ramp, tex


def make_slider(rng, size: float, mu: float, color_name: str, density: float, theta_deg: float,
                length: float, from_top: float, speed_down: float) -> ObjectSpec:
    """A flat box on the ramp, its centre ``from_top`` metres (along the slope) below the ramp's top
    end, moving down the slope at ``speed_down`` (negative: up)."""
    d, n, q = ramp_frame(theta_deg)
    half = np.array([size, size * rng.uniform(0.7, 1.0), size * rng.uniform(0.35, 0.55)])
    mass = density * 8.0 * float(np.prod(half))
    top = -length * d
    pos = top + from_top * d + (half[2] + 5e-4) * n
    return ObjectSpec(shape="box", size=half, mass=mass, friction=mu, restitution=0.0,
                      color=np.array(PALETTE[color_name]), position=pos, quaternion=q,
                      linear_velocity=speed_down * d, inertia=principal_inertia("box", half, mass), color_name=color_name)


def along_slope(positions: np.ndarray, velocities: np.ndarray, theta_deg: float):
    """Down-slope coordinate (0 at the ramp's lower end, negative on the ramp) and velocity."""
    d, _, _ = ramp_frame(theta_deg)
    return positions @ d, velocities @ d
