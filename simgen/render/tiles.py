"""Screen rectangles ("tiles") where a frame differs from its background.

With a background that is drawn once per video, a frame needs new pixels only where an object is,
and (with shadows) where its shadow or ambient occlusion falls on the static geometry. The
multisampled passes (fill, objects, resolve) run only inside these rectangles; the rest of every
frame is a copy of the background. Rectangles are conservative: the projected corners of each
object's bounding box (and, for shadows, of the box swept along the light down to the lowest
receiver), padded, merged where they overlap, and aligned to even pixels (2x2 chroma blocks).
"""

from __future__ import annotations

import numpy as np

from simgen.render.camera import project

PAD = 2  # pixels around each projected box
# around an object's projected vertices: every pixel it changes lies within one pixel of its box
# (its MSAA samples, 0.375 px from the pixel centres, fall inside [floor(min), ceil(max)]; the
# anti-aliasing resolve changes the pixels next to another id, one pixel further)
OBJECT_PAD = 1
AO_REACH = 1.6  # contact occlusion reaches this many occluder radii (shaders/common.glsl caster_ao)


def _cube(centers: np.ndarray, half: np.ndarray) -> np.ndarray:
    """The 8 corners [..., 8, 3] of axis-aligned cubes of half-size ``half`` [...] around ``centers``."""
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
    return centers[..., None, :] + np.asarray(half)[..., None, None] * signs


def box_corners(bounds: np.ndarray, models: np.ndarray) -> np.ndarray:
    """World corners [T, N, 8, 3] of each object's body-frame bounds [N, 2, 3] posed by models [T, N, 4, 4]."""
    lo, hi = bounds[:, 0], bounds[:, 1]
    sel = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)])
    local = np.where(sel[None] == 1, hi[:, None, :], lo[:, None, :])  # [N, 8, 3]
    return local[None] @ np.swapaxes(models[..., :3, :3], -1, -2) + models[:, :, None, :3, 3]


MAX_POINTS = 1024  # objects with more vertices are bounded by their box's corners


def object_points(meshes, models: np.ndarray) -> np.ndarray:
    """World points [T, N, K, 3] whose projections bound each object's pixels: its mesh's vertices
    (the tightest box: a third less area than the corners of its bounding box over the default
    scenes), or the corners of its bounding box for meshes of more than MAX_POINTS vertices; NaN pads."""
    local = [m.positions if len(m.positions) <= MAX_POINTS else box_corners(m.bounds[None], np.eye(4)[None, None])[0, 0]
             for m in meshes]
    K = max(len(p) for p in local)
    pts = np.full((len(meshes), K, 3), np.nan)
    for k, p in enumerate(local):
        pts[k, :len(p)] = p
    return pts[None] @ np.swapaxes(models[..., :3, :3], -1, -2) + models[:, :, None, :3, 3]


def screen_rects(points: np.ndarray, w2c: np.ndarray, cam, near: float, pad: int = PAD) -> np.ndarray:
    """Pixel boxes [T, M, 4] (u0, v0, u1, v1 inclusive, OpenCV) of point sets [T, M, K, 3] (NaN points
    are ignored); the whole image where a point is not in front of the camera; u0 > u1 where the set
    is empty or wholly outside."""
    W, H = cam.width, cam.height
    uv, z = project(points, w2c, cam)
    behind = (z <= near).any(axis=-1)
    none = np.isnan(z).all(axis=-1)
    with np.errstate(invalid="ignore"):
        # u and v each along the last axis ([..., 2, K]: reductions over it are ~7x faster than over
        # the points' axis); fmin/fmax skip NaN as nanmin/nanmax do; an empty set's box is around 0
        uv = np.where(np.isnan(z)[..., None, :], np.nan, np.ascontiguousarray(np.moveaxis(uv, -1, -2)))
        lo = np.floor(np.where(none[..., None], 0.0, np.fmin.reduce(uv, axis=-1))) - pad
        hi = np.ceil(np.where(none[..., None], 0.0, np.fmax.reduce(uv, axis=-1))) + pad
    rect = np.concatenate([lo, hi], axis=-1)
    rect[behind] = (0, 0, W - 1, H - 1)
    empty = (rect[..., 0] > W - 1) | (rect[..., 2] < 0) | (rect[..., 1] > H - 1) | (rect[..., 3] < 0) | none
    rect[..., 0::2] = np.clip(rect[..., 0::2], 0, W - 1)
    rect[..., 1::2] = np.clip(rect[..., 1::2], 0, H - 1)
    rect[empty] = (1, 1, 0, 0)
    return rect.astype(np.int64)


def shadow_points(centers: np.ndarray, radius: np.ndarray, occluder: np.ndarray, travel: np.ndarray,
                  receivers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Points [T, N, K, 3] whose projected box holds where an object's shadow and ambient occlusion
    can fall on the static receivers, each given as a world box (lo [3], hi [3]).

    The shadow: the bounding sphere moved along the light direction ``travel`` meets a receiver box
    (grown by the radius) between two distances; the cubes at both ends bound the shadow on it. The
    occlusion: the cube of the occlusion's reach around the centre, where it reaches a receiver."""
    L = np.asarray(travel, np.float64)
    L = L / np.linalg.norm(L)
    r = np.broadcast_to(np.asarray(radius, np.float64), centers.shape[:-1])
    ao = np.broadcast_to(np.asarray(occluder, np.float64), centers.shape[:-1]) * AO_REACH
    pts = []
    for lo, hi in receivers:
        # slab intersection of the ray c + s L (s >= 0) with the box grown by r
        s0 = np.zeros(centers.shape[:-1])
        s1 = np.full(centers.shape[:-1], 50.0)
        for a in range(3):
            lo_a, hi_a = lo[a] - r, hi[a] + r
            c = centers[..., a]
            if abs(L[a]) < 1e-9:
                outside = (c < lo_a) | (c > hi_a)
                s1 = np.where(outside, -1.0, s1)
                continue
            ta, tb = (lo_a - c) / L[a], (hi_a - c) / L[a]
            s0 = np.maximum(s0, np.minimum(ta, tb))
            s1 = np.minimum(s1, np.maximum(ta, tb))
        half = np.where(s1 >= s0, r, np.nan)  # NaN: no shadow on this receiver
        for s_end in (s0, s1):
            pts.append(np.clip(_cube(centers + s_end[..., None] * L, half), lo, hi))  # on the receiver only
        # occlusion reach, where it meets the receiver
        gap = np.maximum(0.0, np.maximum(lo - centers, centers - hi)).max(axis=-1)
        pts.append(np.clip(_cube(centers, np.where(gap < ao, ao, np.nan)), lo, hi))
    if not pts:
        return np.full(centers.shape[:-1] + (1, 3), np.nan)
    return np.concatenate(pts, axis=-2)


def to_gl(rects: np.ndarray, W: int, H: int) -> np.ndarray:
    """Inclusive OpenCV pixel boxes [..., 4] (u0, v0, u1, v1) as even-aligned OpenGL window boxes
    [..., 4] = [x0, y0, x1, y1) (y up, 2x2 chroma blocks whole); empty boxes get x0 >= x1."""
    r = np.asarray(rects, np.int64)
    u0, v0, u1, v1 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
    out = np.stack([(u0 // 2) * 2, ((H - 1 - v1) // 2) * 2, np.minimum(W, ((u1 + 2) // 2) * 2),
                    np.minimum(H, ((H - v0 + 1) // 2) * 2)], axis=-1)
    out[(u0 > u1) | (v0 > v1)] = (0, 0, 0, 0)
    return out


def rows(boxes: np.ndarray, frames: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """int32 tile rows (x0, y0, x1, y1, layer=0, frame, tag, 0) of the non-empty OpenGL boxes [M, 4]."""
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    out = np.zeros((int(keep.sum()), 8), np.int32)
    out[:, :4], out[:, 5], out[:, 6] = boxes[keep], frames[keep], tags[keep]
    return out


def merge_overlapping(tiles: np.ndarray) -> np.ndarray:
    """Tile rows of the same frame whose boxes overlap, merged into their bounding box (repeatedly,
    the first such pair of a frame first), where that box has fewer pixels than the two apart; tags
    are dropped (0). Every frame at once: boxes padded to [frames, K]."""
    if len(tiles) == 0:
        return np.zeros((0, 8), np.int32)
    tiles = tiles[np.argsort(tiles[:, 5], kind="stable")]
    frames, start, count = np.unique(tiles[:, 5], return_index=True, return_counts=True)
    F, K = len(frames), int(count.max())
    row = np.repeat(np.arange(F), count)
    slot = np.arange(len(tiles)) - np.repeat(start, count)
    box = np.zeros((F, K, 4), np.int64)
    box[row, slot] = tiles[:, :4]
    valid = np.zeros((F, K), bool)
    valid[row, slot] = True
    later = np.triu(np.ones((K, K), bool), 1)[None]  # pairs i < j
    while True:
        a, b = box[:, :, None], box[:, None, :]
        union = (np.maximum(a[..., 2], b[..., 2]) - np.minimum(a[..., 0], b[..., 0])) * \
                (np.maximum(a[..., 3], b[..., 3]) - np.minimum(a[..., 1], b[..., 1]))
        area = (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1])
        worth = (union <= area[:, :, None] + area[:, None, :]) & valid[:, :, None] & valid[:, None, :] & later
        busy = np.flatnonzero(worth.any(axis=(1, 2)))
        if len(busy) == 0:
            break
        first = np.argmax(worth[busy].reshape(len(busy), -1), axis=1)  # the lowest i, then the lowest j
        i, j = first // K, first % K
        bi, bj = box[busy, i], box[busy, j]
        box[busy, i] = np.concatenate([np.minimum(bi[:, :2], bj[:, :2]), np.maximum(bi[:, 2:], bj[:, 2:])], axis=1)
        valid[busy, j] = False
    f, k = np.nonzero(valid)  # frame by frame, in order
    out = np.zeros((len(f), 8), np.int32)
    out[:, :4], out[:, 5] = box[f, k], frames[f]
    return out


def frame_tiles(obj_rects: np.ndarray, shadow_rects: np.ndarray | None, receives: np.ndarray | None,
                convex: np.ndarray, W: int, H: int, max_casters: int = 32) -> dict[str, np.ndarray]:
    """Every frame's tiles from the objects' pixel boxes [T, N, 4] and their shadows' on the statics
    (inclusive, OpenCV; None without shadows):

    * ``obj``: each object's box, tagged with the object (rows sorted by object, then frame);
    * ``objm``: the objects' boxes, overlapping ones merged;
    * ``all``: where a frame differs from the background: the objects' boxes and their shadows',
      overlapping ones merged;
    * ``cast``: for each caster j (tag), where its shadow and occlusion can fall: its shadow's box,
      the boxes of the objects it may reach (``receives`` [T, N], bit j of (t, k)), and its own box
      if it is not convex (it may shadow itself);
    * ``cast_obj``: the rows of ``cast`` on objects (all but the shadows' boxes).

    Tiles may overlap: every pass computes the same values where they do (the shadow mask blends
    casters by minimum)."""
    T, N = obj_rects.shape[:2]
    go = to_gl(obj_rects, W, H)  # [T, N, 4]
    t_idx = np.broadcast_to(np.arange(T)[:, None], (T, N))
    k_idx = np.broadcast_to(np.arange(N)[None, :], (T, N))
    order = lambda a: a.transpose(1, 0, *range(2, a.ndim)).reshape(-1, *a.shape[2:])
    out = {"obj": rows(order(go), order(t_idx), order(k_idx))}
    out["objm"] = merge_overlapping(out["obj"])
    if shadow_rects is None:
        out["all"], out["cast"] = out["objm"], np.zeros((0, 8), np.int32)
        out["cast_obj"] = out["cast"]
        return out
    gs = to_gl(shadow_rects, W, H)
    out["all"] = merge_overlapping(np.concatenate([out["obj"], rows(gs.reshape(-1, 4), t_idx.ravel(), k_idx.ravel())]))
    M = min(N, max_casters)
    boxes = [gs[:, :M].reshape(-1, 4)]  # shadows on the statics
    frames, tags = [t_idx[:, :M].ravel()], [k_idx[:, :M].ravel()]
    own = ~np.asarray(convex[:M], bool)
    if own.any():
        boxes.append(go[:, :M][:, own].reshape(-1, 4))
        frames.append(t_idx[:, :M][:, own].ravel())
        tags.append(k_idx[:, :M][:, own].ravel())
    if N > 1:
        j = np.arange(M)
        reach = ((receives[:, None, :] >> j[None, :, None].astype(np.uint32)) & 1).astype(bool)  # [T, j, k]
        reach[:, j, j] = False
        t, jj, kk = np.nonzero(reach)
        boxes.append(go[t, kk])
        frames.append(t)
        tags.append(jj)
    out["cast"] = rows(np.concatenate(boxes), np.concatenate(frames), np.concatenate(tags))
    out["cast_obj"] = (rows(np.concatenate(boxes[1:]), np.concatenate(frames[1:]), np.concatenate(tags[1:]))
                       if len(boxes) > 1 else np.zeros((0, 8), np.int32))
    return out
