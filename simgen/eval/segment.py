"""Object masks of a video without a segmentation model: departures from the background plate, with
identities tracked from the GT's first-frame masks.

Inputs: the video (uint8 [T, H, W, 3], already paired with the GT and resized to its size), the
background plate of the sample (:mod:`simgen.eval.plate`, passed through the dataset's H.264 settings),
and the GT's first frame and its instance masks, which give every object a **colour palette** (the mean
colours of its populated RGB bins), a starting **position and size**, and whether its own colours look
like a shadow on the plate (grey on grey). Frame by frame, each object is looked for in a window around
where it should be (last centroid + last per-frame motion; radius 1.5 x its size + its speed + 4 px).
A pixel of the window belongs to object k when

1. it is **explained as object k**: ``pixel - plate = a (c - plate) + r`` for one of k's palette colours
   ``c`` with a small residual (``|r| < 28`` on 0..255) and a coverage ``a`` (refined near the object's
   interior, :func:`_refine`) of at least ``MIN_COVER`` = 0.45 (edge pixels, blended with the floor by
   anti-aliasing and smeared by H.264, count when the object covers about half of them, as in the GT's
   pixel-centre masks), with ``max |pixel - plate| > 12``; or
2. it departs strongly from the plate (``> 30``), is explained by no object (not even as a mostly-plate
   blend) and is **not shadow-like**. This keeps objects whose colour a model changed.

**Shadow-like** pixels are darker than the plate (brightness ratio 0.3 to 0.97) and either have its
chromaticity (normalised r, g, b within 0.03 + 9 / brightness sum, the H.264 noise of dark pixels) or are
what the renderer draws for a cast shadow or contact occlusion there: with the two *shade plates* (the
scene rendered without the key light, and without ambient light; :func:`simgen.eval.plate.render_plate`),
``p - s K - o A`` in linear shading (the tone map inverted), ``K`` and ``A`` the key light's and the
ambient's share of the plate, ``0 <= s, o <= 1``, up to a residual of 10 (0..255). This catches shadows
tinted by a coloured sky (a blue ambient makes a shadow on a red floor purple) on any floor texture.
Shadow-like pixels never belong to an object whose own first-frame colours are not shadow-like; for one
whose are (more than 15 % of its pixels), only as its own colour (coverage >= 0.85, not a blend) and only
inside its first-frame shape moved to where it is now and grown by 2 px + 25 % of its size.

A pixel claimed by two objects goes to the smaller residual (rule 1) or the nearer window centre (rule 2).
Specks (connected pieces under 3 pixels or 10 % of the largest piece) are removed and holes enclosed by
an object's mask filled (a shaded facet inside a silhouette that looked like a shadow). An object found with
under 20 % of its last area is *lost* (empty mask) and is looked for in the whole frame by colour (rule 1,
largest piece) from the next frame on.

Limits (measured in ``benchmarks/bench_eval.py``): object pixels that look like the floor (a white box on a
white tile) are missed; so are an object's shaded sides that look like the floor in shadow (a beige or
grey object on a beige or grey floor, a black object's dark side: per pixel, a deep shadow and a dark
facet are the same colour); cast shadows of grey objects on grey floors leak into their masks; an object the
model recolours is found only by rule 2 and only near its expected place; small objects (under ~100 px)
lose IoU at their edges; a moving camera needs the prediction to follow the GT camera (the plate is then
rendered for every frame); objects that vanish or merge keep their last identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

CAND = 12.0  # |pixel - plate| (max over channels) below which nothing is an object pixel
STRONG = 30.0  # rule 2 departure
MIN_COVER = 0.45  # refined coverage (see _refine)
RESID = 28.0  # rule 1 residual (0..255 units, Euclidean over RGB)
SHADOW_CHROMA = 0.03
SHADOW_NOISE = 9.0  # chromaticity noise x brightness sum (H.264, about 3 levels per channel)
SHADOW_RATIO = (0.3, 0.97)  # brightness of a shadow / of the plate
SHADE_MIN = 12.0  # key or ambient share (0..255) below which the shade plates tell nothing about a pixel
SHADE_MAX = 1.0  # the largest share of the key light (ambient) a shadow (occlusion) removes
SHADE_RESID = 10.0  # 0..255, Euclidean, linear shading: off the plane of shadows
OWN_COLOUR = 0.85  # coverage from which a shadow-like pixel is taken as the object's own (dark) colour
SHADOW_COLOURED = 0.15  # fraction of an object's first-frame pixels that look like shadow
LOCAL_CONTRAST = 40.0  # |interior colour - plate| needed to trust a local coverage estimate
GROWTH = 0.15  # per frame, as a fraction of its size, an object may grow beyond its moved last mask


@dataclass
class ObjectModel:
    palette: np.ndarray  # float32 [K, 3]
    centre: np.ndarray  # (x, y)
    extent: float  # pixels from centroid to the farthest mask pixel
    area: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lost: bool = False
    shadow_coloured: bool = False  # many of its first-frame pixels look like a shadow on the plate
    mask: np.ndarray | None = None  # last mask found (full frame)
    shape0: tuple = ((), ())  # first-frame mask pixels (rows, cols) relative to its centroid


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


def init_models(frame0: np.ndarray, labels0: np.ndarray, n: int, plate0: np.ndarray | None = None,
                shade0: tuple | None = None) -> list[ObjectModel]:
    H, W = labels0.shape
    f0 = frame0.astype(np.float32)
    p0 = plate0.astype(np.float32) if plate0 is not None else None
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
            shade = False
            if p0 is not None:
                dark = shadow_like(f0[m], p0[m], None if shade0 is None else tuple(x[m].astype(np.float32) for x in shade0)) & (np.abs(f0[m] - p0[m]).max(-1) > CAND)
                shade = bool(dark.mean() > SHADOW_COLOURED)
            models.append(ObjectModel(pal, c, ext, float(m.sum()), shadow_coloured=shade, mask=m,
                                      shape0=(ys - int(round(c[1])), xs - int(round(c[0])))))
        else:
            models.append(ObjectModel(pal, np.array([W / 2.0, H / 2.0]), 0.5 * max(H, W), 0.0, lost=True))
    return models


def _explain(d: np.ndarray, p: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``d = a (c - p) + r`` for every palette colour c (d = pixel - plate, p = plate, [M, 3]).

    Returns (coverage, residual) [M]: the largest coverage a among the colours that fit (``|r| < RESID``;
    0 when none does) and the smallest residual among them (inf when none)."""
    M = len(d)
    if len(palette) == 0:
        return np.zeros(M), np.full(M, np.inf)
    e = palette[None, :, :] - p[:, None, :]  # [M, K, 3]
    ee = np.maximum((e * e).sum(-1), 1.0)
    a = np.clip((d[:, None, :] * e).sum(-1) / ee, 0.0, 1.0)
    r = np.linalg.norm(d[:, None, :] - a[..., None] * e, axis=-1)
    fits = r < RESID
    return np.where(fits, a, 0.0).max(axis=1), np.where(fits, r, np.inf).min(axis=1)


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


def _linear(c: np.ndarray) -> np.ndarray:
    """Display values 0..255 back to the renderer's linear shading (the inverse of its tone map: identity
    up to 0.8, then ``0.8 + 0.2 (1 - exp(-(x - 0.8) / 0.2))``), x 255."""
    y = np.minimum(c / 255.0, 0.999)
    return 255.0 * np.where(y <= 0.8, y, 0.8 - 0.2 * np.log1p(-(y - 0.8) / 0.2))


def shadow_like(f: np.ndarray, p: np.ndarray, shade: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Whether pixels f look like the background p darkened by a cast shadow or contact occlusion; f, p
    float [..., 3] (0..255).

    With ``shade`` = (the plate without the key light, the plate without ambient light): in the
    renderer's linear shading a shadow removes a share ``s`` of the key light's contribution ``K = p -
    key_off`` and contact occlusion a share ``o`` of the ambient's ``A = p - ambient_off``: a shadow pixel
    is ``p - s K - o A`` with ``0 < s, o <= SHADE_MAX`` up to ``SHADE_RESID`` (whatever the floor's
    texture and the tints of the lights: a blue sky makes shadows on a red floor purple). Otherwise (and
    also) darker than the plate with its chromaticity; the chromaticity tolerance grows for dark pixels,
    whose normalised colour is mostly compression noise."""
    sf, sp = f.sum(-1) + 3.0, p.sum(-1) + 3.0
    ratio = sf / sp
    chroma = np.abs((f + 1.0) / sf[..., None] - (p + 1.0) / sp[..., None]).sum(-1)
    tol = SHADOW_CHROMA + SHADOW_NOISE / sf
    ok = chroma < tol
    if shade is not None:
        lp = _linear(p)
        d = lp - _linear(f)  # = s K + o A for a shadow
        K, A = lp - _linear(shade[0]), lp - _linear(shade[1])
        kk, aa, ka = (K * K).sum(-1), (A * A).sum(-1), (K * A).sum(-1)
        dk, da = (d * K).sum(-1), (d * A).sum(-1)
        det = kk * aa - ka * ka
        good = det > 1.0
        det = np.where(good, det, 1.0)
        s_ = np.where(good, (dk * aa - da * ka) / det, dk / np.maximum(kk, 1.0))
        o_ = np.where(good, (da * kk - dk * ka) / det, 0.0)
        # shares outside [0, SHADE_MAX] clipped, then the residual of the clipped fit
        s_, o_ = np.clip(s_, 0.0, SHADE_MAX), np.clip(o_, 0.0, SHADE_MAX)
        off = np.linalg.norm(d - s_[..., None] * K - o_[..., None] * A, axis=-1)
        ok |= ((kk >= SHADE_MIN**2) | (aa >= SHADE_MIN**2)) & (off < SHADE_RESID)
    return (ratio > SHADOW_RATIO[0]) & (ratio < SHADOW_RATIO[1]) & ok


def _refine(cover: np.ndarray, d: np.ndarray, f: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Edge coverage: the mean of (1) the palette coverage averaged over 3x3 and (2) the coverage of the
    pixel as a blend of the plate and the colour of the nearest interior pixel (3x3 coverage >= 0.95),
    within 3 px of the interior and contrasting with the plate by >= LOCAL_CONTRAST. H.264 smears edges
    and the palette's shades only approximate the object's local colour; the two estimates err
    differently."""
    smooth = ndimage.uniform_filter(cover, 3, mode="nearest")
    core = smooth >= 0.95
    if not core.any():
        return smooth
    dist, (iy, ix) = ndimage.distance_transform_edt(~core, return_indices=True)
    e = f[iy, ix] - p
    ee = (e * e).sum(-1)
    local = np.clip((d * e).sum(-1) / np.maximum(ee, 1.0), 0.0, 1.0)
    return np.where((dist <= 3.0) & (ee >= LOCAL_CONTRAST**2), 0.5 * (smooth + local), smooth)


def _grown_in_box(ys: np.ndarray, xs: np.ndarray, box: tuple[int, int, int, int], grow: int) -> np.ndarray:
    """Pixels (ys, xs) (full-frame coordinates) grown by ``grow`` pixels, seen in ``box`` (y0, y1, x0, x1)."""
    y0, y1, x0, x1 = box
    g = max(grow, 0)
    grid = np.zeros((y1 - y0 + 2 * g, x1 - x0 + 2 * g), bool)
    yy, xx = ys - y0 + g, xs - x0 + g
    ok = (yy >= 0) & (yy < grid.shape[0]) & (xx >= 0) & (xx < grid.shape[1])
    grid[yy[ok], xx[ok]] = True
    if g:
        grid = ndimage.binary_dilation(grid, iterations=g)
    return grid[g : g + y1 - y0, g : g + x1 - x0]


def _first_shape(m: ObjectModel, box: tuple[int, int, int, int], centre: np.ndarray) -> np.ndarray:
    """The object's first-frame mask moved to ``centre``, grown by 2 px + 25 % of its size, in ``box``."""
    ys, xs = m.shape0
    return _grown_in_box(ys + int(round(centre[1])), xs + int(round(centre[0])), box, 2 + int(round(0.25 * m.extent)))


def _expected(m: ObjectModel, box: tuple[int, int, int, int], grow: int) -> np.ndarray:
    """The last mask moved by the last per-frame motion (whole pixels) and grown by ``grow`` pixels,
    seen in ``box``."""
    ys, xs = np.nonzero(m.mask)
    dx, dy = (int(round(v)) for v in m.velocity)
    return _grown_in_box(ys + dy, xs + dx, box, grow)


def _window(m: ObjectModel) -> tuple[np.ndarray, float]:
    """Predicted centre and search radius of an object in the next frame."""
    return m.centre + m.velocity, 1.5 * m.extent + np.linalg.norm(m.velocity) + 4.0


def segment_frame(f: np.ndarray, p: np.ndarray, models: list[ObjectModel],
                  shade: tuple | None = None) -> np.ndarray:
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
    shadow = cand & shadow_like(fc, pc, None if shade is None else tuple(x[y0:y1, x0:x1] for x in shade))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    best = np.full((h, w), np.inf)  # rule 1: lowest cost so far
    owner1 = np.full((h, w), -1)
    blend_bg = np.zeros((h, w), bool)  # explained only as a mostly-plate blend of some object's colour
    near = np.full((h, w), np.inf)  # rule 2: nearest window centre (in radii)
    owner2 = np.full((h, w), -1)
    for k, (m, (centre, radius)) in enumerate(zip(models, wins)):
        # the object's own box inside the crop (the whole crop while it is lost)
        if m.lost:
            by0, by1, bx0, bx1 = 0, h, 0, w
        else:
            by0, by1 = max(0, int(centre[1] - radius) - y0), min(h, int(centre[1] + radius) + 2 - y0)
            bx0, bx1 = max(0, int(centre[0] - radius) - x0), min(w, int(centre[0] + radius) + 2 - x0)
            if by0 >= by1 or bx0 >= bx1:
                continue
        b = (slice(by0, by1), slice(bx0, bx1))
        box = (y0 + by0, y0 + by1, x0 + bx0, x0 + bx1)  # full-frame coordinates
        bh, bw = by1 - by0, bx1 - bx0
        dist = np.hypot(xx[b] - centre[0], yy[b] - centre[1]) / radius
        win = np.ones((bh, bw), bool) if m.lost else dist <= 1.0
        sel = cand[b] & win
        if not sel.any():
            continue
        db, pb, fb = d[b], pc[b], fc[b]
        a_sel, r_sel = _explain(db[sel], pb[sel], m.palette)
        # a shadow-like pixel is never part of an object whose own colours are not shadow-like; for one
        # whose are (grey on grey), it counts only as the object's own colour (not a blend with the
        # plate) and only near where its first-frame shape would now be
        sh = shadow[b][sel]
        if m.shadow_coloured and m.mask is not None:
            drop = sh & ((a_sel < OWN_COLOUR) | ~_first_shape(m, box, centre)[sel])
        else:
            drop = sh
        a_sel[drop] = 0.0
        excluded = np.zeros((bh, bw), bool)
        excluded[sel] = drop
        cover = np.zeros((bh, bw))
        cover[sel] = a_sel
        cover = _refine(cover, db, fb, pb)
        r = np.full((bh, bw), np.inf)
        r[sel] = r_sel
        fit = np.isfinite(r)
        hit = sel & (cover >= MIN_COVER) & ~excluded
        blend_bg[b] |= sel & fit & (cover < MIN_COVER)
        if m.lost:  # search by colour only, keep the largest piece
            hit = _largest(hit)
        ys, xs = np.nonzero(hit)
        # cost: residual (a pixel taken for its neighbours ranks as a just-fitting one), plus 1 where a
        # tracked object would have to grow beyond its moved last mask (so a lost or occluded neighbour of
        # similar colour gets its pixels back)
        cost = np.minimum(r[ys, xs], RESID) / RESID
        if not m.lost and m.mask is not None:
            cost += ~_expected(m, box, 2 + int(round(GROWTH * m.extent)))[ys, xs]
        ys, xs = ys + by0, xs + bx0
        better = cost < best[ys, xs]
        best[ys[better], xs[better]] = cost[better]
        owner1[ys[better], xs[better]] = k
        if not m.lost:
            closer = win & (dist < near[b])
            near[b][closer] = dist[closer]
            owner2[b][closer] = k
    strong = (dep > STRONG) & (owner1 < 0) & ~blend_bg & ~shadow
    owner = np.where(owner1 >= 0, owner1, np.where(strong, owner2, -1))
    for k, m in enumerate(models):
        ys, xs = np.nonzero(owner == k)
        area = 0.0
        if len(ys):
            b = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
            mk = ndimage.binary_fill_holes(_clean(owner[b] == k)) & ((owner[b] == k) | (owner[b] < 0))
            ys, xs = np.nonzero(mk)
            ys, xs = ys + b[0].start + y0, xs + b[1].start + x0  # full frame
            area = float(len(ys))
        if area >= max(3.0, 0.2 * m.area):
            c = np.array([xs.mean(), ys.mean()])
            m.velocity = c - m.centre if not m.lost else np.zeros(2)
            m.centre = c
            m.extent = float(np.sqrt(((xs - c[0]) ** 2 + (ys - c[1]) ** 2).max())) + 1.0
            m.area, m.lost = area, False
            out[k, ys, xs] = True
            m.mask = out[k]
        else:
            m.lost = True
    return out


def segment_video(frames: np.ndarray, plate: np.ndarray, frame0: np.ndarray, labels0: np.ndarray,
                  n_objects: int, shade: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Masks bool [T, N, H, W] of ``frames`` [T, H, W, 3] against ``plate`` [1 or T, H, W, 3], identities
    from the GT first frame ``frame0`` [H, W, 3] and its labels ``labels0`` [H, W] (0 background, k object k)."""
    models = init_models(frame0, labels0, n_objects, plate[0], None if shade is None else (shade[0][0], shade[1][0]))
    T, H, W, _ = frames.shape
    out = np.zeros((T, n_objects, H, W), bool)
    for t in range(T):
        pl = plate[t if len(plate) > 1 else 0].astype(np.float32)
        sh = None if shade is None else tuple(x[t if len(x) > 1 else 0].astype(np.float32) for x in shade)
        out[t] = segment_frame(frames[t].astype(np.float32), pl, models, sh)
    return out
