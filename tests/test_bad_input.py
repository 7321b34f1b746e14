"""Bad input: one clear message, non-zero exit, no traceback, nothing written or damaged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simgen.data import open_dataset
from simgen.errors import CorruptShardError
from conftest import SMALL, run_simgen


@pytest.mark.parametrize(
    "override, expect",
    [
        ("n=0", "n=0 is out of range"),
        ("n=-5", "n=-5 is out of range"),
        ("n=abc", "n='abc' is not a valid integer"),
        ("scene=nope", "Unknown scene 'nope'. Available scenes: "),
        ("render.fps=0", "render.fps=0.0 is out of range"),
        ("scene.density.lo=-100", "scene.density.lo=-100.0 is out of range"),
        ("scene.mass={lo:-1.0,hi:2.0}", "scene.mass.lo=-1.0 is out of range"),
        ("scene.friction={lo:0.9,hi:0.1}", "lo=0.9 is greater than hi=0.1"),
        ("engine.physics_hz=100", "not a whole multiple of render.fps"),
        ("scene.heigth=2", "there is no config key 'scene.heigth'"),
        ("engine.contact_tau_steps=3", "engine.contact_tau_steps applies only with engine=mujoco"),
        ("runner.max_retries=1", "runner.max_retries applies only with runner=ray"),
        ("engine=havok", "engine"),
        ("render.width=7", "render.width=7 is out of range"),
        ("render.width=65", "render.width=65 is odd: H.264 video (yuv420p) needs an even width and height"),
        ("render.height=255", "render.height=255 is odd"),
        ("engine=bulet", "engine='bulet' is not allowed; choose one of: mujoco, pybullet."),
        ("runner=dask", "runner='dask' is not allowed; choose one of: local, ray."),
        ("render.masks=maybe", "render.masks='maybe' is not a valid bool; use true or false."),
        ("overwrite=maybe", "overwrite='maybe' is not a valid bool"),
        ("out=données", "Quote it inside the argument, e.g. out=\"'données'\""),
        ("out=my (copy)", "Hydra needs quotes around values with spaces"),
        ("render.x264_params=bogus", "'bogus' is not key=value"),
        ("render.x264_params='foo=1'", "is not accepted by libx264 (Error parsing option 'foo = 1'.)"),
        ("render.x264_params='bframes=many'", "is not accepted by libx264"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path, override, expect):
    out = tmp_path / "out"
    res = run_simgen(override, f"out={out}", check=False)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("simgen: error: ")
    assert expect in lines[0]
    assert not out.exists(), "nothing is written for a bad config"


def test_unknown_scene_lists_the_scenes(tmp_path):
    res = run_simgen("scene=nope", f"out={tmp_path / 'o'}", check=False)
    assert "freefall" in res.stderr


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_simgen("n=1", f"out={blocker}", check=False)
    assert res.returncode == 2 and "is a file, not a folder" in res.stderr and "Traceback" not in res.stderr
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        # Permissions do not bind root (CI runs as root); /sys refuses new folders to everyone.
        target = ro / "ds" if not os.access(ro, os.W_OK) else Path("/sys/simgen-test-ds")
        res = run_simgen("n=1", f"out={target}", check=False)
        assert res.returncode == 2 and "Cannot write to out=" in res.stderr and "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert not target.exists()
    finally:
        os.chmod(ro, 0o700)


def test_changed_config_refuses_to_mix_and_damages_nothing(tmp_path):
    out = tmp_path / "ds"
    run_simgen("n=2", "shard_size=2", "workers=1", f"out={out}", *SMALL)

    def files():  # the lock file only says who last held the folder's lock
        return {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".simgen.lock"}

    before = files()
    res = run_simgen("n=2", "shard_size=2", "workers=1", f"out={out}", *SMALL, "render.fps=8", check=False)
    assert res.returncode == 2 and "different configuration" in res.stderr and "overwrite=true" in res.stderr
    assert "render.fps 16.0 -> 8.0" in res.stderr  # says what differs
    assert files() == before
    # explicitly allowed: replaced, consistent
    run_simgen("n=2", "shard_size=2", "workers=1", f"out={out}", *SMALL, "render.fps=8", "overwrite=true")
    ds = open_dataset(str(out))
    assert len(ds) == 2 and ds[0]["fps"] == 8.0


def test_corrupt_shard_names_the_file(tmp_path):
    out = tmp_path / "ds"
    run_simgen("n=4", "shard_size=2", "workers=1", f"out={out}", *SMALL)
    bad = out / "shard-000001.parquet"
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        open_dataset(str(out))
    bad.write_bytes(b"not parquet at all" * 10)
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        open_dataset(str(out))
    # rerunning the generator repairs exactly that shard
    good = (out / "shard-000000.parquet").read_bytes()
    res = run_simgen("n=4", "shard_size=2", "workers=1", f"out={out}", *SMALL)
    assert "1 of 2 shard(s) already complete" in res.stdout
    assert (out / "shard-000000.parquet").read_bytes() == good
    assert len(open_dataset(str(out))) == 4


def test_help_and_cfg(tmp_path):
    res = run_simgen("--help", check=False)
    assert res.returncode == 0 and "scene=NAME" in res.stdout
    res = run_simgen("--cfg", "n=3", check=False)
    import yaml

    assert res.returncode == 0
    cfg = yaml.safe_load(res.stdout)
    assert cfg["n"] == 3 and cfg["engine"]["physics_hz"] == 240.0 and cfg["render"]["width"] == 256
