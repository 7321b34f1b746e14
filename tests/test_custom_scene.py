"""A user's own scene family, registered with a conf dir, runs through the CLI path and its workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from simgen.data import open_dataset

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_scene.py"


def test_custom_family_generates_in_worker_processes(tmp_path):
    out = tmp_path / "tower"
    res = subprocess.run([sys.executable, str(EXAMPLE), str(out), "--n", "2", "workers=2", "shard_size=1",
                          "render.width=64", "render.height=64", "render.frames=8", "scene.boxes.lo=3",
                          "scene.boxes.hi=3", "runner.progress=false"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    ds = open_dataset(str(out))
    assert len(ds) == 2
    s = ds[1]
    assert s["scene"] == "tower" and s["num_objects"] == 4 and "tower of 3 boxes" in s["caption"]
    # the stack starts at rest, boxes exactly on top of each other
    z = s["positions"][0, :3, 2]
    assert np.allclose(np.diff(z), 0.2, atol=1e-5)
