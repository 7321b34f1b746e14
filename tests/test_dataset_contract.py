"""Generated data against its own ground truth: the sample contract, masks and depth vs projected
positions, parameters as simulated, random access and column selection."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

import simgen
from simgen.data import open_dataset


def test_sample_contract_keys_dtypes_shapes(small_dataset):
    ds = open_dataset(str(small_dataset))
    assert len(ds) == 6
    s = ds[3]
    T, H, W = 12, 96, 96
    N = s["num_objects"]
    assert 1 <= N <= 4
    for key in ("sample_id", "scene", "engine", "seed", "caption"):
        assert key in s
    assert s["scene"] == "freefall" and s["engine"] == "pybullet"
    assert isinstance(s["seed"], int) and isinstance(s["caption"], str) and s["caption"]
    expect = {
        "video": (np.uint8, (T, H, W, 3)),
        "masks": (np.uint8, (T, H, W)),
        "depth": (np.float32, (T, H, W)),
        "positions": (np.float32, (T, N, 3)),
        "quaternions": (np.float32, (T, N, 4)),
        "linear_velocity": (np.float32, (T, N, 3)),
        "angular_velocity": (np.float32, (T, N, 3)),
        "mass": (np.float32, (N,)),
        "friction": (np.float32, (N,)),
        "restitution": (np.float32, (N,)),
        "intrinsics": (np.float32, (3, 3)),
        "cam_to_world": (np.float32, (T, 4, 4)),
        "gravity": (np.float32, (3,)),
    }
    for key, (dtype, shape) in expect.items():
        assert s[key].dtype == dtype, key
        assert s[key].shape == shape, key
    assert s["fps"] == 16.0
    assert np.allclose(np.linalg.norm(s["quaternions"], axis=-1), 1.0, atol=1e-5)
    assert s["gravity"] == pytest.approx([0, 0, -9.81])
    # cam_to_world is a rigid transform, OpenCV convention: the optical axis (+z) looks down at the scene
    R = s["cam_to_world"][0, :3, :3]
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-5) and np.linalg.det(R) == pytest.approx(1.0, abs=1e-5)
    assert R[2, 2] < 0  # camera z axis points downwards (towards the floor)
    assert R[2, 1] < 0  # image y (down) points down in the world


def _bounding_radius(shape: str, size: np.ndarray) -> float:
    if shape in ("sphere", "mesh"):  # mesh: size[0] is the bounding-sphere radius
        return float(size[0])
    if shape == "box":
        return float(np.linalg.norm(size))
    if shape == "cylinder":
        return float(np.hypot(size[0], size[1]))
    return float(size[0] + size[1])  # capsule


def _project(s, t, p):
    c2w = s["cam_to_world"][t].astype(np.float64)
    w2c = np.linalg.inv(c2w)
    pc = w2c[:3, :3] @ p + w2c[:3, 3]
    K = s["intrinsics"].astype(np.float64)
    u = K[0, 0] * pc[0] / pc[2] + K[0, 2]
    v = K[1, 1] * pc[1] / pc[2] + K[1, 2]
    return u, v, pc[2]


def test_masks_and_depth_agree_with_projected_positions(small_dataset):
    """The centre of mass projects into the object's own mask unless something nearer covers it,
    and the depth there lies in front of the centre by at most the object's radius."""
    ds = open_dataset(str(small_dataset))
    checked = 0
    for i in range(len(ds)):
        s = ds[i]
        T, H, W = s["masks"].shape
        radius = [_bounding_radius(shape, sz) for shape, sz in zip(s["object_shape"], s["object_size"])]
        for t in range(T):
            for k in range(s["num_objects"]):
                u, v, z = _project(s, t, s["positions"][t, k].astype(np.float64))
                x, y = int(round(u)), int(round(v))
                if not (0 <= x < W and 0 <= y < H):
                    continue
                mid = s["masks"][t, y, x]
                d = s["depth"][t, y, x]
                # the recorded 2-D centroid is the same projection
                assert s["centroid_2d"][t, k] == pytest.approx([u, v], abs=1e-3)
                if mid == k + 1:
                    checked += 1
                    assert d < z + 1e-3, "the visible surface is in front of the centre of mass"
                    assert z - d <= radius[k] + 0.01
                else:
                    # occluded: whatever covers the pixel is nearer than this object's centre
                    assert mid != 0 or d < z, f"sample {i} frame {t}: object {k + 1} missing from its mask"
                    assert d < z
    assert checked > 30


def test_depth_is_metric_on_the_floor(small_dataset):
    """Background pixels see the floor plane z=0: back-projecting depth lands on it."""
    s = open_dataset(str(small_dataset))[0]
    K = s["intrinsics"].astype(np.float64)
    c2w = s["cam_to_world"][0].astype(np.float64)
    ys, xs = np.nonzero((s["masks"][0] == 0) & (s["depth"][0] > 0))
    sel = np.linspace(0, len(ys) - 1, 50).astype(int)
    for y, x in zip(ys[sel], xs[sel]):
        d = float(s["depth"][0, y, x])
        pc = np.array([(x - K[0, 2]) / K[0, 0] * d, (y - K[1, 2]) / K[1, 1] * d, d])
        pw = c2w[:3, :3] @ pc + c2w[:3, 3]
        assert abs(pw[2]) < 0.01 * d + 0.005  # float16 depth: ~0.1 % relative


def test_parameters_are_what_the_engine_used(small_dataset):
    ds = open_dataset(str(small_dataset))
    for i in range(len(ds)):
        s = ds[i]
        assert np.all(s["mass"] > 0)
        assert np.all((s["restitution"] >= 0) & (s["restitution"] <= 1))
        assert np.all(s["friction"] >= 0)
        # free fall at the start: the first frames accelerate at g (no object touches yet)
        first = np.nanmin(np.where(np.isnan(s["first_contact_frame"]), np.inf, s["first_contact_frame"]))
        if first >= 3:
            vz = s["linear_velocity"][:3, :, 2]
            acc = np.diff(vz, axis=0) * s["fps"]
            assert acc == pytest.approx(-9.81, rel=1e-3)


def test_stored_rows_pass_the_physics_audit(small_dataset):
    """The audit reads what the reader returns: every stored row of the generated dataset is within
    the truth table's limits, with nothing stored twice (physics_hz is in the row)."""
    from test_truth import LIMITS

    from simgen.engines.truth import audit

    ds = open_dataset(str(small_dataset))
    for i in range(len(ds)):
        figures = audit(ds[i])
        assert figures["double_events"] == 0 and figures["quat_flips"] == 0
        bad = {k: v for k, v in figures.items() if v > LIMITS[k]}
        assert not bad, f"row {i}: {bad}"


def test_random_access_and_columns(small_dataset):
    full = open_dataset(str(small_dataset))
    light = open_dataset(str(small_dataset), columns=["positions", "caption"])
    assert len(light) == len(full)
    for i in (5, 0, 3):
        a, b = full[i], light[i]
        assert set(b) >= {"sample_id", "positions", "caption"} and "video" not in b and "masks" not in b
        assert a["sample_id"] == b["sample_id"]
        np.testing.assert_array_equal(a["positions"], b["positions"])
    ids = [full[i]["sample_id"] for i in range(len(full))]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert full[-1]["sample_id"] == ids[-1]
    with pytest.raises(IndexError):
        full[6]


def test_shard_files_are_standard_parquet(small_dataset):
    files = sorted(small_dataset.glob("shard-*.parquet"))
    assert [f.name for f in files] == ["shard-000000.parquet", "shard-000001.parquet", "shard-000002.parquet"]
    pf = pq.ParquetFile(files[1])
    meta = json.loads(pf.schema_arrow.metadata[b"simgen"])
    assert meta["schema_version"] == simgen.SCHEMA_VERSION == 2 and meta["config"]["n"] == 6 and meta["engine"] == "pybullet"
    assert pf.metadata.num_rows == 2
    assert pf.metadata.row_group(0).column(0).compression in ("ZSTD",)
    table = pq.read_table(files[1], columns=["sample_id", "positions", "mass"])
    assert table.column("sample_id").to_pylist() == ["freefall-7-00000002", "freefall-7-00000003"]
    # ground truth is typed nested lists of floats, not JSON strings
    assert str(table.schema.field("positions").type) == "list<element: list<element: fixed_size_list<element: float>[3]>>"
