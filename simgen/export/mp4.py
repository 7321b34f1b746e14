"""``--format mp4``: ``<sample_id>.mp4`` and ``<sample_id>.json`` (the sample's ground truth), flat.

The JSON holds every column of the sample contract except the pixel cells (video, masks, depth):
arrays as nested lists in the README's units and layouts, NaN written as ``null``.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np

from simgen.export.base import Format
from simgen.export.folder import ExportFolder
from simgen.export.source import Light
from simgen.schema import HEAVY_COLUMNS, SCHEMA


def jsonable(value):
    """numpy arrays/scalars -> lists/numbers; NaN and inf -> None (strict JSON)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Mp4(Format):
    name = "mp4"
    summary = "<sample_id>.mp4 + <sample_id>.json ground truth"
    columns = tuple(c for c in SCHEMA.names if c not in HEAVY_COLUMNS or c == "video")

    def files(self, s: Light) -> list[str]:
        return [f"{s.sample_id}.mp4", f"{s.sample_id}.json"]

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        mp4, gt = self.files(s)
        stats = self.write_video(folder, mp4, s, row)
        truth = {k: v for k, v in row.items() if k not in HEAVY_COLUMNS}
        truth["video"] = mp4
        folder.write_text(gt, json.dumps(jsonable(truth), allow_nan=False, separators=(",", ":")) + "\n")
        return stats
