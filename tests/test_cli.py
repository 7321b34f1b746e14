"""What a user sees from `python -m simgen`: a progress bar with counts, rate and ETA on stderr, and a
summary of what was written on stdout."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import SMALL


def test_progress_bar_and_summary(tmp_path):
    out = tmp_path / "ds"
    proc = subprocess.run([sys.executable, "-m", "simgen", "n=3", "shard_size=1", "workers=1", f"out={out}", *SMALL],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert proc.returncode == 0, proc.stderr
    bar = proc.stderr.replace("\r", "\n")
    assert re.search(r"freefall/pybullet: 100%\|.*\| 3/3 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(video/s|s/video)\]", bar), bar
    assert re.search(r"wrote 3 video\(s\) \(\d+ frames\) in 3 shard\(s\); dataset now 3 videos in 3 shard\(s\)", proc.stdout)
    assert re.search(r"[\d.]+ videos/s wall, [\d.]+ videos per CPU-second \(sample \d+%", proc.stdout), proc.stdout
    assert str(out) in proc.stdout
