"""Named object colours (the caption words) and how a sample picks them."""

from __future__ import annotations

import numpy as np

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


def pick_colors(rng: np.random.Generator, k: int, names: tuple[str, ...], exclude: tuple[str, ...] = ()) -> list[str]:
    """``k`` colour names from ``names`` (minus ``exclude``), distinct while there are enough."""
    pool = [c for c in names if c not in exclude]
    return [pool[i] for i in rng.choice(len(pool), size=k, replace=k > len(pool))]
