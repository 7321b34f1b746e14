"""Tileable noise fields for procedural textures (floors), made once per process and reused.

A field is white noise shaped in the Fourier domain (power ~ 1 / f^beta, optionally stretched along
one axis), so it wraps seamlessly at the texture edges: a floor texture repeats without seams. The
fields do not depend on any sample: they come from fixed private seeds and are cached; a sample
varies them cheaply by a random shift and one of the 8 square symmetries (:func:`variant`).
"""

from __future__ import annotations

import functools

import numpy as np

SIZE = 256  # texture size in pixels (square, a power of two)


@functools.lru_cache(maxsize=32)
def base(beta: float, stretch: float = 1.0, seed: int = 0, size: int = SIZE) -> np.ndarray:
    """A tileable noise field, float32 [size, size], zero mean and unit standard deviation.

    ``beta`` is the spectral slope (0 white, 2 cloudy, 3 smooth blotches); ``stretch`` > 1 elongates
    the features along x by that factor (wood grain, grass blades). Read-only, shared."""
    gen = np.random.default_rng(np.random.SeedSequence(0x51A6E4, spawn_key=(seed,)))  # fixed, private
    white = gen.standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :] * stretch
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.rfft2(white) / f ** (beta / 2.0)
    spec[0, 0] = 0.0
    field = np.fft.irfft2(spec, s=(size, size))
    field = (field - field.mean()) / field.std()
    out = field.astype(np.float32)
    out.flags.writeable = False
    return out


def variant(rng: np.random.Generator, beta: float, stretch: float = 1.0, keep_axis: bool = False) -> np.ndarray:
    """One of the cached fields for (``beta``, ``stretch``), shifted by a random offset and turned by a
    random square symmetry (only flips with ``keep_axis``, so stretched features stay along x)."""
    f = base(beta, stretch, int(rng.integers(3)))
    dy, dx = (int(v) for v in rng.integers(0, f.shape[0], size=2))
    f = np.roll(f, (dy, dx), axis=(0, 1))
    k = int(rng.integers(8))
    if k & 1:
        f = f[::-1]
    if k & 2:
        f = f[:, ::-1]
    if k & 4 and not keep_axis:
        f = f.T
    return f
