"""Appearance: how a sample looks, drawn apart from its physics.

A scene sampler draws the physical scene (objects, masses, initial state) from the sample's physics
generator and everything a camera sees but no engine needs (object colours and patterns, floor and
ramp textures, lights, sky or backdrop) from a :class:`Look`, which holds the sample's own appearance
stream (:func:`simgen.scenes_registry.stream_rng`, derived from the same per-sample seed). Changing the
look (``scene.appearance``, ``render.environment_dir``, new kinds of floors) therefore never changes
the physics, and the look of a sample does not depend on the engine.

One module per job: :mod:`~simgen.appearance.split` (the seen/unseen halves),
:mod:`~simgen.appearance.colors`, :mod:`~simgen.appearance.materials`,
:mod:`~simgen.appearance.floors` (with :mod:`~simgen.appearance.noise`),
:mod:`~simgen.appearance.lights`, :mod:`~simgen.appearance.environment`.
"""

from __future__ import annotations

import math

import numpy as np

from simgen.appearance import environment as envs
from simgen.appearance.colors import PALETTE, pick_colors
from simgen.appearance.floors import FLOOR_WORDS, make_floor
from simgen.appearance.lights import key_and_fill
from simgen.appearance.materials import object_material, surface_material
from simgen.appearance.split import appearance_set
from simgen.spec import CameraSpec, EnvironmentSpec, LightSpec, MaterialSpec, ObjectSpec, StaticSpec

SKY_PROBABILITY = 0.7  # families with a floor: a sky, else a flat backdrop (no environment_dir)


class Look:
    """The appearance draws of one sample: its own generator, the appearance half in use
    (``all | seen | unseen``) and the user's environment images (``render.environment_dir``)."""

    def __init__(self, rng: np.random.Generator, appearance: str = "all", environment_dir: str | None = None):
        self.rng = rng
        self.appearance = appearance
        self.environment_dir = environment_dir or None

    def names(self, kind: str) -> tuple:
        return appearance_set(kind, self.appearance)

    def _pick(self, kind: str):
        names = self.names(kind)
        return names[int(self.rng.integers(len(names)))]

    # -- objects ------------------------------------------------------------------------------------
    def colors(self, k: int, exclude: tuple[str, ...] = ()) -> list[str]:
        """``k`` object colour names (distinct while the half has enough)."""
        return pick_colors(self.rng, k, self.names("colors"), exclude)

    def dress(self, objects: list[ObjectSpec]) -> None:
        """Give every object without a material a patterned one (pattern from the appearance half,
        second colour another colour of the half, roughness and specular drawn)."""
        from simgen.shapes import bounding_radius

        for obj in objects:
            if obj.material is not None:
                continue
            others = [PALETTE[c] for c in self.names("colors") if c != obj.color_name]
            obj.material = object_material(self.rng, obj.color, self._pick("patterns"), bounding_radius(obj), others)

    def plain(self, objects: list[ObjectSpec]) -> None:
        """Plain materials (no pattern; roughness and specular drawn) for objects without one."""
        for obj in objects:
            if obj.material is None:
                obj.material = object_material(self.rng, obj.color, "plain", 1.0)

    # -- static surfaces ----------------------------------------------------------------------------
    def floor(self, half_size: float = 10.0) -> tuple[StaticSpec, str]:
        """A textured floor plane and its kind (``FLOOR_WORDS[kind]`` is the caption word)."""
        return make_floor(self.rng, self.names("floors"), half_size)

    def ramp_surface(self) -> tuple[str, MaterialSpec]:
        """A ramp texture name (a shipped texture of the half) and the surface's material."""
        name = self._pick("textures")
        return name, surface_material(self.rng, name)

    # -- light and environment ------------------------------------------------------------------------
    def environment(self, ground=None, side: bool = False):
        """(EnvironmentSpec, Lighting): an image from ``environment_dir`` when set; else a flat backdrop
        for side views (``side``), a sky or a flat backdrop otherwise. ``ground`` is the floor colour."""
        if self.environment_dir:
            files = envs.images_for(self.environment_dir, self.appearance)
            return envs.image(self.rng, str(files[int(self.rng.integers(len(files)))]), screen=side)
        if side or self.rng.random() >= SKY_PROBABILITY:
            return envs.flat(self.rng, self._pick("backdrops"), ground)
        return envs.sky(self.rng, self._pick("skies"), ground)

    def stage(self, camera: CameraSpec, ground=None) -> tuple[EnvironmentSpec, list[LightSpec]]:
        """Environment and lights for a scene seen by ``camera``: the key light comes from within 135
        degrees of the camera's side (50 for orthographic side views), never from straight behind."""
        side = camera.projection == "orthographic"
        env, lighting = self.environment(ground, side)
        back = -np.asarray(camera.cam_to_world, np.float64)[:3, 2]  # from the scene toward the camera
        view_az = math.degrees(math.atan2(back[1], back[0]))
        return env, key_and_fill(self.rng, lighting, view_az, 50.0 if side else 135.0)


__all__ = ["Look", "FLOOR_WORDS", "PALETTE", "envs"]
