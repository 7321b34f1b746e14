"""Object and surface materials: pattern, second colour, pattern scale, roughness and specular.

Patterns are laid out in the body frame (they turn with the body, so rotation shows); the renderer
draws them from the :class:`~simgen.spec.MaterialSpec`. Pattern names and their caption words are in
:data:`PATTERN_WORDS`; the seen/unseen halves in :mod:`simgen.appearance.split`.
"""

from __future__ import annotations

import numpy as np

from simgen.spec import MaterialSpec

PATTERN_WORDS = {"plain": "", "octants": "two-tone", "stripes": "striped", "checks": "checked",
                 "marble": "marbled", "wood": "wood-grain", "noise": "mottled"}


def object_material(rng: np.random.Generator, color, pattern: str, size: float,
                    other_colors: list | None = None) -> MaterialSpec:
    """A material of ``pattern`` on an object of base colour ``color`` and characteristic size ``size``
    (bounding radius, m). The second colour is one of ``other_colors`` (half the time, for stripes,
    checks and octants) or a shade of the base colour; the pattern period is about the object's size."""
    c = np.asarray(color, np.float64)
    if pattern == "marble":  # light veins on the base colour
        color2 = c + (1.0 - c) * rng.uniform(0.5, 0.8)
    elif pattern in ("stripes", "checks", "octants") and other_colors and rng.random() < 0.5:
        color2 = np.asarray(other_colors[int(rng.integers(len(other_colors)))], np.float64)
    else:  # wood grain, noise, or a darker shade
        color2 = c * rng.uniform(0.4, 0.65)
    period = {"marble": (1.0, 2.0), "noise": (0.6, 1.4), "wood": (0.8, 1.6)}.get(pattern, (0.6, 1.4))
    return MaterialSpec(pattern=pattern, color2=color2, scale=float(size * rng.uniform(*period)),
                        roughness=float(rng.uniform(0.2, 0.9)), specular=float(rng.uniform(0.05, 0.5)),
                        seed=float(rng.uniform(0.0, 1000.0)), name=PATTERN_WORDS[pattern])


def surface_material(rng: np.random.Generator, name: str) -> MaterialSpec:
    """Roughness and specular of a textured static surface (a ramp); ``name`` is its texture."""
    return MaterialSpec(pattern="plain", roughness=float(rng.uniform(0.5, 0.9)),
                        specular=float(rng.uniform(0.05, 0.3)), name=name)
