"""Optical flow (render.flow=true, column ``flow``) against the rigid-motion flow computed here from
depth, intrinsics, object poses and camera poses: the point seen at pixel (u, v) of frame t,
moved with its object from frame t to t + 1 (static geometry stays), seen by the camera of t + 1."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_simgen
from simgen.scenes.common import look_at

from simgen.config import load_config
from simgen.data import open_dataset
from simgen.generate import Pipeline
from simgen.render.batched import BatchedRenderer
from simgen.spec import quat_to_matrix


def expected_flow(depth, masks, K, c2w, positions, quaternions) -> np.ndarray:
    """[T, H, W, 2] from depth [T, H, W] (0: nothing there), ids [T, H, W], intrinsics [3, 3],
    cam_to_world [T, 4, 4] (OpenCV), positions [T, N, 3], quaternions [T, N, 4] (x, y, z, w)."""
    T, H, W = depth.shape
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    ray = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    out = np.zeros((T, H, W, 2))
    for t in range(T - 1):
        d = depth[t].astype(np.float64)
        X = (ray * d[..., None]) @ c2w[t, :3, :3].T + c2w[t, :3, 3]  # world points
        for k in range(positions.shape[1]):
            sel = masks[t] == k + 1
            r0, r1 = quat_to_matrix(quaternions[t, k]), quat_to_matrix(quaternions[t + 1, k])
            X[sel] = (X[sel] - positions[t, k]) @ r0 @ r1.T + positions[t + 1, k]  # body frame, then frame t + 1
        sky = d == 0
        X[sky] = (ray[sky] @ c2w[t, :3, :3].T)  # a direction: only the camera's rotation moves it
        w2c = np.linalg.inv(c2w[t + 1])
        q = X @ w2c[:3, :3].T + np.where(sky[..., None], 0.0, w2c[:3, 3])
        out[t, ..., 0] = K[0, 0] * q[..., 0] / q[..., 2] + K[0, 2] - u
        out[t, ..., 1] = K[1, 1] * q[..., 1] / q[..., 2] + K[1, 2] - v
    return out


def _close(got, want, depth):
    got = np.asarray(got, np.float64)
    err = np.abs(got - want)
    tol = 0.03 + 2e-3 * np.abs(want)  # float16 storage
    bad = (err > tol).any(axis=-1)
    assert bad.mean() < 1e-3, (bad.mean(), err.max())
    assert np.abs(got[-1]).max() == 0.0  # the last frame has no next frame


def test_flow_of_moving_objects_and_a_moving_camera():
    W, H, T = 128, 96, 8
    cfg = load_config(["scene=collide", "seed=5", f"render.width={W}", f"render.height={H}", f"render.frames={T}"])
    pipe = Pipeline(cfg, render=False)
    r = BatchedRenderer(W, H, depth_dtype="float32", flow=True)
    try:
        for i in range(3):
            spec, traj = pipe.simulate(i)[:2]
            moving = i > 0
            if moving:  # orbit and rise around the aim point
                c2w = spec.camera.cam_to_world
                eye, target = c2w[:3, 3], c2w[:3, 3] + 3.0 * c2w[:3, 2]
                path = []
                for t in range(T):
                    a = 0.04 * t * (1 if i == 1 else -1)
                    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
                    path.append(look_at(target + rot @ (eye - target) + [0, 0, 0.03 * t], target))
                spec.camera.trajectory = np.stack(path)
            f = r.render(spec, traj)
            assert f.flow.dtype == np.float16 and f.flow.shape == (T, H, W, 2)
            want = expected_flow(np.asarray(f.depth), np.asarray(f.masks), spec.camera.intrinsics(),
                                 spec.camera.poses(T), traj.positions, traj.quaternions)
            _close(f.flow, want, f.depth)
            moving_px = np.abs(want[:-1]).max(axis=-1) > 0.5
            assert moving_px.mean() > (0.5 if moving else 0.001)  # the test sees motion
    finally:
        r.close()
        pipe.close()


def test_flow_column_through_the_readers(tmp_path):
    out = tmp_path / "flow"
    run_simgen("n=2", "shard_size=2", "workers=1", "seed=3", f"out={out}", "render.width=64", "render.height=48",
               "render.frames=8", "render.flow=true", "render.depth_dtype=float32", "scene=bounce")
    ds = open_dataset(str(out))
    for i in range(2):
        s = ds[i]
        assert s["flow"].dtype == np.float16 and s["flow"].shape == (8, 48, 64, 2)
        want = expected_flow(s["depth"], s["masks"], s["intrinsics"].astype(np.float64),
                             s["cam_to_world"].astype(np.float64), s["positions"].astype(np.float64),
                             s["quaternions"].astype(np.float64))
        _close(s["flow"], want, s["depth"])
    pytest.importorskip("torch")
    from simgen.torch import ClipSpec, apply_clip

    s = ds[0]
    clip = apply_clip(s, ClipSpec(frames=4, stride=2, size=(24, 32), crop="none"), None)
    assert clip["flow"].shape == (4, 24, 32, 2)
    # half the size: nearest-exact takes source pixel (2i + 1, 2j + 1) for (i, j), and the vectors halve
    src = np.asarray(s["flow"], np.float64)[[0, 2, 4, 6]]
    np.testing.assert_allclose(clip["flow"], src[:, 1::2, 1::2] * 0.5, atol=1e-3)
    assert not np.allclose(clip["flow"], 0)
