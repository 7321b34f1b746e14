"""Physics-IQ's motion-mask metrics (google-deepmind/physics-IQ-benchmark, ``code/binary_mask_generator.py``
and ``code/calculate_and_write_metrics_to_csv.py``), an independent implementation in numpy/scipy.

**Motion masks** (their ``generate_mask``, defaults as published), per video:

1. grey = OpenCV's ``COLOR_BGR2GRAY`` in fixed point: ``(9798 R + 19235 G + 3735 B + 16384) >> 15``;
2. ``GaussianBlur(grey, (5, 5), 0)``: OpenCV's 5-tap kernel for sigma 0 is [1, 4, 6, 4, 1] / 16, borders
   reflected without repeating the edge (``BORDER_REFLECT_101``), result rounded to uint8;
3. the running average starts at the first blurred frame; the first mask is all zeros; for every later
   frame ``avg = 0.7 avg + 0.3 grey`` (``accumulateWeighted``, alpha 0.3), then
   ``|grey - round(avg)| > 10`` (threshold 10 on 0..255);
4. morphological opening then closing with a 5x5 square (``morphologyEx``, pixels outside the image ignored).

**Metrics** between the GT's and the prediction's masks (frames paired as everywhere in ``simgen.eval``):

- ``physiq_spatial_iou``: IoU of the masks collapsed over time (any motion in a pixel), 1 if both are empty;
- ``physiq_spatiotemporal_iou``: IoU per frame (1 when both are empty), mean over frames;
- ``physiq_weighted_spatial_iou``: with ``w = sum_t mask_t / T`` per video,
  ``sum min(w1, w2) / sum max(w1, w2)`` over pixels where either is non-zero (1 if none);
- ``physiq_mse``: per frame mean squared difference of the RGB frames scaled to [0, 1], mean over frames.

Differences from the published pipeline, none in the formulas: Physics-IQ stores its masks as mp4v videos
and resizes frames and masks to a quarter of its 1080p footage before comparing (re-thresholding masks at
127); here the masks are used as computed, at the GT's resolution (256 px by default, about that quarter).
Physics-IQ compares only the frames after its conditioning clip; here every paired frame counts (the first
mask is zero in both videos).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PHYSIQ_METRICS = ("physiq_spatial_iou", "physiq_spatiotemporal_iou", "physiq_weighted_spatial_iou", "physiq_mse")
THRESHOLD = 10
ALPHA = 0.3
KERNEL = 5
_TAPS = np.array([1, 4, 6, 4, 1], np.uint16)


def grey(video: np.ndarray) -> np.ndarray:
    """uint8 RGB [..., 3] -> uint8 grey, OpenCV's BGR2GRAY fixed-point formula."""
    v = video.astype(np.int32)
    return ((9798 * v[..., 0] + 19235 * v[..., 1] + 3735 * v[..., 2] + 16384) >> 15).astype(np.uint8)


def blur5(img: np.ndarray) -> np.ndarray:
    """OpenCV ``GaussianBlur(img, (5, 5), 0)`` of uint8 [..., H, W]: separable [1,4,6,4,1]/16, reflect-101
    borders, rounded half up (exact integer arithmetic)."""
    x = img.astype(np.uint16)  # 255 * 16 * 16 + 128 < 2**16: exact in uint16
    x = ndimage.correlate1d(x, _TAPS, axis=-1, mode="mirror")
    x = ndimage.correlate1d(x, _TAPS, axis=-2, mode="mirror")
    return ((x + 128) >> 8).astype(np.uint8)


def motion_masks(video: np.ndarray, threshold: int = THRESHOLD) -> np.ndarray:
    """Physics-IQ motion masks, bool [T, H, W], of a uint8 RGB video [T, H, W, 3]."""
    g = blur5(grey(video))
    T = len(g)
    out = np.zeros(g.shape, bool)
    if T == 0:
        return out
    avg = g[0].astype(np.float64)
    for t in range(1, T):
        avg = (1.0 - ALPHA) * avg + ALPHA * g[t]
        out[t] = np.abs(g[t].astype(np.int16) - np.rint(avg).astype(np.int16)) > threshold
    # opening then closing with a 5x5 square, every frame at once, inside the box around the thresholded
    # pixels grown by 2 kernels (nothing outside it can change); mode="nearest" == OpenCV's default
    # border, which never erodes or dilates
    ys, xs = np.nonzero(out.any(axis=0))
    if len(ys):
        g = 2 * KERNEL
        y0, y1 = max(ys.min() - g, 0), ys.max() + g + 1
        x0, x1 = max(xs.min() - g, 0), xs.max() + g + 1
        k = (1, KERNEL, KERNEL)
        m = out[:, y0:y1, x0:x1]
        m = ndimage.maximum_filter(ndimage.minimum_filter(m, k, mode="nearest"), k, mode="nearest")
        out[:, y0:y1, x0:x1] = ndimage.minimum_filter(ndimage.maximum_filter(m, k, mode="nearest"), k, mode="nearest")
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def physiq_metrics(gt_video: np.ndarray, pd_video: np.ndarray, gt_masks: np.ndarray | None = None,
                   pd_masks: np.ndarray | None = None) -> dict[str, float]:
    """The four Physics-IQ numbers for paired videos uint8 [T, H, W, 3] (motion masks computed unless given)."""
    if gt_video.shape != pd_video.shape:
        raise ValueError(f"video shapes differ: GT {gt_video.shape}, prediction {pd_video.shape}")
    m1 = motion_masks(gt_video) if gt_masks is None else gt_masks
    m2 = motion_masks(pd_video) if pd_masks is None else pd_masks
    w1, w2 = m1.mean(axis=0), m2.mean(axis=0)
    union_w = np.maximum(w1, w2)
    valid = union_w > 0
    weighted = 1.0 if not valid.any() else float(np.minimum(w1, w2)[valid].sum() / union_w[valid].sum())
    diff = gt_video.astype(np.int16) - pd_video.astype(np.int16)  # exact; squared below in int32
    return {
        "physiq_spatial_iou": _iou(m1.any(axis=0), m2.any(axis=0)),
        "physiq_spatiotemporal_iou": float(np.mean([_iou(a, b) for a, b in zip(m1, m2)])),
        "physiq_weighted_spatial_iou": weighted,
        "physiq_mse": float(np.mean(np.mean(diff.astype(np.int32) ** 2, axis=(1, 2, 3)) / 255.0**2)),
    }
