"""python -m simgen.export: every format read back the way its tool reads it, on a non-square dataset.

Checks: file stems match, CSV/JSONL parse, relative paths resolve, every MP4 decodes to the
dataset's frames exactly (stream copy, and a 4k+1 cut), PISA masks equal the dataset's and its SAM 2
points lie on their objects, bad input is one line with status 2 and writes nothing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_simgen
from simgen.codecs import decode_video
from simgen.data import open_dataset
from simgen.export import Options, export
from simgen.export.folder import MANIFEST, TMP_DIR
from simgen.export.pisa import object_masks, prompt_points
from simgen.export.video import COPY, TRIM_COPY, TRIM_LOSSLESS, largest_4k1, remux

W, H, T, FPS = 160, 96, 14, 24  # non-square, not 4k+1 frames, 24 fps


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Path:
    """8 freefall videos at 160x96, 14 frames, 24 fps; 3 shards (3, 3, 2), 2 rows per row group."""
    out = tmp_path_factory.mktemp("wide") / "freefall"
    run_simgen("n=8", "shard_size=3", "workers=2", "seed=11", f"out={out}", f"render.width={W}",
               f"render.height={H}", f"render.frames={T}", f"render.fps={FPS}", "output.row_group_size=2")
    return out


@pytest.fixture(scope="module")
def samples(wide) -> list[dict]:
    ds = open_dataset(str(wide), columns=["video", "masks", "caption", "positions", "fps", "contacts"])
    return [ds[i] for i in range(len(ds))]


def run_export(src, fmt, out, *args, check=True, progress=False):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", "simgen.export", *map(str, src if isinstance(src, list) else [src]),
                           "--format", fmt, "--out", str(out), *([] if progress else ["--no-progress"]), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"export failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def frames_of(path: Path) -> np.ndarray:
    return decode_video(path.read_bytes())


def assert_clean(out: Path, n: int) -> None:
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["state"] == "complete" and manifest["samples"] == n
    assert not (out / TMP_DIR).exists(), "temporaries left behind"


# -- formats --------------------------------------------------------------------------------------------
def test_mp4_is_a_stream_copy_with_json_truth(wide, samples, tmp_path):
    out = tmp_path / "mp4"
    log = []
    res = export([str(wide)], "mp4", str(out), workers=2, progress=False, log=log.append)
    assert res.written == len(samples) and res.stats[COPY] == len(samples)
    ids = [s["sample_id"] for s in samples]
    truths = sorted(p.stem for p in out.glob("*.json") if p.name != MANIFEST)
    assert sorted(p.stem for p in out.glob("*.mp4")) == sorted(ids) == truths
    for s in samples:
        assert np.array_equal(frames_of(out / f"{s['sample_id']}.mp4"), s["video"])  # bit-exact frames
        truth = json.loads((out / f"{s['sample_id']}.json").read_text(),
                           parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
        assert truth["sample_id"] == s["sample_id"] and truth["caption"] == s["caption"]
        assert truth["video"] == f"{s['sample_id']}.mp4" and truth["fps"] == FPS
        assert (truth["width"], truth["height"], truth["num_frames"]) == (W, H, T)
        np.testing.assert_array_equal(np.asarray(truth["positions"], np.float32), s["positions"])
        assert len(truth["contacts"]["frame"]) == len(s["contacts"]["frame"])
        assert "masks" not in truth and "depth" not in truth
    assert_clean(out, len(samples))


def test_cosmos_layout_and_min_frames_warning(wide, samples, tmp_path):
    out = tmp_path / "cosmos"
    log = []
    export([str(wide)], "cosmos", str(out), workers=1, progress=False, log=log.append)
    stems = sorted(p.stem for p in (out / "videos").glob("*.mp4"))
    assert stems == sorted(p.stem for p in (out / "metas").glob("*.txt")) == sorted(s["sample_id"] for s in samples)
    for s in samples:  # what Cosmos' VideoDataset reads: videos/<stem>.mp4 and metas/<stem>.txt
        assert (out / "metas" / f"{s['sample_id']}.txt").read_text().strip() == s["caption"]
        assert np.array_equal(frames_of(out / "videos" / f"{s['sample_id']}.mp4"), s["video"])
    # 14-frame clips cannot feed num_frames=93: np.random.randint(0, 14 - 93) would raise
    assert any("warning" in m and "--min-frames 93" in m and "randint" in m for m in log)
    log2 = []
    export([str(wide)], "cosmos", str(tmp_path / "cosmos2"), options=Options(min_frames=13), workers=1,
           progress=False, log=log2.append)
    assert not any("warning" in m for m in log2)  # 14 > 13: every start is drawable
    log3 = []
    export([str(wide)], "cosmos", str(tmp_path / "cosmos3"), options=Options(min_frames=T), workers=1,
           progress=False, log=log3.append)
    assert any("warning" in m for m in log3)  # 14 frames, num_frames 14: randint(0, 0) fails


def test_diffsynth_csv_first_frame_and_4k1_cut(wide, samples, tmp_path):
    import pandas as pd

    out = tmp_path / "diffsynth"
    res = run_export(wide, "diffsynth", out, "--first-frame", "--frames", "4k+1", "--workers", "2")
    assert "cut to their first 13" in res.stderr
    meta = pd.read_csv(out / "metadata.csv")  # DiffSynth's UnifiedDataset reads it with pandas
    assert list(meta.columns) == ["video", "prompt", "input_image"] and len(meta) == len(samples)
    by_id = {s["sample_id"]: s for s in samples}
    for row in meta.itertuples():
        video = out / row.video  # os.path.join(dataset_base_path, ...)
        s = by_id[Path(row.video).stem]
        assert row.prompt == s["caption"] and Path(row.input_image).stem == s["sample_id"]
        got = frames_of(video)
        assert got.shape[0] == 13 == largest_4k1(T)
        assert np.array_equal(got, s["video"][:13])
        from PIL import Image

        assert np.array_equal(np.asarray(Image.open(out / row.input_image).convert("RGB")), s["video"][0])
    assert_clean(out, len(samples))


def test_musubi_jsonl_paths_resolve_from_the_jsonl_folder(wide, samples, tmp_path):
    out = tmp_path / "musubi"
    res = export([str(wide)], "musubi", str(out), options=Options(frames="4k+1"), workers=2, progress=False,
                 log=lambda m: None)
    assert res.stats[TRIM_COPY] + res.stats[TRIM_LOSSLESS] == len(samples)
    lines = (out / "metadata.jsonl").read_text().splitlines()
    assert len(lines) == len(samples)
    for line, s in zip(lines, samples):  # dataset order
        rec = json.loads(line)
        assert set(rec) == {"video_path", "caption"} and rec["caption"] == s["caption"]
        path = out / rec["video_path"]  # relative: musubi falls back to the JSONL's folder
        assert not os.path.isabs(rec["video_path"]) and path.is_file()
        got = frames_of(path)
        assert got.shape[0] % 4 == 1 and got.shape[0] == 13
        assert np.array_equal(got, s["video"][:13])


def test_finetrainers_two_file_format(wide, samples, tmp_path):
    out = tmp_path / "ft"
    export([str(wide)], "finetrainers", str(out), workers=1, progress=False, log=lambda m: None)
    prompts = (out / "prompt.txt").read_text().splitlines()
    videos = (out / "videos.txt").read_text().splitlines()
    assert len(prompts) == len(videos) == len(samples)
    for p, v, s in zip(prompts, videos, samples):
        assert p == " ".join(s["caption"].split()) and Path(v).stem == s["sample_id"]
        assert np.array_equal(frames_of(out / v), s["video"])


def test_pisa_masks_points_frames_and_eval_configs(wide, samples, tmp_path):
    from PIL import Image

    out = tmp_path / "pisa"
    res = export([str(wide)], "pisa", str(out), workers=2, progress=False, log=lambda m: None)
    assert res.stats["unprompted"] == 0
    evals = [json.loads(line) for line in (out / "pisa_eval.jsonl").read_text().splitlines()]
    masks_cfg = [json.loads(line) for line in (out / "pisa_masks.jsonl").read_text().splitlines()]
    assert len(evals) == len(masks_cfg) == len(samples)
    for s, ev, mc in zip(samples, evals, masks_cfg):
        d = out / s["sample_id"]
        # frames as SAM 2's video predictor lists them: %05d.jpg, sorted by int(stem)
        jpgs = sorted(d.glob("*.jpg"), key=lambda p: int(p.stem))
        assert [int(p.stem) for p in jpgs] == list(range(T))
        video = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in jpgs])
        assert video.shape == s["video"].shape
        assert np.abs(video.astype(int) - s["video"]).mean() < 2.0  # JPEG q95 4:4:4
        assert np.array_equal(frames_of(d / "movie.mp4"), s["video"])
        # masks as PISA's eval.py loads them: np.load(gt_mask)["mask"], bool [T, N, H, W], dataset order
        assert Path(ev["gt_mask"]).is_absolute() and Path(ev["gt_mask"]) == d / "mask.npz"
        m = np.load(ev["gt_mask"])["mask"]
        n = len(np.unique(s["masks"][s["masks"] > 0])) if s["masks"].any() else 0
        assert m.dtype == bool and m.shape == (T, m.shape[1], H, W) and m.shape[1] >= n
        for k in range(m.shape[1]):
            assert np.array_equal(m[:, k], s["masks"] == k + 1)
        assert ev["gt_fps"] == FPS and ev["pd_fps"] == FPS
        assert ev["pd_mask"] == mc["mask"] and Path(mc["video"]).name == s["sample_id"]
        assert Path(mc["annotation"]) == d / "clip_info.json"
        info = json.loads((d / "clip_info.json").read_text())
        assert len(info["points"]) == m.shape[1] and info["caption"] == s["caption"]
        assert_points_on_objects(info["points"], s["masks"][0])


def assert_points_on_objects(points: list[dict], mask0: np.ndarray) -> None:
    H, W = mask0.shape
    for k, p in enumerate(points, start=1):
        visible = (mask0 == k).any()
        assert bool(p["positive"]) == visible and (bool(p["negative"]) or not visible)
        for x, y in p["positive"]:
            assert 0 <= x < W and 0 <= y < H and mask0[y, x] == k, (k, x, y)
        for x, y in p["negative"]:
            assert 0 <= x < W and 0 <= y < H and mask0[y, x] == 0, (k, x, y)


def test_prompt_points_lie_on_their_objects_over_many_masks():
    """Worst case over 300 random id masks: overlapping, occluded, touching the border, 1-pixel and
    missing objects."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        H, W = int(rng.integers(8, 64)), int(rng.integers(8, 96))
        n = int(rng.integers(1, 5))
        mask = np.zeros((H, W), np.uint8)
        yy, xx = np.mgrid[:H, :W]
        for k in range(1, n + 1):
            if rng.random() < 0.1:
                continue  # not in the frame
            cy, cx = rng.uniform(-3, H + 3), rng.uniform(-3, W + 3)
            ry, rx = rng.uniform(0.5, H / 2), rng.uniform(0.5, W / 2)
            mask[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = k  # later objects occlude
        if rng.random() < 0.1:
            mask[rng.integers(H), rng.integers(W)] = n  # a 1-pixel object
        assert_points_on_objects(prompt_points(mask, n), mask)
    full = np.ones((6, 6), np.uint8)  # no background at all: no negative point is possible
    assert prompt_points(full, 1) == [{"positive": prompt_points(full, 1)[0]["positive"], "negative": []}]


def test_object_masks_layout():
    m = np.array([[[0, 1], [2, 2]]], np.uint8)
    assert object_masks(m, 3).tolist() == [[[[False, True], [False, False]], [[False, False], [True, True]],
                                            [[False, False], [False, False]]]]


@pytest.fixture(scope="module")
def cells(wide) -> dict[str, bytes]:
    """The encoded video cell (MP4 bytes) of every sample."""
    ds = open_dataset(str(wide), columns=["video"], decode_video=False)
    return {r["sample_id"]: r["video"] for r in (ds[i] for i in range(len(ds)))}


def test_every_cut_decodes_to_the_first_frames(samples, cells):
    """remux(frames=n) for every n: the first n frames exactly, by stream copy where no kept B-frame
    refers to a dropped frame, else by lossless re-encoding (both happen with x264's B-pyramid)."""
    hows = set()
    for s in samples[:2]:
        data = cells[s["sample_id"]]
        with av.open(io.BytesIO(data), "r") as c:
            assert c.streams.video[0].codec_context.name == "h264"
        for n in range(1, T + 1):
            mp4, how = remux(data, n)
            hows.add(how)
            assert np.array_equal(decode_video(mp4), s["video"][:n]), (s["sample_id"], n, how)
    assert {TRIM_COPY, TRIM_LOSSLESS, COPY} <= hows


# -- selection, inputs, refusal, bad input ---------------------------------------------------------------
def test_split_and_scene_filters_and_uri_input_output(wide, samples, tmp_path):
    out = tmp_path / "uri"
    res = export([wide.as_uri()], "finetrainers", out.as_uri(), split="id", scenes=["freefall"], workers=1,
                 progress=False, log=lambda m: None)
    assert res.samples == len(samples) and len((out / "videos.txt").read_text().splitlines()) == len(samples)
    bad = run_export(wide, "finetrainers", tmp_path / "ood", "--split", "ood", check=False)
    assert bad.returncode == 2 and "No sample matches --split ood" in bad.stderr
    assert not (tmp_path / "ood").exists()


def test_refuses_a_foreign_non_empty_folder(wide, samples, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    res = run_export(wide, "musubi", out, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("simgen.export: error: Refusing to write into")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # nothing written
    # another format's export is foreign too; --force writes and deletes nothing
    export([str(wide)], "finetrainers", str(tmp_path / "ft"), workers=1, progress=False, log=lambda m: None)
    res = run_export(wide, "musubi", tmp_path / "ft", check=False)
    assert res.returncode == 2 and "another format" in res.stderr
    run_export(wide, "musubi", out, "--force")
    assert (out / "notes.txt").read_text() == "keep me"
    assert len((out / "metadata.jsonl").read_text().splitlines()) == len(samples)
    # a rerun of the same export resumes instead of refusing (with the progress bar on stderr)
    res = run_export(wide, "musubi", out, progress=True)
    assert "resuming" in res.stderr and f"kept {len(samples)} finished" in res.stderr
    assert "export/musubi: 100%" in res.stderr and f"{len(samples)}/{len(samples)}" in res.stderr


@pytest.mark.parametrize("args, expect", [
    (["--format", "nope"], "invalid choice: 'nope'"),
    (["--format", "musubi", "--first-frame"], "--first-frame does not apply to --format musubi"),
    (["--format", "mp4", "--frames", "4k+1"], "--frames does not apply to --format mp4"),
    (["--format", "musubi", "--frames", "3k"], "--frames '3k' is not allowed"),
    (["--format", "musubi", "--scene", "bounce"], "--scene bounce: no such scene"),
    (["--format", "musubi", "--workers", "-1"], "--workers -1 is not allowed"),
])
def test_bad_input_is_one_line_and_writes_nothing(wide, tmp_path, args, expect):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "simgen.export", str(wide), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("simgen.export: error: ") and expect in lines[0], lines
    assert not out.exists()


def test_missing_dataset_is_one_line(tmp_path):
    proc = run_export(tmp_path / "nothing", "mp4", tmp_path / "out", check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("simgen.export: error: No dataset at")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
