"""PISA's mask metrics (vision-x-nyu/pisa-experiments: ``utils/metrics.py``, ``eval.py``), per object.

Reproduced from the published code (this is an independent implementation; ``tests/test_eval_metrics.py``
checks it against a literal transcription of PISA's lines):

- frames are paired as in PISA's ``eval.py``: predicted frame ``i`` with GT frame ``int(i * gt_fps / pd_fps)``
  (see :mod:`simgen.eval.predictions`);
- **centroid** of a mask: (mean column, mean row) of its pixels; NaN in a frame where it is empty;
- ``pisa_l2``: ``nanmean(sqrt((c_gt - c_pd)**2)) / sqrt(2) / H`` over frames and both coordinates, ``H`` the
  image height. As published, the square root is taken element-wise, so this is the mean *absolute
  coordinate* difference, not the Euclidean distance: a shift of k pixels along x gives ``(k / 2) / sqrt(2) / H``.
  Frames where either centroid is NaN drop out of the mean;
- ``pisa_chamfer``: per frame, mean nearest-neighbour distance (pixels, between (row, col) points) from the
  GT pixels to the predicted ones plus from the predicted to the GT ones, times ``1 / sqrt(2) / H``; a frame
  where either mask is empty is NaN (PISA's code gives NaN there) and is skipped by the mean over frames;
- ``pisa_iou``: per frame ``|A and B| / |A or B|``, 1 when both masks are empty; mean over frames.

PISA scores one object per video (the dropping one, the last object index of its simulated videos).
Here every object is scored, then the values are averaged over objects (NaN objects skipped), so for a
one-object scene the three numbers are PISA's.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage

from simgen.eval.tracks import mask_centroids

PISA_METRICS = ("pisa_l2", "pisa_chamfer", "pisa_iou")
SCALE = 1.0 / np.sqrt(2.0)


def _nanmean(a) -> float:
    a = np.asarray(a, np.float64)
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


def scaled_l2(c_gt: np.ndarray, c_pd: np.ndarray, height: int) -> float:
    """PISA's centroid "L2" for one object: tracks [T, 2] -> float."""
    return _nanmean(np.abs(np.asarray(c_gt, np.float64) - np.asarray(c_pd, np.float64))) * SCALE / height


def chamfer(gt: np.ndarray, pd: np.ndarray, height: int) -> float:
    """PISA's Chamfer distance for one object: bool masks [T, H, W] -> float."""
    per_frame = []
    for g, p in zip(gt, pd):
        if not g.any() or not p.any():
            per_frame.append(np.nan)
            continue
        # nearest-neighbour distances from exact Euclidean distance transforms, in the box holding both
        # masks (every nearest pixel lies inside it)
        ys, xs = np.nonzero(g | p)
        box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        g, p = g[box], p[box]
        d_pg = ndimage.distance_transform_edt(~g)[p].mean()  # predicted pixels -> nearest GT pixel
        d_gp = ndimage.distance_transform_edt(~p)[g].mean()
        per_frame.append((d_pg + d_gp) * SCALE / height)
    return _nanmean(per_frame)


def iou_per_frame(gt: np.ndarray, pd: np.ndarray) -> np.ndarray:
    """IoU [T] of bool masks [T, H, W]: 1 where both are empty."""
    inter = np.logical_and(gt, pd).sum(axis=(-2, -1))
    union = np.logical_or(gt, pd).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union == 0, 1.0, inter / np.maximum(union, 1))


def pisa_metrics(gt: np.ndarray, pd: np.ndarray) -> dict[str, np.ndarray]:
    """Per-object PISA metrics of bool masks [T, N, H, W] (paired frames): arrays [N] per metric."""
    gt, pd = np.asarray(gt, bool), np.asarray(pd, bool)
    if gt.shape != pd.shape:
        raise ValueError(f"mask shapes differ: GT {gt.shape}, prediction {pd.shape}")
    T, N, H, W = gt.shape
    c_gt, c_pd = mask_centroids(gt), mask_centroids(pd)
    out = {k: np.full(N, np.nan) for k in PISA_METRICS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in range(N):
            out["pisa_l2"][k] = scaled_l2(c_gt[:, k], c_pd[:, k], H)
            out["pisa_chamfer"][k] = chamfer(gt[:, k], pd[:, k], H)
            out["pisa_iou"][k] = float(np.mean(iou_per_frame(gt[:, k], pd[:, k]))) if T else np.nan
    return out
