"""Object masks of a video without a segmentation model: departures from the background plate, with
identities tracked from the GT's first-frame masks.

Inputs: the video (uint8 [T, H, W, 3], already paired with the GT and resized to its size), the
background plate of the sample (:mod:`simgen.eval.plate`), and the GT's first frame and its instance
masks, which give every object a **colour palette** (the colours of its pixels, binned) and a starting
**position and size**. Frame by frame, each object is looked for in a window around where it should be
(last centroid + last per-frame motion, radius 1.5 x its size + its speed + a margin). A pixel of the
window belongs to object k when

1. it is **explained as object k**: ``pixel - plate = a (c - plate) + r`` for one of k's palette colours
   ``c`` with coverage ``a >= 0.5`` and a small residual ``|r|`` (edge pixels blended with the floor by
   anti-aliasing count when the object covers at least half of them, as in the GT's pixel-centre masks;
   ``|pixel - plate| > 12`` at least), or
2. it departs strongly from the plate (``max |pixel - plate| > 30`` on 0..255), is explained by no object
   and is **not a shadow**: a shadow keeps the plate's chromaticity (normalised r, g, b within 0.06) and is
   darker (brightness ratio 0.15 to 0.97). This keeps objects whose colour the model changed.

A pixel claimed by two objects goes to the smaller residual (rule 1) or the nearer window centre (rule 2).
Specks (connected pieces under 3 pixels or 10 % of the largest piece) are removed. An object found
with under 20 % of its last area is *lost*: it keeps its last mask position for the tracker and is
looked for in the whole frame by colour (rule 1, largest piece) from the next frame on.

Limits (measured in ``benchmarks/bench_eval.py``): a cast shadow whose colour is a darker shade of the
object's own colour and touches it (a grey object on a grey floor) is counted as object; an object the
model recolours is found only by rule 2 (departure, not a shadow) and near its expected place; a moving
camera needs a plate per frame (rendered when the row's ``cam_to_world`` varies) and a prediction that
follows the GT camera; objects that vanish or merge keep their last identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

CAND = 12.0  # |pixel - plate| (max over channels) below which nothing is an object pixel
STRONG = 30.0  # rule 2 departure
MIN_COVER = 0.5
RESID = 28.0  # rule 1 residual (0..255 units, Euclidean over RGB)
SHADOW_CHROMA = 0.06
SHADOW_RATIO = (0.15, 0.97)
EPS = 24.0  # added to brightness sums: dark pixels' chromaticity is noise


@dataclass
class ObjectModel:
    palette: np.ndarray  # float32 [K, 3]
    centre: np.ndarray  # (x, y)
    extent: float  # pixels from centroid to the farthest mask pixel
    area: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lost: bool = False


def palette_of(pixels: np.ndarray, bins: int = 8, min_frac: float = 0.02, max_colours: int = 12) -> np.ndarray:
    """Mean colour of every populated RGB bin (``bins`` per channel) holding >= ``min_frac`` of the pixels."""
    if len(pixels) == 0:
        return np.zeros((0, 3), np.float32)
    px = pixels.astype(np.float32)
    q = (pixels.astype(np.int32) * bins) // 256
    key = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    sums = np.zeros((len(uniq), 3), np.float64)
    np.add.at(sums, inv, px)
    means = (sums / counts[:, None]).astype(np.float32)
    order = np.argsort(-counts)
    keep = [i for i in order if counts[i] >= max(1, min_frac * len(px))][:max_colours]
    return means[keep] if keep else means[order[:1]]


def init_models(frame0: np.ndarray, labels0: np.ndarray, n: int) -> list[ObjectModel]:
    H, W = labels0.shape
    models = []
    for k in range(1, n + 1):
        m = labels0 == k
        inner = ndimage.binary_erosion(m)
        src = inner if inner.sum() >= 5 else m
        pal = palette_of(frame0[src])
        if m.any():
            ys, xs = np.nonzero(m)
            c = np.array([xs.mean(), ys.mean()])
            ext = float(np.sqrt(((xs - c[0]) ** 2 + (ys - c[1]) ** 2).max())) + 1.0
            models.append(ObjectModel(pal, c, ext, float(m.sum())))
        else:
            models.append(ObjectModel(pal, np.array([W / 2.0, H / 2.0]), 0.5 * max(H, W), 0.0, lost=True))
    return models


def _explain(d: np.ndarray, p: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit ``d = a (c - p) + r`` for every palette colour c (d = pixel - plate, p = plate, [M, 3]).

    Returns (is_object, residual, is_background_blend) [M]: is_object when some colour fits with coverage
    a >= 0.5 and a small residual (its residual is returned, the smallest among such fits); a background
    blend when colours fit only with a < 0.5."""
    M = len(d)
    if len(palette) == 0:
        return np.zeros(M, bool), np.full(M, np.inf), np.zeros(M, bool)
    e = palette[None, :, :] - p[:, None, :]  # [M, K, 3]
    ee = np.maximum((e * e).sum(-1), 1.0)
    a = np.clip((d[:, None, :] * e).sum(-1) / ee, 0.0, 1.0)
    r = np.linalg.norm(d[:, None, :] - a[..., None] * e, axis=-1)
    fits = r < RESID
    obj = fits & (a >= MIN_COVER)
    r_obj = np.where(obj, r, np.inf).min(axis=1)
    is_obj = obj.any(axis=1)
    return is_obj, r_obj, fits.any(axis=1) & ~is_obj


def _clean(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())[1:]
    keep = np.nonzero(sizes >= max(3, 0.1 * sizes.max()))[0] + 1
    return np.isin(lab, keep)


def _largest(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n <= 1:
        return mask
    return lab == (np.argmax(np.bincount(lab.ravel())[1:]) + 1)


def shadow_like(f: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Darker than the plate with the plate's chromaticity: f, p float [..., 3]."""
    sf, sp = f.sum(-1) + EPS, p.sum(-1) + EPS
    ratio = sf / sp
    chroma = np.abs(f / sf[..., None] - p / sp[..., None]).sum(-1)
    return (ratio > SHADOW_RATIO[0]) & (ratio < SHADOW_RATIO[1]) & (chroma < SHADOW_CHROMA)


def _window(m: ObjectModel) -> tuple[np.ndarray, float]:
    """Predicted centre and search radius of an object in the next frame."""
    return m.centre + m.velocity, 1.5 * m.extent + np.linalg.norm(m.velocity) + 4.0


def segment_frame(f: np.ndarray, p: np.ndarray, models: list[ObjectModel]) -> np.ndarray:
    """Masks bool [N, H, W] of one frame (float RGB f and plate p [H, W, 3]); updates the models.

    Work is done in the bounding box of the objects' windows (the whole frame while one is lost)."""
    H, W, _ = f.shape
    N = len(models)
    out = np.zeros((N, H, W), bool)
    wins = [_window(m) for m in models]
    if any(m.lost for m in models):
        y0, y1, x0, x1 = 0, H, 0, W
    else:
        y0 = max(0, int(min(c[1] - r for c, r in wins)))
        y1 = min(H, int(max(c[1] + r for c, r in wins)) + 2)
        x0 = max(0, int(min(c[0] - r for c, r in wins)))
        x1 = min(W, int(max(c[0] + r for c, r in wins)) + 2)
        if y0 >= y1 or x0 >= x1:
            for m in models:
                m.lost = True
            return out
    fc, pc = f[y0:y1, x0:x1], p[y0:y1, x0:x1]
    h, w = fc.shape[:2]
    d = fc - pc
    dep = np.abs(d).max(-1)
    cand = dep > CAND
    yy, xx = np.mgrid[y0:y1, x0:x1]
    best_r = np.full((h, w), np.inf)  # rule 1: smallest residual so far
    owner1 = np.full((h, w), -1)
    blend_bg = np.zeros((h, w), bool)  # explained only as a mostly-plate blend of some object's colour
    near = np.full((h, w), np.inf)  # rule 2: nearest window centre (in radii)
    owner2 = np.full((h, w), -1)
    for k, (m, (centre, radius)) in enumerate(zip(models, wins)):
        dist = np.hypot(xx - centre[0], yy - centre[1]) / radius
        win = np.ones((h, w), bool) if m.lost else dist <= 1.0
        sel = cand & win
        if not sel.any():
            continue
        ok, r, bg = _explain(d[sel], pc[sel], m.palette)
        blend_bg[sel] |= bg
        if m.lost:  # search by colour only, keep the largest piece
            hit = np.zeros((h, w), bool)
            hit[sel] = ok
            ok = _largest(hit)[sel]
        ys, xs = np.nonzero(sel)
        better = ok & (r < best_r[ys, xs])
        best_r[ys[better], xs[better]] = r[better]
        owner1[ys[better], xs[better]] = k
        if not m.lost:
            closer = win & (dist < near)
            near[closer] = dist[closer]
            owner2[closer] = k
    strong = (dep > STRONG) & (owner1 < 0) & ~blend_bg
    if strong.any():
        strong &= ~shadow_like(fc, pc)
    owner = np.where(owner1 >= 0, owner1, np.where(strong, owner2, -1))
    for k, m in enumerate(models):
        mk = _clean(owner == k)
        area = float(mk.sum())
        if area >= max(3.0, 0.2 * m.area):
            ys, xs = np.nonzero(mk)
            c = np.array([xs.mean() + x0, ys.mean() + y0])
            m.velocity = c - m.centre if not m.lost else np.zeros(2)
            m.centre = c
            m.extent = float(np.sqrt(((xs + x0 - c[0]) ** 2 + (ys + y0 - c[1]) ** 2).max())) + 1.0
            m.area, m.lost = area, False
            out[k, y0:y1, x0:x1] = mk
        else:
            m.lost = True
    return out


def segment_video(frames: np.ndarray, plate: np.ndarray, frame0: np.ndarray, labels0: np.ndarray,
                  n_objects: int) -> np.ndarray:
    """Masks bool [T, N, H, W] of ``frames`` [T, H, W, 3] against ``plate`` [1 or T, H, W, 3], identities
    from the GT first frame ``frame0`` [H, W, 3] and its labels ``labels0`` [H, W] (0 background, k object k)."""
    models = init_models(frame0, labels0, n_objects)
    T, H, W, _ = frames.shape
    out = np.zeros((T, n_objects, H, W), bool)
    for t in range(T):
        pl = plate[t if len(plate) > 1 else 0].astype(np.float32)
        out[t] = segment_frame(frames[t].astype(np.float32), pl, models)
    return out
