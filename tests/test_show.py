"""python -m simgen.show: the summary, a contact sheet whose pixels carry the mask outlines, GIFs
with the projected trajectory, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from simgen.data import open_dataset
from simgen.show import GAP, LABEL_H, PALETTE, sheet_frames, tile_origin

N = 6


def _run(*args, check=True):
    env = dict(os.environ, PYOPENGL_PLATFORM="egl", LP_NUM_THREADS="0")
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("show") / "freefall"
    _run("-m", "simgen", f"n={N}", "shard_size=3", "workers=1", "render.width=64", "render.height=64",
         "render.frames=8", f"out={out}", "runner.progress=false")
    return str(out)


@pytest.fixture(scope="module")
def preview(ds_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("preview")
    proc = _run("-m", "simgen.show", ds_path, "--index", "0", "3", "--out", str(out))
    return out, proc.stdout


def _boundary(mask):
    """Independent re-derivation: object pixels with a 4-neighbour of another value."""
    p = np.pad(mask, 1, mode="edge")
    c = p[1:-1, 1:-1]
    diff = (p[:-2, 1:-1] != c) | (p[2:, 1:-1] != c) | (p[1:-1, :-2] != c) | (p[1:-1, 2:] != c)
    return diff & (c > 0)


def test_summary_lists_counts_families_ranges_and_bytes(preview):
    _, stdout = preview
    assert f"{N} sample(s)" in stdout
    assert "freefall 6" in stdout and "id 6" in stdout and "pybullet 6" in stdout
    assert "mass" in stdout and "friction" in stdout and "drop_height" in stdout
    assert "video" in stdout and "masks" in stdout and "depth" in stdout and "footers" in stdout


def test_contact_sheet_pixels_show_mask_outlines(preview, ds_path):
    out, _ = preview
    sheet = np.asarray(Image.open(out / "contact_sheet.png").convert("RGB"))
    ds = open_dataset(ds_path, columns=["video", "masks"])
    W = H = 64
    tile_w = (sheet.shape[1] - 2 * GAP) // 3
    s = tile_w // W
    assert s >= 1 and sheet.shape[0] == 2 * (H * s + LABEL_H + GAP)
    outlined_px = 0
    for row, i in enumerate((0, 3)):
        smp = ds[i]
        for col, t in enumerate(sheet_frames(8)):
            x0, y0 = tile_origin(row, col, H * s, W * s)
            tile = sheet[y0 : y0 + H * s, x0 : x0 + W * s]
            big_mask = np.repeat(np.repeat(smp["masks"][t], s, 0), s, 1)
            big_rgb = np.repeat(np.repeat(smp["video"][t], s, 0), s, 1)
            edge = _boundary(big_mask)
            for k in np.unique(big_mask[edge]):
                sel = edge & (big_mask == k)
                assert np.all(tile[sel] == PALETTE[(k - 1) % len(PALETTE)]), (i, t, k)
                outlined_px += int(sel.sum())
            # everything off the outlines is the video frame itself
            np.testing.assert_array_equal(tile[~edge], big_rgb[~edge])
    assert outlined_px > 50


def test_gif_per_sample_draws_the_projected_track(preview, ds_path):
    out, _ = preview
    ds = open_dataset(ds_path, columns=["centroid_2d", "video"])
    for i in (0, 3):
        smp = ds[i]
        gif = Image.open(out / f"{smp['sample_id']}.gif")
        assert gif.n_frames == 8
        gif.seek(7)
        frame = np.asarray(gif.convert("RGB")).astype(int)
        s = frame.shape[1] // 64
        found = 0
        for k in range(smp["centroid_2d"].shape[1]):
            u, v = smp["centroid_2d"][7, k]
            x, y = int(round((u + 0.5) * s - 0.5)), int(round((v + 0.5) * s - 0.5))
            if 0 <= x < frame.shape[1] and 0 <= y < frame.shape[0]:
                col = np.array(PALETTE[k % len(PALETTE)])
                assert np.abs(frame[y, x] - col).max() <= 48, (i, k, frame[y, x], col)
                found += 1
        assert found >= 1


def test_missing_path_is_one_line_error_exit_2(tmp_path):
    proc = _run("-m", "simgen.show", str(tmp_path / "nope"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_shard_is_one_line_error_naming_the_file(ds_path, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    data = open(os.path.join(ds_path, "shard-000000.parquet"), "rb").read()
    (bad / "shard-000000.parquet").write_bytes(data[: len(data) // 2])
    proc = _run("-m", "simgen.show", str(bad), "--out", str(tmp_path / "p"), check=False)
    assert proc.returncode == 2
    assert "shard-000000.parquet" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_index_out_of_range_is_a_user_error(ds_path, tmp_path):
    proc = _run("-m", "simgen.show", ds_path, "--index", "99", "--out", str(tmp_path / "p"), check=False)
    assert proc.returncode == 2 and "out of range" in proc.stderr


def test_simgen_and_the_preview_import_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import simgen, simgen.data, simgen.show, simgen.card, simgen.job\n"
            "try:\n    import simgen.torch\nexcept ImportError:\n    print('ok')\n")
    proc = _run("-c", code)
    assert proc.stdout.strip() == "ok"
