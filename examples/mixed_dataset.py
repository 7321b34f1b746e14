"""Write a small mixed dataset (every scene family) and a contact sheet PNG of it.

    python examples/mixed_dataset.py [OUT_DIR] [--n 2] [--size 128] [--frames 16]

OUT_DIR/<family>/ holds one dataset per family (Parquet shards, readable with
``simgen.data.open_dataset``); OUT_DIR/contact_sheet.png shows, per family (one row), the first, middle
and last frame of sample 0 with the instance-mask outlines drawn in white, and its caption.
"""

from __future__ import annotations

import argparse
import os
import textwrap

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from simgen.config import load_config  # noqa: E402
from simgen.data import open_dataset  # noqa: E402
from simgen.job import run  # noqa: E402

FAMILIES = ["freefall", "bounce", "collide", "throw_horizontal", "throw_parabolic", "ramp_down", "ramp_up",
            "uniform_motion", "parabola", "two_ball_collision"]


def outline(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The frame with the boundary pixels of every object's mask painted white."""
    m = mask.astype(np.int32)
    edge = np.zeros_like(m, dtype=bool)
    edge[:-1] |= m[:-1] != m[1:]
    edge[1:] |= m[1:] != m[:-1]
    edge[:, :-1] |= m[:, :-1] != m[:, 1:]
    edge[:, 1:] |= m[:, 1:] != m[:, :-1]
    out = frame.copy()
    out[edge & ((m > 0) | np.roll(m > 0, 1, 0) | np.roll(m > 0, 1, 1))] = 255
    return out


def contact_sheet(root: str, families: list[str], path: str) -> None:
    from PIL import Image, ImageDraw

    rows = []
    for fam in families:
        s = open_dataset(os.path.join(root, fam))[0]
        T = s["video"].shape[0]
        tiles = [outline(s["video"][t], s["masks"][t]) for t in (0, T // 2, T - 1)]
        rows.append((fam, s["caption"], np.concatenate(tiles, axis=1)))
    h, w = rows[0][2].shape[:2]
    text_w = 300
    sheet = Image.new("RGB", (w + text_w, h * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (fam, caption, img) in enumerate(rows):
        sheet.paste(Image.fromarray(img), (0, i * h))
        draw.text((w + 6, i * h + 4), fam, fill=(0, 0, 0))
        draw.text((w + 6, i * h + 18), "\n".join(textwrap.wrap(caption, 48)[:6]), fill=(60, 60, 60))
    sheet.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="datasets/mixed")
    ap.add_argument("--n", type=int, default=2, help="videos per family")
    ap.add_argument("--size", type=int, default=128, help="image width and height")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    for fam in FAMILIES:
        cfg = load_config([f"scene={fam}", f"n={args.n}", f"out={os.path.join(args.out, fam)}", f"workers={args.workers}",
                           f"render.width={args.size}", f"render.height={args.size}", f"render.frames={args.frames}",
                           "runner.progress=false", "overwrite=true"])
        run(cfg, log=lambda *a, **k: None)
        print(f"{fam}: {len(open_dataset(os.path.join(args.out, fam)))} videos")
    sheet = os.path.join(args.out, "contact_sheet.png")
    contact_sheet(args.out, FAMILIES, sheet)
    print(f"contact sheet: {sheet}")


if __name__ == "__main__":
    main()
