"""simgen.torch: DataLoader exactly-once (map-style and DDP-style streaming), clip sampling keeps
the ground truth aligned with the pixels, columns= reads only what is asked, collate pads objects."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simgen.data import open_dataset  # noqa: E402
from simgen.errors import UserError  # noqa: E402
from simgen.spec import quat_to_matrix  # noqa: E402,F401  (contract import check)
from simgen.torch import SimgenIterableDataset, SimgenTorchDataset, collate  # noqa: E402

N = 6


def _generate(out) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="egl", LP_NUM_THREADS="0")
    cmd = [sys.executable, "-m", "simgen", f"n={N}", "shard_size=3", "workers=1", "render.width=64",
           "render.height=64", "render.frames=8", f"out={out}", "runner.progress=false"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("torchds") / "freefall"
    _generate(out)
    return str(out)


@pytest.fixture(scope="module")
def all_ids(ds_path):
    return [open_dataset(ds_path, columns=["caption"])[i]["sample_id"] for i in range(N)]


def test_map_style_dataloader_two_workers_yields_every_sample_once(ds_path, all_ids):
    ds = SimgenTorchDataset(ds_path, frames=4, size=32)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, shuffle=True, num_workers=2, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(0))
    seen = []
    for batch in loader:
        assert batch["video"].shape[1:] == (4, 3, 32, 32) and batch["video"].dtype == torch.uint8
        assert batch["masks"].shape[1:] == (4, 32, 32)
        seen.extend(batch["sample_id"])
    assert Counter(seen) == Counter(all_ids)
    assert len(seen) == N


def test_ddp_split_ranks_times_workers_exactly_once(ds_path, all_ids):
    per_rank = []
    for rank in (0, 1):
        ds = SimgenIterableDataset(ds_path, columns=["caption"], world_size=2, rank=rank, seed=3,
                                   shuffle=True, shuffle_buffer=4)
        ds.set_epoch(1)
        loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=2, collate_fn=collate)
        ids = [sid for batch in loader for sid in batch["sample_id"]]
        assert len(ids) == len(set(ids)) == len(ds)
        per_rank.append(set(ids))
    assert per_rank[0].isdisjoint(per_rank[1])
    assert per_rank[0] | per_rank[1] == set(all_ids)
    assert abs(len(per_rank[0]) - len(per_rank[1])) <= 1


@pytest.mark.parametrize("world_size,num_workers", [(1, 1), (2, 2), (3, 2), (4, 2), (8, 1)])
def test_partition_is_exact_for_any_consumer_count(ds_path, world_size, num_workers):
    for epoch in (0, 1):
        got = []
        for rank in range(world_size):
            ds = SimgenIterableDataset(ds_path, columns=["caption"], world_size=world_size, rank=rank, seed=1)
            ds.set_epoch(epoch)
            for w in range(num_workers):
                got.extend(ds.consumer_indices(w, num_workers))
        assert sorted(got) == list(range(N))


def test_set_epoch_reshuffles_deterministically(ds_path):
    def order(epoch, seed=5):
        ds = SimgenIterableDataset(ds_path, columns=["caption"], seed=seed, shuffle_buffer=6)
        ds.set_epoch(epoch)
        return [s["dataset_index"] for s in ds]

    assert order(0) == order(0)
    assert sorted(order(0)) == list(range(N))
    assert len({tuple(order(e)) for e in range(6)}) > 1


def test_random_clip_start_is_deterministic_per_seed_epoch_index(ds_path):
    ds = SimgenTorchDataset(ds_path, columns=["positions"], frames=3, stride=2, start="random", seed=11)
    a = [ds[i]["frame_indices"].tolist() for i in range(N)]
    b = [ds[i]["frame_indices"].tolist() for i in range(N)]
    assert a == b
    for fi in a:
        assert fi[1] - fi[0] == 2 and fi[0] + 4 <= 7
    starts = set()
    for e in range(8):
        ds.set_epoch(e)
        starts.add(ds[0]["frame_indices"][0].item())
    assert len(starts) > 1
    # the ground truth follows the chosen frames
    full = open_dataset(ds_path, columns=["positions"])[2]
    s = ds[2]
    np.testing.assert_array_equal(s["positions"].numpy(), full["positions"][s["frame_indices"].numpy()])


def test_every_per_frame_column_is_cut_to_the_clip(ds_path):
    """All [T, ...] arrays of the contract, including columns added later ([T][N] lists), follow
    frames= while per-object [N] arrays keep their length."""
    full = open_dataset(ds_path, decode_video=False)[3]
    T, n = full["num_frames"], full["num_objects"]
    s = SimgenTorchDataset(ds_path, frames=3, stride=2, start="random", seed=4)[3]
    fi = s["frame_indices"].numpy()
    per_frame = [k for k, v in full.items() if isinstance(v, np.ndarray) and v.ndim >= 2 and v.shape[:2] == (T, n)]
    assert {"positions", "centroid_2d", "visible_pixels"} <= set(per_frame)
    for k in per_frame + ["times", "cam_to_world", "masks", "depth"]:
        assert s[k].shape[0] == 3, k
        if k not in ("masks", "depth", "bbox_2d", "visible_pixels"):  # those are recomputed/resampled
            np.testing.assert_allclose(s[k].numpy(), full[k][fi], err_msg=k)
    for k in ("mass", "friction", "restitution"):
        assert s[k].shape == (n,)


def _project(positions, k, c2w):
    w2c = np.linalg.inv(c2w)
    pc = positions @ w2c[:3, :3].T + w2c[:3, 3]
    uv = pc @ k.T
    return uv[..., :2] / uv[..., 2:3]


@pytest.mark.parametrize("size,crop", [((40, 48), "center"), (96, "random"), ((48, 32), "none")])
def test_clip_resize_crop_keeps_masks_and_projections_aligned(ds_path, size, crop):
    plain = SimgenTorchDataset(ds_path, frames=6, stride=1, start="random", seed=2)
    moved = SimgenTorchDataset(ds_path, frames=6, stride=1, start="random", seed=2, size=size, crop=crop)
    checked = hits = 0
    for i in range(N):
        a, b = plain[i], moved[i]
        assert a["frame_indices"].tolist() == b["frame_indices"].tolist()
        oh, ow = (size, size) if isinstance(size, int) else size
        assert b["video"].shape[-2:] == (oh, ow) and b["masks"].shape[-2:] == (oh, ow)
        assert b["depth"].shape[-2:] == (oh, ow)
        # intrinsics and centroid_2d move together: projecting with the new K gives the new uv
        k = b["intrinsics"].numpy().astype(np.float64)
        for t in range(6):
            uv = _project(b["positions"][t].numpy().astype(np.float64), k, b["cam_to_world"][t].numpy())
            np.testing.assert_allclose(uv, b["centroid_2d"][t].numpy(), atol=2e-3)
        ma, mb = a["masks"].numpy(), b["masks"].numpy()
        assert set(np.unique(mb)) <= set(np.unique(ma))  # nearest resampling invents no ids
        for t in range(6):
            for k_obj in range(int(a["num_objects"])):
                u, v = np.rint(a["centroid_2d"][t, k_obj].numpy()).astype(int)
                if not (0 <= u < 64 and 0 <= v < 64) or ma[t, v, u] != k_obj + 1:
                    continue  # occluded or off-screen before the transform
                if a["visible_pixels"][t, k_obj] < 30:
                    continue  # too small to survive a downscale reliably
                u2, v2 = np.rint(b["centroid_2d"][t, k_obj].numpy()).astype(int)
                if not (0 <= u2 < ow and 0 <= v2 < oh):
                    continue  # cropped away
                checked += 1
                hits += int(mb[t, v2, u2] == k_obj + 1)
                # depth comes along with the mask (nearest): same source pixel family
                assert np.isfinite(b["depth"][t, v2, u2].item())
                # recomputed boxes contain the projected centre
                x0, y0, x1, y1 = b["bbox_2d"][t, k_obj].tolist()
                assert x0 - 1 <= u2 <= x1 + 1 and y0 - 1 <= v2 <= y1 + 1
    assert checked >= 10
    assert hits == checked


def test_video_pixels_follow_the_masks_after_resize(ds_path):
    """The object colours under the resized mask match those under the original mask."""
    plain = SimgenTorchDataset(ds_path, frames=4)
    moved = SimgenTorchDataset(ds_path, frames=4, size=(48, 40), crop="center")
    checked = 0
    for i, k in ((i, k) for i in range(N) for k in range(1, int(plain[i]["num_objects"]) + 1)):
        a, b = plain[i], moved[i]
        # interiors only: resampling blends the colours of edge pixels with their neighbours'
        ma, mb = _interior(a["masks"] == k), _interior(b["masks"] == k)
        if ma.sum() < 30 or mb.sum() < 15:
            continue
        checked += 1
        ca = a["video"].permute(0, 2, 3, 1)[ma].float().mean(0)
        cb = b["video"].permute(0, 2, 3, 1)[mb].float().mean(0)
        assert torch.allclose(ca, cb, atol=20), (i, k, ca, cb)
    assert checked, "no object large enough to compare"


def _interior(m: torch.Tensor) -> torch.Tensor:
    """Pixels of a [T, H, W] boolean mask whose four neighbours are in the mask too."""
    e = m.clone()
    e[:, 1:] &= m[:, :-1]
    e[:, :-1] &= m[:, 1:]
    e[:, :, 1:] &= m[:, :, :-1]
    e[:, :, :-1] &= m[:, :, 1:]
    return e


def test_columns_reads_only_what_is_asked(ds_path):
    ds = SimgenTorchDataset(ds_path, columns=["video", "caption"], frames=2, video_dtype=torch.float32)
    assert "depth" not in ds.base.columns and "masks" not in ds.base.columns
    s = ds[0]
    assert "depth" not in s and "masks" not in s and "positions" not in s
    assert isinstance(s["caption"], str) and s["caption"]
    assert s["video"].dtype == torch.float32 and 0.0 <= s["video"].min() and s["video"].max() <= 1.0
    assert s["video"].shape == (2, 3, 64, 64)


def test_collate_pads_objects_and_marks_valid(ds_path):
    ds = SimgenTorchDataset(ds_path, columns=["positions", "mass", "masks"], frames=2, mask_dtype=torch.int64)
    batch = collate([ds[i] for i in range(N)])
    counts = batch["num_objects"].tolist()
    nmax = max(counts)
    assert batch["positions"].shape == (N, 2, nmax, 3)
    assert batch["mass"].shape == (N, nmax)
    assert batch["masks"].dtype == torch.int64
    assert batch["object_valid"].tolist() == [[j < n for j in range(nmax)] for n in counts]
    assert torch.all(batch["mass"][~batch["object_valid"]] == 0)
    assert torch.all(batch["mass"][batch["object_valid"]] > 0)


def test_bad_arguments_raise_user_errors(ds_path):
    with pytest.raises(UserError, match="start="):
        SimgenTorchDataset(ds_path, start="middle")
    with pytest.raises(UserError, match="rank="):
        SimgenIterableDataset(ds_path, rank=2, world_size=2)
    ds = SimgenTorchDataset(ds_path, columns=["caption"], frames=9)
    with pytest.raises(UserError, match="frames=9"):
        ds[0]


def test_rank_and_world_size_default_to_torch_distributed(ds_path, tmp_path):
    import torch.distributed as dist

    assert (SimgenIterableDataset(ds_path, columns=["caption"]).rank,
            SimgenIterableDataset(ds_path, columns=["caption"]).world_size) == (0, 1)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        ds = SimgenIterableDataset(ds_path, columns=["caption"])
        assert (ds.rank, ds.world_size) == (dist.get_rank(), dist.get_world_size())
        explicit = SimgenIterableDataset(ds_path, columns=["caption"], rank=1, world_size=2)
        assert (explicit.rank, explicit.world_size) == (1, 2)  # explicit arguments win
    finally:
        dist.destroy_process_group()
