"""Shared fixtures: small datasets generated once per session through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("LP_NUM_THREADS", "0")

# Small but real: every test dataset goes through `python -m simgen`.
SMALL = ["render.width=96", "render.height=96", "render.frames=12"]


def run_simgen(*args: str, cwd: str | os.PathLike | None = None, check: bool = True, timeout: float = 600):
    """Run `python -m simgen args...` in a subprocess; return the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "simgen", *args, "runner.progress=false"],
        cwd=cwd or os.getcwd(), env=env, capture_output=True, text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"simgen {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    """6 freefall videos, 2 workers, 3 shards of 2."""
    out = tmp_path_factory.mktemp("ds") / "freefall"
    run_simgen("n=6", "shard_size=2", "workers=2", "seed=7", f"out={out}", *SMALL)
    return out
