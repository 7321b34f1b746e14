"""A non-editable install works from any directory: the wheel carries conf/, scenes/, assets/
and the shaders inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT),
                    "-w", str(out)], check=True, capture_output=True, cwd=out)
    return next(out.glob("simgen-*.whl"))


def test_wheel_contains_configs_scenes_assets_shaders(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("simgen/conf/config.yaml", "simgen/conf/scene/freefall.yaml", "simgen/conf/render/default.yaml",
                     "simgen/scenes/__init__.py", "simgen/scenes/freefall.py", "simgen/render/shaders/common.glsl",
                     "simgen/render/shaders/objects.vert", "simgen/render/shaders/pyrender_fast.frag",
                     "simgen/__main__.py"):
        assert required in names, required
    assert any(n.startswith("simgen/assets/") for n in names)


def test_installed_wheel_runs_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -I: isolated (ignores PYTHONPATH and the checkout); the interpreter's site-packages supply the deps
    code = (
        "import sys; sys.path.insert(0, %r);"
        "import simgen, simgen.paths as p; assert simgen.__file__.startswith(%r), simgen.__file__;"
        "print(p.conf_dir()); from simgen.cli import main;"
        "sys.exit(main(['n=1', 'render.width=32', 'render.height=32', 'render.frames=4', 'out=%s', 'runner.progress=false']))"
    ) % (str(target), str(target), str(elsewhere / "ds"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([sys.executable, "-I", "-c", code], cwd=elsewhere, capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert str(target) in res.stdout  # configs came from the installed package
    assert (elsewhere / "ds" / "shard-000000.parquet").exists()
