"""benchmarks/bench_ab.py, the tool behind the README's old-against-new simulate ratios: one revision
checked out twice and simulated in two worker processes gives the same trajectories byte for byte
(the comparison it prints is meaningful), and a revision that does not exist is a clear error."""

from __future__ import annotations

import importlib.util
import math
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench_ab():
    spec = importlib.util.spec_from_file_location("bench_ab", ROOT / "benchmarks" / "bench_ab.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _git_head() -> str | None:
    if shutil.which("git") is None:
        return None
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _worktrees() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("engine", ["pybullet", "mujoco"])
def test_one_revision_in_two_workers_gives_identical_trajectories(engine, capsys):
    head = _git_head()
    if head is None:
        pytest.skip("not a git checkout")
    before = _worktrees()
    out = _bench_ab().main([head, head, "--engine", engine, "--n", "2", "--rounds", "1"])
    assert out["identical"] is True
    assert math.isfinite(out["total"]) and out["total"] > 0 and math.isfinite(out["median"])
    printed = capsys.readouterr().out
    assert "trajectories identical" in printed and "round 1:" in printed
    assert _worktrees() == before  # its temporary worktrees are removed


def test_unknown_revision_is_a_clear_error():
    if _git_head() is None:
        pytest.skip("not a git checkout")
    with pytest.raises(SystemExit) as exc:
        _bench_ab().main(["no-such-revision-xyz"])
    assert "cannot check out 'no-such-revision-xyz'" in str(exc.value)
