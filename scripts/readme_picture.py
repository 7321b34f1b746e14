"""Make docs/look.jpg, the README's picture: frames of one default video per family, as stored
(decoded from the H.264 stream), no overlays.

    python scripts/readme_picture.py [--seed 3] [--out docs/look.jpg]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

from simgen.data import open_dataset

FAMILIES = ("freefall", "bounce", "collide", "throw_parabolic", "ramp_down", "ramp_up")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", default="docs/look.jpg")
    ap.add_argument("--tile", type=int, default=160, help="pixels per frame in the picture")
    a = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fam in FAMILIES:
            out = f"{tmp}/{fam}"
            subprocess.run([sys.executable, "-m", "simgen", f"scene={fam}", "n=1", f"seed={a.seed}", f"out={out}",
                            "runner.progress=false", "render.masks=false", "render.depth=false"], check=True,
                           stdout=subprocess.DEVNULL)
            video = open_dataset(out, columns=["video"])[0]["video"]
            T = len(video)
            tiles = [Image.fromarray(video[t]).resize((a.tile, a.tile), Image.LANCZOS) for t in (0, T // 3, 2 * T // 3, T - 1)]
            rows.append(np.concatenate([np.asarray(t) for t in tiles], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(a.out, quality=85)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
