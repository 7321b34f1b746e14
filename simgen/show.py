"""``python -m simgen.show <path> [--index 0 3] [--out DIR]``: look at a dataset.

Prints a summary read from the footers and the light columns only (samples, families, splits,
engines, video size, objects per video, the looks drawn, parameter ranges, bytes per column) and
writes a preview:

* ``contact_sheet.png``: one row per selected sample, its first / middle / last frame with every
  object's mask outline drawn in that object's palette colour (:data:`PALETTE`, 1-based ids), labelled
  with its look (floor, sky or backdrop, where the key light comes from, camera motion);
* ``<sample_id>.gif`` per selected sample: the video with mask outlines and the projected
  ground-truth trajectory (``centroid_2d`` track so far plus a dot at the current frame).

Small videos are enlarged by an integer factor (nearest) so outlines stay one output pixel wide.
Errors (missing path, corrupt shard, bad index) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from typing import Any, Sequence

import numpy as np

from simgen.errors import UserError

# Outline / track colour of object k is PALETTE[(k - 1) % len(PALETTE)].
PALETTE: list[tuple[int, int, int]] = [
    (255, 40, 40), (40, 255, 40), (40, 120, 255), (255, 230, 0),
    (255, 0, 255), (0, 255, 255), (255, 140, 0), (160, 80, 255),
]
LABEL_H = 14  # pixels of caption band above each contact-sheet row
GAP = 2  # pixels between tiles


def color_of(k: int) -> tuple[int, int, int]:
    return PALETTE[(int(k) - 1) % len(PALETTE)]


def scale_for(height: int, width: int, target: int = 160) -> int:
    """Integer enlargement so the short side reaches about ``target`` pixels (at least 1)."""
    return max(1, int(round(target / max(1, min(height, width)))))


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of a non-zero id whose 4-neighbourhood holds another value (inner outline)."""
    m = mask
    edge = np.zeros(m.shape, bool)
    edge[1:, :] |= m[1:, :] != m[:-1, :]
    edge[:-1, :] |= m[:-1, :] != m[1:, :]
    edge[:, 1:] |= m[:, 1:] != m[:, :-1]
    edge[:, :-1] |= m[:, :-1] != m[:, 1:]
    return edge & (m > 0)


def enlarge(a: np.ndarray, s: int) -> np.ndarray:
    return a if s == 1 else np.repeat(np.repeat(a, s, axis=0), s, axis=1)


def outlined(frame: np.ndarray, mask: np.ndarray | None, s: int) -> np.ndarray:
    """Frame [H,W,3] enlarged by ``s`` with mask outlines painted in palette colours."""
    img = enlarge(frame, s).copy()
    if mask is None:
        return img
    big = enlarge(mask, s)
    edge = boundary(big)
    ids = big[edge]
    if ids.size:
        pal = np.array([color_of(k) for k in range(1, int(ids.max()) + 1)], np.uint8)
        img[edge] = pal[ids.astype(np.int64) - 1]
    return img


def tile_origin(row: int, col: int, tile_h: int, tile_w: int) -> tuple[int, int]:
    """Top-left (x, y) of a contact-sheet tile."""
    return col * (tile_w + GAP), row * (tile_h + LABEL_H + GAP) + LABEL_H


def sheet_frames(num_frames: int) -> list[int]:
    return sorted(set([0, (num_frames - 1) // 2, num_frames - 1]))


LOOK_COLUMNS = ("floor_kind", "environment_kind", "environment_name", "light_direction", "camera_motion", "cam_to_world")


def look_label(smp: dict[str, Any]) -> str:
    """"planks floor, dusk sky, back light 35 deg, orbit": the sample's look in a few words (empty for
    datasets written before the look was recorded)."""
    if "environment_kind" not in smp:
        return ""
    words = []
    if smp.get("floor_kind"):
        words.append(f"{smp['floor_kind']} floor")
    kind, name = smp["environment_kind"], smp.get("environment_name", "")
    words.append({"sky": f"{name} sky", "flat": f"{name} backdrop", "image": f"image {name}"}.get(kind, kind))
    d, c2w = smp.get("light_direction"), smp.get("cam_to_world")
    if d is not None and c2w is not None and np.linalg.norm(d) > 0:
        dc = np.asarray(c2w[0], np.float64)[:3, :3].T @ np.asarray(d, np.float64)  # camera frame (x right, z forward)
        ang = np.degrees(np.arctan2(dc[0], -dc[2]))  # 0: from behind the camera, +-180: from behind the objects
        side = ("front light" if abs(ang) < 45 else "back light" if abs(ang) > 135
                else "light from the right" if ang > 0 else "light from the left")
        words.append(f"{side} {np.degrees(np.arcsin(np.clip(d[2], -1, 1))):.0f} deg up")
    if smp.get("camera_motion", "static") != "static":
        words.append(f"{smp['camera_motion']} camera")
    return ", ".join(words)


def contact_sheet(samples: Sequence[dict[str, Any]], scale: int | None = None):
    """PIL image: one row per sample, first/middle/last frame with mask outlines."""
    from PIL import Image, ImageDraw

    H = max(s["video"].shape[1] for s in samples)
    W = max(s["video"].shape[2] for s in samples)
    s_ = scale or scale_for(H, W)
    th, tw = H * s_, W * s_
    sheet = Image.new("RGB", (3 * tw + 2 * GAP, len(samples) * (th + LABEL_H + GAP)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for r, smp in enumerate(samples):
        video, masks = smp["video"], smp.get("masks")
        frames = sheet_frames(video.shape[0])
        x0, y0 = tile_origin(r, 0, th, tw)
        look = look_label(smp)
        draw.text((2, y0 - LABEL_H + 1), f"{smp['sample_id']}  frames {frames}" + (f"  {look}" if look else ""),
                  fill=(230, 230, 230))
        for c, t in enumerate(frames):
            tile = outlined(video[t], None if masks is None else masks[t], s_)
            sheet.paste(Image.fromarray(tile), tile_origin(r, c, th, tw))
    return sheet


def animation(sample: dict[str, Any], scale: int | None = None) -> list:
    """PIL frames: video with mask outlines and the centroid_2d track drawn so far."""
    from PIL import Image, ImageDraw

    video, masks = sample["video"], sample.get("masks")
    T, H, W = video.shape[:3]
    s = scale or scale_for(H, W)
    uv = sample.get("centroid_2d")
    frames = []
    for t in range(T):
        img = Image.fromarray(outlined(video[t], None if masks is None else masks[t], s))
        if uv is not None:
            d = ImageDraw.Draw(img)
            for k in range(uv.shape[1]):
                pts = [((float(u) + 0.5) * s - 0.5, (float(v) + 0.5) * s - 0.5) for u, v in uv[: t + 1, k]]
                col = color_of(k + 1)
                if len(pts) > 1:
                    d.line(pts, fill=col, width=max(1, s // 2))
                x, y = pts[-1]
                r = max(2, s)
                d.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), fill=col)
        frames.append(img)
    return frames


def _fmt_bytes(b: float) -> str:
    from simgen.card import _fmt_bytes as f

    return f(b)


def summary_text(ds) -> str:
    """Summary from footers and light columns (no video, masks or depth pages are read)."""
    from simgen.card import footer_stats

    stats = footer_stats(ds.fs, [s.path for s in ds.shards])
    cols = ["scene", "split", "engine", "num_objects", "num_frames", "height", "width", "fps",
            "mass", "friction", "restitution", "params"]
    present = set(ds._file(ds.shards[0].path).schema_arrow.names)
    look_cols = [c for c in ("environment_kind", "environment_name", "floor_kind", "object_pattern", "camera_motion")
                 if c in present]
    t = ds.metadata_table(columns=cols + look_cols)
    n = t.num_rows
    lines = [f"{ds.path}: {n} sample(s) in {len(ds.shards)} shard(s), {_fmt_bytes(stats.file_bytes)} "
             f"({_fmt_bytes(stats.file_bytes / max(n, 1))} per sample)"]
    for name in ("scene", "split", "engine"):
        c = Counter(t.column(name).to_pylist())
        lines.append(f"  {name + 's':<8} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    sizes = Counter(zip(t.column("width").to_pylist(), t.column("height").to_pylist(),
                        t.column("num_frames").to_pylist(), t.column("fps").to_pylist()))
    lines.append("  video    " + ", ".join(f"{w}x{h} px, {f} frames at {fps:g} fps ({c})"
                                            for (w, h, f, fps), c in sorted(sizes.items())))
    nobj = np.asarray(t.column("num_objects").to_pylist())
    lines.append(f"  objects  {nobj.min()}..{nobj.max()} per video (mean {nobj.mean():.2f})")
    if look_cols:
        lines.append("  look     " + look_summary(t))
    lines.append("  parameter ranges (min .. max over all objects / samples):")
    for name, unit in (("mass", "kg"), ("friction", ""), ("restitution", "")):
        vals = np.concatenate([np.asarray(v, np.float64) for v in t.column(name).to_pylist() if v] or [np.zeros(0)])
        if vals.size:
            lines.append(f"    {name:<24} {vals.min():.4g} .. {vals.max():.4g} {unit}".rstrip())
    ranges: dict[str, list[float]] = {}
    texts: dict[str, Counter] = {}
    shown = {"mass", "friction", "restitution"}  # printed above from the simulated per-object columns
    for cells in t.column("params").to_pylist():
        for c in cells or []:
            if c["name"] in shown:
                continue
            if c["text"] is not None:
                texts.setdefault(c["name"], Counter())[c["text"]] += 1
            elif c["values"]:
                ranges.setdefault(c["name"], []).extend(c["values"])
    for name in sorted(ranges):
        v = np.asarray(ranges[name], np.float64)
        lines.append(f"    {name:<24} {np.nanmin(v):.4g} .. {np.nanmax(v):.4g}")
    for name in sorted(texts):
        lines.append(f"    {name:<24} " + ", ".join(f"{k} {c}" for k, c in texts[name].most_common(6)))
    g = stats.groups()
    g["footers"] = stats.footer_bytes
    tot = max(1, sum(g.values()))
    lines.append("  bytes per sample on disk (compressed; from the footers): " + ", ".join(
        f"{k} {_fmt_bytes(v / max(n, 1))} ({100 * v / tot:.0f}%)" for k, v in g.items()))
    top = sorted(((b, c) for c, b in stats.column_bytes.items() if c not in g), reverse=True)[:6]
    lines.append("  largest other columns: " + ", ".join(f"{c} {_fmt_bytes(b / max(n, 1))}" for b, c in top))
    return "\n".join(lines)


def look_summary(t) -> str:
    """"sky 4 (dusk 2, clear 2), flat 2; floors planks 3, ...; patterns stripes 5, ...; camera static 6"."""
    kinds, names = t.column("environment_kind").to_pylist(), t.column("environment_name").to_pylist()
    env = []
    for kind, count in Counter(kinds).most_common():
        sub = Counter(nm for k, nm in zip(kinds, names) if k == kind)
        env.append(f"{kind} {count} (" + ", ".join(f"{nm} {c}" for nm, c in sub.most_common(4)) + ")")
    floors = Counter(f for f in t.column("floor_kind").to_pylist() if f)
    patterns = Counter(p for row in t.column("object_pattern").to_pylist() for p in (row or []))
    motion = Counter(t.column("camera_motion").to_pylist())
    parts = ["environments " + ", ".join(env)]
    if floors:
        parts.append("floors " + ", ".join(f"{k} {v}" for k, v in floors.most_common()))
    parts.append("patterns " + ", ".join(f"{k} {v}" for k, v in patterns.most_common()))
    parts.append("camera " + ", ".join(f"{k} {v}" for k, v in motion.most_common()))
    return "; ".join(parts)


def show(path: str, index: Sequence[int] | None = None, out: str = "preview", write: bool = True,
         log=print) -> dict[str, Any]:
    """Print the summary and write the preview; returns ``{"sheet": path, "gifs": [...]}``."""
    from simgen.data import open_dataset

    ds = open_dataset(path, columns=["video", "masks", "centroid_2d", "fps"])
    present = set(ds._file(ds.shards[0].path).schema_arrow.names)
    ds = open_dataset(path, columns=["video", "masks", "centroid_2d", "fps", *(c for c in LOOK_COLUMNS if c in present)])
    log(summary_text(ds))
    n = len(ds)
    idx = list(index) if index else list(range(min(3, n)))
    bad = [i for i in idx if not -n <= i < n]
    if bad:
        raise UserError(f"--index {bad[0]} is out of range: the dataset has {n} sample(s) (0..{n - 1}).")
    result: dict[str, Any] = {"sheet": None, "gifs": []}
    if not write:
        return result
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Cannot create the preview folder {out!r}: {exc}.") from None
    samples = [ds[i] for i in idx]
    s = scale_for(max(x["video"].shape[1] for x in samples), max(x["video"].shape[2] for x in samples))
    sheet_path = os.path.join(out, "contact_sheet.png")
    contact_sheet(samples, scale=s).save(sheet_path)
    result["sheet"] = sheet_path
    for smp in samples:
        frames = animation(smp, scale=s)
        gif = os.path.join(out, f"{smp['sample_id']}.gif")
        frames[0].save(gif, save_all=True, append_images=frames[1:], loop=0,
                       duration=int(round(1000 / float(smp.get("fps") or 16))), optimize=False)
        result["gifs"].append(gif)
    log(f"preview: {sheet_path} (rows: {', '.join(str(i) for i in idx)}; frames first/middle/last, mask outlines) "
        f"and {len(result['gifs'])} GIF(s) with outlines and the centroid_2d track in {out}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simgen.show", description=__doc__.split("\n\n")[0])
    p.add_argument("path", help="dataset folder, URI or one shard file")
    p.add_argument("--index", type=int, nargs="+", default=None, help="samples to preview [0 1 2]")
    p.add_argument("--out", default="preview", help="folder for contact_sheet.png and the GIFs [preview]")
    p.add_argument("--no-preview", action="store_true", help="print the summary only")
    args = p.parse_args(argv)
    try:
        show(args.path, args.index, args.out, write=not args.no_preview)
        return 0
    except UserError as exc:
        print(f"simgen.show: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"simgen.show: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
