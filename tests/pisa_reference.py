"""PISA's published metric code (vision-x-nyu/pisa-experiments, ``utils/metrics.py`` and the centroid and
metric calls of ``eval.py``), transcribed as the reference the simgen.eval tests compare against: the lines
are PISA's, only the function names carry a ``reference_`` prefix and comments were dropped."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial import cKDTree


def reference_binary_mask_IOU(mask1, mask2):
    f, n = mask1.shape[:2]
    iou_list = []
    for i in range(f):
        for j in range(n):
            mask1_area = np.count_nonzero(mask1[i] == 1)
            mask2_area = np.count_nonzero(mask2[i] == 1)
            intersection = np.count_nonzero(np.logical_and(mask1[i] == 1, mask2[i] == 1))
            if mask1_area == mask2_area == intersection:
                iou_list.append(1)
            else:
                iou = intersection / (mask1_area + mask2_area - intersection)
                iou_list.append(iou)
    return np.nanmean(iou_list)


def reference_scaled_l2_distance(centroid1, centroid2, resolution, scale_factor=1 / np.sqrt(2)):
    return np.nanmean(np.sqrt((centroid1 - centroid2) ** 2)) * scale_factor / resolution


def reference_chamfer_distance(mask1, mask2, resolution, scale_factor=1 / np.sqrt(2)):
    f, n = mask1.shape[:2]
    chamfer_distance_list = []
    for i in range(f):
        for j in range(n):
            mask1_points = np.column_stack(np.where(mask1[i, j] == True)).astype(np.float32)  # noqa: E712
            mask2_points = np.column_stack(np.where(mask2[i, j] == True)).astype(np.float32)  # noqa: E712
            tree1 = cKDTree(mask1_points)
            tree2 = cKDTree(mask2_points)
            dist1_to_2, _ = tree1.query(mask2_points)
            dist2_to_1, _ = tree2.query(mask1_points)
            chamfer_dist = np.nanmean(dist1_to_2) + np.nanmean(dist2_to_1)
            chamfer_dist = chamfer_dist * scale_factor / resolution
            chamfer_distance_list.append(chamfer_dist)
    return np.nanmean(chamfer_distance_list)


def reference_find_centroid(mask):
    centroids = []
    for i in range(mask.shape[0]):
        frame_centroids = []
        for j in range(mask.shape[1]):
            y_indices, x_indices = np.where(mask[i, j] == 1)
            if len(x_indices) > 0 and len(y_indices) > 0:
                frame_centroids.append([np.mean(x_indices), np.mean(y_indices)])
            else:
                frame_centroids.append([np.nan, np.nan])
        centroids.append(frame_centroids)
    return np.array(centroids)


def reference_pisa(gt: np.ndarray, pd: np.ndarray) -> dict[str, float]:
    """PISA's process_single_video on one object's masks [f, 1, h, w] (after its frame selection)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # PISA's nanmean of empty frames
        return {
            "pisa_l2": reference_scaled_l2_distance(reference_find_centroid(gt), reference_find_centroid(pd),
                                                    gt.shape[2]),
            "pisa_chamfer": reference_chamfer_distance(gt, pd, gt.shape[2]),
            "pisa_iou": reference_binary_mask_IOU(gt, pd),
        }




def reference_select_frames(gt_mask, gt_fps, pd_mask, pd_fps):
    """The frame pairing at the top of PISA's process_single_video (masks [f, n, h, w])."""
    target_frame_index = [
        int(pd_frame_index * (gt_fps / pd_fps))
        for pd_frame_index in range(len(pd_mask))
        if int(pd_frame_index * (gt_fps / pd_fps)) < len(gt_mask)
    ]
    gt_mask = gt_mask[target_frame_index]
    pd_mask = pd_mask[: min(len(gt_mask), len(pd_mask))]
    return gt_mask, pd_mask
