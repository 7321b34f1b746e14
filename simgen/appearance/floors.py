"""Procedural floor textures: eight kinds, each a tileable 256x256 RGB image drawn per sample.

Kinds (the seen/unseen halves are in :mod:`simgen.appearance.split`): ``checkered``, ``tiled``
(ceramic tiles and grout), ``planks`` (staggered wooden planks with grain), ``concrete``, ``striped``,
``plain``, ``grass`` (grass-like noise with dry patches) and ``bricks`` (running-bond paving).

Everything that does not depend on the sample (noise fields, cell index maps, grout lines) is made
once per process and cached; a sample only draws colours, offsets and per-cell tones, which costs a
few milliseconds (``benchmarks/bench_framing.py`` prints the appearance CPU-ms per sample).
"""

from __future__ import annotations

import functools

import numpy as np

from simgen.appearance import noise
from simgen.spec import MaterialSpec, StaticSpec

S = noise.SIZE

# Caption words ("... onto a wooden plank floor").
FLOOR_WORDS = {
    "checkered": "checkered", "tiled": "tiled", "planks": "wooden plank", "concrete": "concrete",
    "striped": "striped", "plain": "plain", "grass": "grassy", "bricks": "brick",
}
FLOOR_KINDS = tuple(FLOOR_WORDS)

# metres per texture repeat, and (roughness, specular) ranges of the surface, per kind
_SCALE = {"checkered": (0.8, 1.6), "tiled": (0.8, 1.6), "planks": (1.0, 1.6), "concrete": (1.5, 3.0),
          "striped": (0.8, 1.6), "plain": (1.5, 3.0), "grass": (1.5, 3.0), "bricks": (0.8, 1.4)}
_SURFACE = {"checkered": ((0.5, 0.9), (0.05, 0.3)), "tiled": ((0.25, 0.5), (0.3, 0.55)),
            "planks": ((0.45, 0.8), (0.1, 0.35)), "concrete": ((0.8, 0.95), (0.02, 0.1)),
            "striped": ((0.5, 0.9), (0.05, 0.3)), "plain": ((0.5, 0.9), (0.05, 0.3)),
            "grass": ((0.9, 1.0), (0.0, 0.05)), "bricks": ((0.85, 0.95), (0.03, 0.1))}
_WOODS = ((0.78, 0.60, 0.40), (0.64, 0.44, 0.24), (0.42, 0.27, 0.15), (0.62, 0.58, 0.52), (0.55, 0.33, 0.20))
_BRICKS = ((0.58, 0.26, 0.16), (0.70, 0.58, 0.42), (0.50, 0.50, 0.50), (0.46, 0.20, 0.14))


@functools.lru_cache(maxsize=16)
def _cells(n: int, stagger: bool = False) -> np.ndarray:
    """Cell index [S, S] of an n x n grid (``stagger``: odd rows shifted by half a cell)."""
    yy, xx = np.mgrid[0:S, 0:S]
    c = S // n
    row = yy // c
    shift = (row % 2) * (c // 2) if stagger else 0
    out = row * n + ((xx + shift) % S) // c
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=16)
def _lines(n: int, width: int, stagger: bool = False) -> np.ndarray:
    """Grout / seam mask [S, S] along the borders of an n x n grid, ``width`` px wide."""
    yy, xx = np.mgrid[0:S, 0:S]
    c = S // n
    shift = ((yy // c) % 2) * (c // 2) if stagger else 0
    out = ((yy % c) < width) | (((xx + shift) % c) < width)
    out.flags.writeable = False
    return out


def _shade(rgb, factor) -> np.ndarray:
    """``rgb`` [3] times a per-pixel factor [S, S] -> [S, S, 3]."""
    return np.asarray(rgb, np.float32)[None, None, :] * np.asarray(factor, np.float32)[..., None]


def _rand_rgb(rng, lo=0.35, hi=0.8) -> np.ndarray:
    return rng.uniform(lo, hi, size=3)


def _checkered(rng):
    n = int(rng.choice([4, 8]))
    a = _rand_rgb(rng)
    b = a * rng.uniform(0.55, 0.8)
    cells = _cells(n)
    pat = ((cells // n + cells % n) % 2).astype(bool)
    img = np.where(pat[..., None], b.astype(np.float32), a.astype(np.float32))
    return img * (1.0 + 0.04 * noise.variant(rng, 2.0))[..., None]


def _striped(rng):
    n = int(rng.choice([4, 8, 16]))
    a = _rand_rgb(rng)
    b = a * rng.uniform(0.55, 0.8)
    pat = (np.arange(S) // (S // n)) % 2 == 1
    img = np.where(pat[None, :, None], b.astype(np.float32), a.astype(np.float32))
    return np.broadcast_to(img, (S, S, 3)) * (1.0 + 0.04 * noise.variant(rng, 2.0, keep_axis=True))[..., None]


def _plain(rng):
    f = 1.0 + 0.05 * noise.variant(rng, 3.0) + 0.03 * noise.variant(rng, 1.0)
    return _shade(_rand_rgb(rng), f)


def _tiled(rng):
    n = int(rng.choice([4, 8]))
    width = int(rng.integers(2, 5))
    tile = _rand_rgb(rng, 0.4, 0.92)
    grout = np.full(3, rng.uniform(0.2, 0.35) if rng.random() < 0.5 else rng.uniform(0.7, 0.85))
    tone = rng.uniform(0.93, 1.07, size=n * n).astype(np.float32)
    f = tone[_cells(n)] * (1.0 + 0.025 * noise.variant(rng, 1.5))
    img = _shade(tile, f)
    img[_lines(n, width)] = grout.astype(np.float32)
    return img


def _planks(rng):
    rows, per_row = 8, int(rng.choice([1, 2]))
    h = S // rows
    wood = np.asarray(_WOODS[int(rng.integers(len(_WOODS)))]) * rng.uniform(0.9, 1.1)
    phase = rng.integers(0, S, size=rows)
    tone = rng.uniform(0.82, 1.12, size=rows * per_row).astype(np.float32)
    grain = noise.variant(rng, 2.2, stretch=12.0, keep_axis=True)
    shift = rng.integers(0, S, size=rows)  # each row its own stretch of grain
    f = np.empty((S, S), np.float32)
    x = np.arange(S)
    plank_len = S // per_row
    for i in range(rows):
        xs = (x + phase[i]) % S
        along = tone[i * per_row + xs // plank_len] * (xs % plank_len >= 2)  # plank tone, end joints
        band = np.roll(grain[i * h:(i + 1) * h], int(shift[i]), axis=1)
        f[i * h:(i + 1) * h] = np.where(along > 0, along, 0.55 * tone[i * per_row]) * (1.0 + 0.12 * band)
        f[i * h:i * h + 2] *= 0.55  # seam between rows
    return _shade(wood, f)


def _concrete(rng):
    g = rng.uniform(0.42, 0.68)
    tint = g * (1.0 + rng.uniform(-0.04, 0.04, size=3))
    hi = noise.variant(rng, 0.3)
    f = 1.0 + 0.08 * noise.variant(rng, 3.0) + 0.04 * noise.variant(rng, 2.0) + 0.035 * hi
    f = np.where(hi > 2.4, f * 0.72, f)  # dark specks (aggregate, pores)
    return _shade(tint, f)


def _grass(rng):
    green = np.array([rng.uniform(0.16, 0.3), rng.uniform(0.36, 0.55), rng.uniform(0.06, 0.15)])
    dry = np.array([rng.uniform(0.45, 0.55), rng.uniform(0.42, 0.5), rng.uniform(0.18, 0.26)])
    patches = noise.variant(rng, 3.0)
    t = 1.0 / (1.0 + np.exp(-(1.6 * patches + rng.uniform(-2.0, 0.0))))
    t = (t * rng.uniform(0.3, 0.8)).astype(np.float32)[..., None]
    blades = 1.0 + 0.2 * noise.variant(rng, 0.8)
    img = (1.0 - t) * green.astype(np.float32) + t * dry.astype(np.float32)
    return img * blades[..., None]


def _bricks(rng):
    rows, per_row = 8, 4
    brick = np.asarray(_BRICKS[int(rng.integers(len(_BRICKS)))]) * rng.uniform(0.9, 1.1)
    mortar = np.full(3, rng.uniform(0.6, 0.8), np.float32)
    width = int(rng.integers(2, 4))
    yy = np.arange(S)[:, None] // (S // rows)
    xx = np.arange(S)[None, :]
    c = S // per_row
    col = ((xx + (yy % 2) * (c // 2)) % S) // c
    cell = yy * per_row + col
    tone = rng.uniform(0.84, 1.14, size=rows * per_row).astype(np.float32)
    f = tone[cell] * (1.0 + 0.05 * noise.variant(rng, 1.5))
    img = _shade(brick, f)
    cy = S // rows
    line = ((np.arange(S)[:, None] % cy) < width) | (((xx + (yy % 2) * (c // 2)) % c) < width)
    img[line] = mortar
    return img


_MAKERS = {"checkered": _checkered, "tiled": _tiled, "planks": _planks, "concrete": _concrete,
           "striped": _striped, "plain": _plain, "grass": _grass, "bricks": _bricks}


def floor_texture(rng: np.random.Generator, kind: str) -> np.ndarray:
    """A floor texture of ``kind`` drawn from ``rng``: uint8 [256, 256, 3], tileable."""
    if kind not in _MAKERS:
        raise ValueError(f"unknown floor kind {kind!r}; known: {', '.join(FLOOR_KINDS)}")
    img = _MAKERS[kind](rng)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def floor_material(rng: np.random.Generator, kind: str) -> MaterialSpec:
    """Roughness and specular of a floor of ``kind``; ``name`` is the kind (the pattern is the texture)."""
    (r0, r1), (s0, s1) = _SURFACE[kind]
    return MaterialSpec(pattern="plain", roughness=float(rng.uniform(r0, r1)), specular=float(rng.uniform(s0, s1)),
                        name=kind)


def make_floor(rng: np.random.Generator, kinds: tuple[str, ...], half_size: float = 10.0,
               friction: float = 1.0, restitution: float = 1.0) -> tuple[StaticSpec, str]:
    """A textured floor plane (z = 0) of a kind drawn from ``kinds``; returns it and the kind.

    Friction and restitution 1.0 by default: against it an object's own coefficients are the
    effective ones (both engines combine by product)."""
    kind = kinds[int(rng.integers(len(kinds)))]
    tex = floor_texture(rng, kind)
    lo, hi = _SCALE[kind]
    return StaticSpec(name="floor", kind="plane", size=np.array([half_size, half_size]), position=np.zeros(3),
                      friction=friction, restitution=restitution, texture=tex,
                      texture_scale=float(rng.uniform(lo, hi)),
                      color=_mean_rgb(tex) / 255.0,
                      material=floor_material(rng, kind)), kind


def _mean_rgb(img: np.ndarray) -> np.ndarray:
    """Mean colour of a uint8 [H, W, 3] image as float64 [3]: sums of whole rows in integers (exact,
    the same value as ``img.reshape(-1, 3).mean(axis=0)`` at a tenth of its strided cost)."""
    return img.reshape(img.shape[0], -1).sum(axis=0, dtype=np.int64).reshape(-1, 3).sum(axis=0) / (img.size // 3)
