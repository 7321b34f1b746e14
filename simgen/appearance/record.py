"""What a row records of a sample's look (columns documented in the README's sample contract)."""

from __future__ import annotations

import numpy as np

from simgen.appearance.lights import key_light
from simgen.spec import SceneSpec


def appearance_cells(spec: SceneSpec, motion: str = "static") -> dict:
    """The row's appearance columns: key light (direction toward it, world frame; colour; intensity),
    environment kind and name, floor kind, each object's pattern, and the camera motion."""
    key = key_light(spec.lights)
    if key is not None:
        d = -np.asarray(key.direction, np.float64)
        toward, color, intensity = d / np.linalg.norm(d), np.asarray(key.color, np.float64), float(key.intensity)
    else:
        toward, color, intensity = np.zeros(3), np.zeros(3), 0.0
    env = spec.environment
    floor = next((st for st in spec.statics if st.name == "floor"), None)
    return {
        "light_direction": toward.astype(np.float32),
        "light_color": color.astype(np.float32),
        "light_intensity": intensity,
        "environment_kind": env.kind if env is not None else "flat",
        "environment_name": env.name if env is not None else "",
        "floor_kind": floor.material.name if floor is not None and floor.material is not None else "",
        "object_pattern": [o.material.pattern if o.material is not None else "" for o in spec.objects],
        "camera_motion": motion if spec.camera.trajectory is not None else "static",
    }
