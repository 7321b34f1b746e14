"""The held-out appearance split: every categorical kind of look has a seen and an unseen half.

``scene.appearance=seen`` draws colours, floors, ramp textures, object patterns, skies, backdrops,
environment images and meshes from the seen halves only, ``unseen`` from the other halves, ``all`` from
both. A model trained on ``appearance=seen`` data can be evaluated on ``appearance=unseen`` data whose
every categorical appearance is new. (Meshes are physical too: they change mass and collision shape.)
Continuous draws (light direction, colour temperature, roughness, ...) are not split.
"""

from __future__ import annotations

import zlib

APPEARANCES = ("all", "seen", "unseen")

APPEARANCE = {
    "seen": {
        "colors": ("red", "green", "blue", "yellow", "purple", "orange"),
        "floors": ("checkered", "tiled", "planks", "concrete"),
        "textures": ("checker", "stripes", "wood"),  # ramp surfaces (assets/textures)
        "meshes": ("rock", "cone", "torus"),
        "patterns": ("octants", "stripes", "checks"),
        "skies": ("clear", "hazy", "overcast"),
        "backdrops": ("white", "pale blue"),  # flat backgrounds
    },
    "unseen": {
        "colors": ("teal", "pink", "brown", "black", "white"),
        "floors": ("striped", "plain", "grass", "bricks"),
        "textures": ("dots", "marble", "bricks"),
        "meshes": ("star", "bowl", "gem"),
        "patterns": ("marble", "wood", "noise"),
        "skies": ("dusk", "morning", "stormy"),
        "backdrops": ("cream", "pale green"),
    },
}
KINDS = tuple(APPEARANCE["seen"])


def appearance_set(kind: str, appearance: str) -> tuple:
    """The names of ``kind`` (one of :data:`KINDS`) allowed by ``appearance`` (all | seen | unseen)."""
    if appearance == "all":
        return tuple(APPEARANCE["seen"][kind]) + tuple(APPEARANCE["unseen"][kind])
    return tuple(APPEARANCE[appearance][kind])


def file_half(name: str) -> str:
    """The half a user file (an environment image) belongs to, by its file name: ``seen`` or ``unseen``.

    A stable hash of the name, so adding files to a folder never moves the others between halves."""
    return "seen" if zlib.crc32(name.encode()) % 2 == 0 else "unseen"
