"""``--format pisa``: the layout PISA's evaluation reads (vision-x-nyu/pisa-experiments)::

    <sample_id>/00000.jpg ...  the frames (JPEG, quality 95, 4:4:4), as SAM 2's video predictor reads them
    <sample_id>/movie.mp4      the video, stream-copied (e.g. the conditioning frames for a model)
    <sample_id>/mask.npz       key "mask": bool [T, N, H, W], object k of the dataset at index k - 1
    <sample_id>/clip_info.json SAM 2 prompt points on frame 0 (below), caption, fps, size
    pisa_eval.jsonl            {"gt_mask", "gt_fps", "pd_mask", "pd_fps"} per sample, for PISA's eval.py
    pisa_masks.jsonl           {"video", "annotation", "mask"} per sample, for PISA's generate_mask.py
                               (SAM 2 masks of *your* predicted frames under predictions/<sample_id>/)

``clip_info.json`` ``points`` holds one entry per object, in dataset order:
``{"positive": [[x, y], ...], "negative": [[x, y], ...]}`` in pixels (x right, y down). Positive
points lie inside the object's frame-0 mask (its deepest interior points), negative points on the
background (mask id 0) just outside it. An object not visible in frame 0 gets no points.

``pd_mask`` / ``pd_fps`` point at ``predictions/<sample_id>/mask.npz`` and ``--pred-fps`` (default:
the dataset's fps): put your model's frames in ``predictions/<sample_id>/%05d.jpg``, run
``generate_mask.py --config_file pisa_masks.jsonl``, then ``eval.py --config_file pisa_eval.jsonl``.
PISA's ``eval.py`` scores only the **last** object index of the masks (``mask[:, -1]``) as "the
dropping object" of a simulated clip. Its README says it supports 1:1 aspect ratios.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Sequence

import numpy as np

from simgen.errors import UserError
from simgen.export.base import Format
from simgen.export.folder import ExportFolder
from simgen.export.source import Light
from simgen.export.video import decoded_frames, jpeg, remux

MAX_POSITIVE = 3
MAX_NEGATIVE = 2
PREDICTIONS = "predictions"


def object_masks(masks: np.ndarray, n: int) -> np.ndarray:
    """uint8 id masks [T, H, W] (0 = background, k = object k) -> bool [T, N, H, W]."""
    ids = np.arange(1, n + 1, dtype=masks.dtype)
    return masks[:, None, :, :] == ids[None, :, None, None]


def prompt_points(mask: np.ndarray, n: int) -> list[dict]:
    """SAM 2 prompts for each object of one id mask [H, W]: positive points at the object's deepest
    interior pixels (distance transform maxima, spread apart), negative points on background pixels
    just outside its bounding box (the farthest background pixel when none is free there)."""
    from scipy import ndimage

    H, W = mask.shape
    yy, xx = np.ogrid[:H, :W]
    background = mask == 0
    out = []
    for k in range(1, n + 1):
        obj = mask == k
        if not obj.any():
            out.append({"positive": [], "negative": []})
            continue
        depth = ndimage.distance_transform_edt(obj)
        left = depth.copy()
        positive = []
        while len(positive) < MAX_POSITIVE and left.max() > 0:
            y, x = np.unravel_index(int(np.argmax(left)), left.shape)
            positive.append([int(x), int(y)])
            r = max(float(depth[y, x]), 2.0)
            left[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = 0
        ys, xs = np.nonzero(obj)
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        margin = max(3, int(round(0.25 * max(x1 - x0 + 1, y1 - y0 + 1))))
        cx, cy = int((x0 + x1) // 2), int((y0 + y1) // 2)
        negative = []
        for x, y in ((x0 - margin, cy), (x1 + margin, cy), (cx, y0 - margin), (cx, y1 + margin)):
            if len(negative) < MAX_NEGATIVE and 0 <= x < W and 0 <= y < H and background[y, x]:
                negative.append([int(x), int(y)])
        if not negative and background.any():
            far = ndimage.distance_transform_edt(background)
            y, x = np.unravel_index(int(np.argmax(far)), far.shape)
            negative.append([int(x), int(y)])
        out.append({"positive": positive, "negative": negative})
    return out


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


class Pisa(Format):
    name = "pisa"
    summary = "per sample %05d.jpg frames, mask.npz, clip_info.json (SAM 2 points) + eval JSONL (PISA)"
    columns = ("video", "masks")
    accepts = frozenset({"pred_fps"})

    def files(self, s: Light) -> list[str]:
        d = s.sample_id
        return [f"{d}/{t:05d}.jpg" for t in range(s.num_frames)] + [f"{d}/movie.mp4", f"{d}/mask.npz",
                                                                     f"{d}/clip_info.json"]

    def identity(self) -> dict:
        return {}  # --pred-fps only changes the index file, rewritten on every run

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        masks = row.get("masks")
        if masks is None:
            raise UserError(f"sample {s.sample_id} has no masks (generated with render.masks=false); "
                            "--format pisa needs them.")
        files = self.files(s)
        t = -1
        for t, rgb in enumerate(decoded_frames(row["video"])):
            folder.write_bytes(files[t], jpeg(rgb))
        if t + 1 != s.num_frames:
            raise UserError(f"sample {s.sample_id}: its video has {t + 1} frames, its row says {s.num_frames}.")
        mp4, how = remux(row["video"])
        folder.write_bytes(files[-3], mp4)
        folder.write_bytes(files[-2], npz_bytes(mask=object_masks(masks, s.num_objects)))
        points = prompt_points(masks[0], s.num_objects)
        info = {
            "sample_id": s.sample_id, "caption": s.caption, "fps": s.fps, "num_frames": s.num_frames,
            "width": s.width, "height": s.height, "num_objects": s.num_objects, "points": points,
            "note": "points: one entry per object in dataset order, [x, y] pixels on frame 0; "
                    "PISA's eval.py scores the last object index as the dropping object.",
        }
        folder.write_text(files[-1], json.dumps(info, indent=1) + "\n")
        return Counter({how: 1, "bytes": len(mp4), "unprompted": sum(1 for p in points if not p["positive"])})

    def check(self, metadata: Sequence[dict]) -> None:
        for md in metadata:
            if (md.get("config") or {}).get("render", {}).get("masks") is False:
                raise UserError(f"--format pisa needs instance masks, but the dataset of scene {md.get('scene')!r} "
                                "was generated with render.masks=false; regenerate it with masks.")

    def write_index(self, folder: ExportFolder, samples: Sequence[Light]) -> list[str]:
        ev, mk = [], []
        for s in samples:
            d = s.sample_id
            pred = f"{PREDICTIONS}/{d}"
            ev.append({"gt_mask": folder.display(f"{d}/mask.npz"), "gt_fps": s.fps,
                       "pd_mask": folder.display(f"{pred}/mask.npz"),
                       "pd_fps": self.options.pred_fps if self.options.pred_fps is not None else s.fps})
            mk.append({"video": folder.display(pred), "annotation": folder.display(f"{d}/clip_info.json"),
                       "mask": folder.display(f"{pred}/mask.npz")})
        folder.write_text("pisa_eval.jsonl", "".join(json.dumps(e) + "\n" for e in ev))
        folder.write_text("pisa_masks.jsonl", "".join(json.dumps(m) + "\n" for m in mk))
        return ["pisa_eval.jsonl", "pisa_masks.jsonl"]

    def notes(self, samples: Sequence[Light]) -> list[str]:
        out = ["PISA frames are JPEG (quality 95, re-encoded from the decoded video); mask.npz is exact. "
               "PISA's eval.py scores only the last object of each clip (mask[:, -1])."]
        wide = sum(1 for s in samples if s.width != s.height)
        if wide:
            out.append(f"{wide} clip(s) are not square; PISA's README says its evaluation supports 1:1 aspect ratios.")
        return out
