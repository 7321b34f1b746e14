"""2-D tracks from masks and their errors (NewtonBench-style trajectory, velocity, acceleration).

A track is the centroid of an object's mask in every frame: ``(x, y)`` = (mean column, mean row) of
its pixels, in pixels (x right, y down, pixel centres at integer coordinates, the convention of the
``intrinsics`` column); NaN in frames where the mask is empty.

Errors between a GT track and a predicted track, per object, over the frames where both exist:

- ``centroid_rmse_px``: sqrt(mean |c_gt - c_pd|^2);
- ``velocity_rmse_px_s``: the same for forward differences ``(c[i+1] - c[i]) / (t[i+1] - t[i])``;
- ``acceleration_rmse_px_s2``: the same for second differences (the three-point formula, exact for
  uneven frame times).

A difference needs both of its frames; a frame missing in either track drops the terms that use it.
"""

from __future__ import annotations

import numpy as np

TRACK_METRICS = ("centroid_rmse_px", "velocity_rmse_px_s", "acceleration_rmse_px_s2")


def mask_centroids(masks: np.ndarray) -> np.ndarray:
    """Centroids [T, N, 2] (x, y) of bool masks [T, N, H, W]; NaN where a mask is empty."""
    m = np.asarray(masks, bool)
    H, W = m.shape[-2:]
    count = m.sum(axis=(-2, -1)).astype(np.float64)
    xs = m.sum(axis=-2) @ np.arange(W, dtype=np.float64)  # [.., W] column counts . column index
    ys = m.sum(axis=-1) @ np.arange(H, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.stack([xs / count, ys / count], axis=-1)
    c[count == 0] = np.nan
    return c


def velocities(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Forward differences [T-1, ..., 2] of a track [T, ..., 2] at times t [T]."""
    dt = np.diff(np.asarray(t, np.float64)).reshape((-1,) + (1,) * (c.ndim - 1))
    return np.diff(c, axis=0) / dt


def accelerations(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Second differences [T-2, ..., 2]: 2 (v[i] - v[i-1]) / (t[i+1] - t[i-1])."""
    t = np.asarray(t, np.float64)
    v = velocities(c, t)
    span = (t[2:] - t[:-2]).reshape((-1,) + (1,) * (c.ndim - 1))
    return 2.0 * np.diff(v, axis=0) / span


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    """sqrt(mean |a - b|^2) over the rows where both are finite; NaN if none."""
    d = np.linalg.norm(a - b, axis=-1)
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d**2))) if d.size else float("nan")


def track_errors(c_gt: np.ndarray, c_pd: np.ndarray, t_gt: np.ndarray, t_pd: np.ndarray) -> dict[str, np.ndarray]:
    """Per-object errors between tracks [T, N, 2]; each value is an array [N]. Each track's derivatives
    use its own frame times (GT: its frame indices / GT fps; prediction: i / prediction fps)."""
    N = c_gt.shape[1]
    out = {k: np.full(N, np.nan) for k in TRACK_METRICS}
    if len(c_gt) >= 1:
        out["centroid_rmse_px"] = np.array([_rmse(c_gt[:, k], c_pd[:, k]) for k in range(N)])
    if len(c_gt) >= 2:
        vg, vp = velocities(c_gt, t_gt), velocities(c_pd, t_pd)
        out["velocity_rmse_px_s"] = np.array([_rmse(vg[:, k], vp[:, k]) for k in range(N)])
    if len(c_gt) >= 3:
        ag, ap = accelerations(c_gt, t_gt), accelerations(c_pd, t_pd)
        out["acceleration_rmse_px_s2"] = np.array([_rmse(ag[:, k], ap[:, k]) for k in range(N)])
    return out
