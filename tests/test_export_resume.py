"""A killed export resumes with nothing lost or doubled, and ends as an uninterrupted export would.

The export process is killed with SIGKILL at a chosen file write (between two files of a sample, or
after a temporary is written but before it is moved into place), then the same command is rerun.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_simgen
from simgen.export.folder import MANIFEST, TMP_DIR

# Runs `python -m simgen.export ARGS` in-process (workers=1) and SIGKILLs itself at the Nth file write:
# "between": before the Nth file is started; "inside": after the Nth file's temporary is half written.
KILLER = r"""
import os, signal, sys
from simgen.export import folder as F
n, where = int(sys.argv[1]), sys.argv[2]
orig = F.ExportFolder.write_bytes
count = [0]
def write_bytes(self, rel, data):
    count[0] += 1
    if count[0] == n:
        if where == "inside":
            self._mkdir(self.path(F.TMP_DIR))
            with self.fs.open_output_stream(self.path(F.TMP_DIR + "/partial-" + rel.split("/")[-1])) as f:
                f.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return orig(self, rel, data)
F.ExportFolder.write_bytes = write_bytes
from simgen.export.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume") / "freefall"
    run_simgen("n=5", "shard_size=2", "workers=1", "seed=21", f"out={out}", "render.width=64",
               "render.height=48", "render.frames=10")
    return out


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt, extra, kill_at, where", [
    ("pisa", [], 17, "between"),  # frames 0..9, movie, mask, clip_info = 13 files a sample: mid sample 2
    ("musubi", ["--frames", "4k+1"], 3, "inside"),  # a temporary left half written
    ("mp4", [], 4, "between"),  # after sample 1's video, before its JSON
])
def test_killed_export_resumes_to_the_uninterrupted_result(dataset, tmp_path, fmt, extra, kill_at, where):
    out = tmp_path / "killed"
    args = [str(dataset), "--format", fmt, "--out", str(out), "--workers", "1", "--no-progress", *extra]
    proc = subprocess.run([sys.executable, "-c", KILLER, str(kill_at), where, *args], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    before = {p: (out / p).stat().st_mtime_ns for p in files(out)}
    assert before, "the kill should land after some files were written"
    if where == "inside":
        assert list((out / TMP_DIR).iterdir()), "the kill should leave a temporary behind"

    res = subprocess.run([sys.executable, "-m", "simgen.export", *args], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "resuming" in res.stderr

    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "simgen.export", *args[:4], str(fresh), *args[5:]], check=True,
                   capture_output=True, timeout=300)
    got, want = files(out), files(fresh)
    assert sorted(got) == sorted(want), "files lost or extra"
    for name in want:
        if name == MANIFEST:
            continue
        # nothing half written, nothing doubled in the index (which names its folder: PISA's absolute paths)
        assert got[name] == want[name].replace(str(fresh).encode(), str(out).encode()), name
    assert not (out / TMP_DIR).exists()
    # samples finished before the kill were kept, not rewritten; the kill landed mid-run
    done = finished(fmt, before)
    assert 1 <= len(done) < 5
    for sid in done:
        for p in sample_files(fmt, sid, before):
            assert (out / p).stat().st_mtime_ns == before[p], p


def finished(fmt: str, names) -> set[str]:
    """Samples whose last file (the one written last) exists."""
    if fmt == "pisa":
        return {n.split("/")[0] for n in names if n.endswith("/clip_info.json")}
    if fmt == "musubi":
        return {Path(n).stem for n in names if n.startswith("videos/")}
    return {Path(n).stem for n in names if n.endswith(".json") and n != MANIFEST}


def sample_files(fmt: str, sid: str, names) -> list[str]:
    if fmt == "pisa":
        return [n for n in names if n.startswith(sid + "/")]
    if fmt == "musubi":
        return [f"videos/{sid}.mp4"]
    return [f"{sid}.mp4", f"{sid}.json"]
