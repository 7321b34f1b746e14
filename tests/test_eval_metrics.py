"""simgen.eval metric definitions against their published references and hand computations (no rendering).

- PISA: ``tests/pisa_reference.py`` transcribes vision-x-nyu/pisa-experiments ``utils/metrics.py`` and the
  centroid code of ``eval.py`` line by line; it is applied to the same masks as
  :func:`simgen.eval.metrics_pisa.pisa_metrics`.
- Physics-IQ: the motion masks of a small deterministic video are compared with masks made by OpenCV
  5.0.0 with google-deepmind/physics-IQ-benchmark's ``generate_mask`` steps (stored below, bit-packed).
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest

from simgen.eval.metrics_physiq import motion_masks, physiq_metrics
from simgen.eval.metrics_pisa import pisa_metrics
from simgen.eval.predictions import pair_frames, resize_masks
from simgen.eval.tracks import mask_centroids, track_errors
from simgen.eval.verifier import Verifier, lift, motion_plane, quadratic_fit

from pisa_reference import reference_pisa


def random_masks(rng, T, N, H, W, empty_frames=()):
    """Blobby masks: random discs plus noise, some frames empty."""
    yy, xx = np.mgrid[:H, :W]
    m = np.zeros((T, N, H, W), bool)
    for t in range(T):
        for k in range(N):
            if (t, k) in empty_frames:
                continue
            cx, cy, r = rng.uniform(5, W - 5), rng.uniform(5, H - 5), rng.uniform(2, 8)
            m[t, k] = ((xx - cx) ** 2 + (yy - cy) ** 2 < r * r) | (rng.random((H, W)) < 0.01)
    return m


@pytest.mark.parametrize("seed", range(12))
def test_pisa_one_object_equals_published_code(seed):
    rng = np.random.default_rng(seed)
    T, H, W = 9, 40, 48
    gt = random_masks(rng, T, 1, H, W, empty_frames={(2, 0), (5, 0)})
    pd = random_masks(rng, T, 1, H, W, empty_frames={(5, 0), (7, 0)})  # both empty in frame 5
    ours = pisa_metrics(gt, pd)
    ref = reference_pisa(gt, pd)
    for m in ("pisa_l2", "pisa_chamfer", "pisa_iou"):
        assert ours[m][0] == pytest.approx(ref[m], rel=1e-9, abs=1e-12), m


def test_pisa_per_object_then_mean_over_objects():
    rng = np.random.default_rng(5)
    gt, pd = random_masks(rng, 6, 3, 32, 32), random_masks(rng, 6, 3, 32, 32)
    ours = pisa_metrics(gt, pd)
    for k in range(3):
        ref = reference_pisa(gt[:, k : k + 1], pd[:, k : k + 1])
        for m in ref:
            assert ours[m][k] == pytest.approx(ref[m], rel=1e-9)


def test_pisa_shift_by_k_pixels_by_hand():
    """A 10x10 square shifted right by k px in every frame: |dx| = k, |dy| = 0, so PISA's L2 is
    mean(k, 0) / sqrt(2) / H; IoU = (10 - k) / (10 + k); Chamfer: columns 0..k-1 of each square are
    k..1 px from the other, so each direction's mean is (k (k + 1) / 2) * 10 / 100."""
    T, H, W, k = 5, 40, 50, 3
    gt = np.zeros((T, 1, H, W), bool)
    gt[:, 0, 12:22, 8:18] = True
    pd = np.roll(gt, k, axis=-1)
    m = pisa_metrics(gt, pd)
    assert m["pisa_l2"][0] == pytest.approx((k / 2) / math.sqrt(2) / H, rel=1e-12)
    assert m["pisa_iou"][0] == pytest.approx((10 - k) / (10 + k), rel=1e-12)
    one_way = k * (k + 1) / 2 * 10 / 100
    assert m["pisa_chamfer"][0] == pytest.approx(2 * one_way / math.sqrt(2) / H, rel=1e-12)
    e = track_errors(mask_centroids(gt), mask_centroids(pd), np.arange(T) / 10, np.arange(T) / 10)
    assert e["centroid_rmse_px"][0] == pytest.approx(k)
    assert e["velocity_rmse_px_s"][0] == pytest.approx(0, abs=1e-9)


# -- Physics-IQ ------------------------------------------------------------------------------------
# OpenCV 5.0.0, physics-IQ's generate_mask steps (cvtColor BGR2GRAY, GaussianBlur (5,5) 0, accumulateWeighted
# 0.3, convertScaleAbs, absdiff, threshold 10, MORPH_OPEN then MORPH_CLOSE with ones((5,5))) on _video()
# fed as BGR; np.packbits of the bool masks [8, 24, 32], base64.
OPENCV_MASKS = (
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+AAAAPgfAAD4HwAA+B8AAPgf"
    "AAD4HwAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD4AAAB//AAD/"
    "/4AA///AAP//4AD//+AA///gAP//4AD//+AA///AAP//wAAf/wAAD4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAB+AAAB//8AD///gA///4AP///AD///wA///8AP///AD///wA///4AP//8AAf/+AAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA///AAf//4A////AP///4D///+A////gP///4D///+A////AB//"
    "/gAP//wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAf//4Af///A////4P////D/"
    "///w////8P////D////w////4B///8AH//+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAP//AP///4H////x////8f////H////x////8f////H////w////gAB//wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB//8D////B////wf///8H////B////wf///8H////B////wH///8AAP//AAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAA"
)


def _video() -> np.ndarray:
    """A textured background with deterministic noise and a bright disc moving 3 px per frame."""
    T, H, W = 8, 24, 32
    t, y, x = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), indexing="ij")
    v = np.stack([100 + (x * 7 + y * 13) % 23, 110 + (x * 5 + y * 3) % 19, 90 + (x * 11 + y * 7) % 17], -1)
    v = v + ((x * 31 + y * 17 + t * 11) % 7)[..., None] - 3
    v[(x - 6 - 3 * t) ** 2 + (y - 12) ** 2 < 30] = (250, 230, 40)
    return v.astype(np.uint8)


def test_physiq_motion_masks_equal_opencv():
    ref = np.unpackbits(np.frombuffer(base64.b64decode(OPENCV_MASKS), np.uint8))[: 8 * 24 * 32].reshape(8, 24, 32)
    ours = motion_masks(_video())
    assert ref.sum() > 1000 and not ref[0].any()
    np.testing.assert_array_equal(ours, ref.astype(bool))


def test_physiq_iou_definitions_by_hand():
    """Motion masks given directly: frame 0 empty in both, frame 1 the same 4 px, frame 2 disagreeing."""
    T, H, W = 3, 4, 4
    m1, m2 = np.zeros((T, H, W), bool), np.zeros((T, H, W), bool)
    m1[1, :2, :2] = m2[1, :2, :2] = True
    m1[2, 0, :4] = True  # 4 px
    m2[2, 0, 2:] = True  # 2 px, inside m1's
    m2[2, 3, 3] = True  # 1 px elsewhere
    v = np.zeros((T, H, W, 3), np.uint8)
    out = physiq_metrics(v, v, m1, m2)
    # spatial: m1 moves on {(0,0),(0,1),(1,0),(1,1),(0,2),(0,3)}, m2 on the same six and (3,3)
    s1, s2 = m1.any(0), m2.any(0)
    assert (s1 & s2).sum() == 6 and (s1 | s2).sum() == 7
    assert out["physiq_spatial_iou"] == pytest.approx(6 / 7)
    # spatiotemporal: frame 0 both empty -> 1, frame 1 -> 1, frame 2 -> 2 / 5
    assert out["physiq_spatiotemporal_iou"] == pytest.approx((1 + 1 + 2 / 5) / 3)
    # weighted: w = frames with motion / T per pixel; sum of min / sum of max where either moves:
    # w1 = {(0,0): 2, (0,1): 2, (1,0): 1, (1,1): 1, (0,2): 1, (0,3): 1} / 3,
    # w2 = {(0,0): 1, (0,1): 1, (1,0): 1, (1,1): 1, (0,2): 1, (0,3): 1, (3,3): 1} / 3 -> (6/3) / (9/3)
    assert out["physiq_weighted_spatial_iou"] == pytest.approx(6 / 9)
    assert out["physiq_mse"] == 0.0
    a = np.zeros((2, 2, 2, 3), np.uint8)
    b = a.copy()
    b[1, 0, 0, 0] = 255  # one channel of one pixel of frame 1 off by 1.0: frame 1 MSE = 1/12
    none = np.zeros((2, 2, 2), bool)
    assert physiq_metrics(a, b, none, none)["physiq_mse"] == pytest.approx((0 + 1 / 12) / 2)
    # nothing moves in either video: every IoU is 1 (both empty)
    out = physiq_metrics(a, a, none, none)
    assert out["physiq_spatial_iou"] == out["physiq_spatiotemporal_iou"] == out["physiq_weighted_spatial_iou"] == 1.0


# -- pairing, resizing, tracks --------------------------------------------------------------------------
def test_pair_frames_is_pisas_rule():
    pd, gt = pair_frames(10, 8.0, 32, 16.0)
    assert pd.tolist() == list(range(10)) and gt.tolist() == [2 * i for i in range(10)]
    pd, gt = pair_frames(40, 24.0, 32, 16.0)  # int(i * 16 / 24), only those < 32
    assert gt.tolist() == [int(i * (16 / 24)) for i in range(40) if int(i * (16 / 24)) < 32]
    assert pd.tolist() == list(range(len(gt)))
    pd, gt = pair_frames(5, 16.0, 3, 16.0)  # prediction longer than the GT: truncated
    assert pd.tolist() == [0, 1, 2] and gt.tolist() == [0, 1, 2]


def test_resize_masks_nearest_keeps_a_block():
    m = np.zeros((1, 1, 8, 8), bool)
    m[..., 2:4, 4:8] = True
    up = resize_masks(m, 16, 16)
    assert up.sum() == 4 * m.sum() and up[0, 0, 4:8, 8:16].all()


def test_track_errors_constant_acceleration_uneven_times():
    t = np.array([0.0, 0.1, 0.25, 0.3, 0.5])
    c = np.stack([3 * t + 1, 0.5 * 40 * t**2], -1)[:, None]  # x uniform, y accelerating at 40 px/s^2
    still = np.repeat(c[:1], len(t), axis=0)
    e = track_errors(c, c, t, t)
    assert e["centroid_rmse_px"][0] == 0 and e["velocity_rmse_px_s"][0] == 0 and e["acceleration_rmse_px_s2"][0] == 0
    e = track_errors(c, still, t, t)
    assert e["acceleration_rmse_px_s2"][0] == pytest.approx(40.0, rel=1e-9)  # second differences are exact
    c_nan = c.copy()
    c_nan[2] = np.nan  # a missing frame drops every difference that uses it, nothing else
    e_nan = track_errors(c_nan, still, t, t)
    d = np.linalg.norm(c[[0, 1, 3, 4], 0] - still[[0, 1, 3, 4], 0], axis=-1)
    assert e_nan["centroid_rmse_px"][0] == pytest.approx(math.sqrt(np.mean(d**2)))
    assert np.isfinite(e_nan["velocity_rmse_px_s"][0])  # from frames (0, 1) and (3, 4)
    assert np.isnan(e_nan["acceleration_rmse_px_s2"][0])  # every triple of 5 frames uses frame 2


# -- physics verifier: lifting and fits on exact projections --------------------------------------------
def _look_at(eye, target):
    z = np.asarray(target, float) - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, np.cross(z, x), z, eye
    return m


def _project(P, K, c2w):
    w2c = np.linalg.inv(c2w)
    pc = P @ w2c[:3, :3].T + w2c[:3, 3]
    return np.stack([K[0, 0] * pc[:, 0] / pc[:, 2] + K[0, 2], K[1, 1] * pc[:, 1] / pc[:, 2] + K[1, 2]], -1)


def _row(P, K, c2w, g, fps, projection="perspective", **extra):
    T = len(P)
    row = {"intrinsics": K, "cam_to_world": np.repeat(c2w[None], T, 0), "projection": projection,
           "gravity": np.array([0, 0, -g]), "positions": P[:, None], "fps": fps,
           "first_contact_frame": np.array([np.nan]), "object_shape": ["sphere"], "contacts": {}}
    row.update(extra)
    return row


@pytest.mark.parametrize("g", [9.81, 4.0, 15.0])
def test_g_fit_recovers_gravity_from_a_projected_throw(g):
    """A ball thrown sideways and up, seen by an oblique camera: its exact projections lift back onto the
    vertical plane of the throw and give g to 1e-6."""
    fps, T = 30.0, 20
    t = np.arange(T) / fps
    P = np.stack([0.2 + 1.1 * t, 0.3 + 0.4 * t, 1.5 + 2.0 * t - 0.5 * g * t**2], -1)
    K = np.array([[300.0, 0, 127.5], [0, 300.0, 127.5], [0, 0, 1]])
    c2w = _look_at(np.array([1.0, -4.0, 1.2]), np.array([0.6, 0.5, 1.0]))
    uv = _project(P, K, c2w)
    row = _row(P, K, c2w, g, fps)
    assert Verifier(row, np.arange(T)).g_fit(uv, t, 0) == pytest.approx(g, rel=1e-6)
    q, n = motion_plane(P, P.mean(0) - c2w[:3, 3])  # the throw's vertical plane: lifting gives P back
    np.testing.assert_allclose(lift(uv, K, np.repeat(c2w[None], T, 0), "perspective", q, n), P, atol=1e-9)
    # free flight ends at the first contact: a window of < 4 paired frames gives NaN
    row["first_contact_frame"] = np.array([3.0])
    assert np.isnan(Verifier(row, np.arange(T)).g_fit(uv, t, 0))
    # a dropped ball whose track stops moving at frame 8 while the GT still falls fits a wrong g
    P[:, 2] = 3.0 - 0.5 * g * t**2
    uv = _project(P, K, c2w)
    uv[8:] = uv[8]
    assert abs(Verifier(_row(P, K, c2w, g, fps), np.arange(T)).g_fit(uv, t, 0) - g) > 0.3 * g


def test_g_fit_orthographic_vertical_drop():
    T, fps, g = 16, 16.0, 9.81
    t = np.arange(T) / fps
    P = np.stack([np.zeros(T), np.zeros(T), 1.2 - 0.5 * g * t**2], -1)
    c2w = _look_at(np.array([0.0, -5.0, 0.6]), np.array([0.0, 0.0, 0.6]))
    K = np.array([[100.0, 0, 63.5], [0, 100.0, 63.5], [0, 0, 1]])  # pixels per metre
    w2c = np.linalg.inv(c2w)
    pc = P @ w2c[:3, :3].T + w2c[:3, 3]
    uv = np.stack([K[0, 0] * pc[:, 0] + K[0, 2], K[1, 1] * pc[:, 1] + K[1, 2]], -1)
    row = _row(P, K, c2w, g, fps, projection="orthographic")
    assert Verifier(row, np.arange(T)).g_fit(uv, t, 0) == pytest.approx(g, rel=1e-9)


def test_restitution_from_an_analytic_bounce():
    """A ball dropped from 1.2 m (centre), radius 0.1 m, e = 0.6, sampled at 60 fps."""
    g, e, r, h0, fps = 9.81, 0.6, 0.1, 1.2, 60.0
    t_hit = math.sqrt(2 * (h0 - r) / g)
    t = np.arange(0, 1.4, 1 / fps)
    z = np.where(t < t_hit, h0 - 0.5 * g * t**2, r + e * g * t_hit * (t - t_hit) - 0.5 * g * (t - t_hit) ** 2)
    T = len(t)
    P = np.stack([np.zeros(T), np.zeros(T), np.maximum(z, r)], -1)
    K = np.array([[400.0, 0, 127.5], [0, 400.0, 127.5], [0, 0, 1]])
    c2w = _look_at(np.array([0.0, -4.0, 0.7]), np.array([0.0, 0.0, 0.6]))
    contacts = {"frame": np.array([t_hit * fps]), "body_a": np.array([1]), "body_b": np.array([-1]),
                "position": np.zeros((1, 3))}
    row = _row(P, K, c2w, g, fps, first_contact_frame=np.array([t_hit * fps]), contacts=contacts,
               object_size=[np.array([r])])
    uv = _project(P, K, c2w)
    assert Verifier(row, np.arange(T)).restitution(uv, t, 0) == pytest.approx(e, rel=0.01)  # sampled apex
    row["object_shape"] = ["box"]  # only spheres are checked
    assert np.isnan(Verifier(row, np.arange(T)).restitution(uv, t, 0))


def test_quadratic_fit_needs_four_points():
    assert quadratic_fit(np.arange(3.0), np.arange(3.0)) is None
    x = np.arange(5.0)
    np.testing.assert_allclose(quadratic_fit(x, 1 + 2 * x + 3 * x**2), [1, 2, 3], atol=1e-9)
