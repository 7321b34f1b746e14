"""``--format cosmos``: the layout of Cosmos-Predict2.5's local video dataset
(``cosmos_predict2/_src/predict2/datasets/local_datasets/dataset_video.py``)::

    videos/<sample_id>.mp4
    metas/<sample_id>.txt      the caption

Its loader draws a clip start with ``np.random.randint(0, total - num_frames)``, which needs
``total > num_frames``: a video must be *longer* than the training ``num_frames`` (93 in the
Cosmos-Predict2.5 post-training example). The export warns when clips are not longer than
``--min-frames`` (default 93).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from simgen.export.base import Format
from simgen.export.folder import ExportFolder
from simgen.export.source import Light

DEFAULT_MIN_FRAMES = 93  # num_frames of Cosmos-Predict2.5's Video2World post-training example


class Cosmos(Format):
    name = "cosmos"
    summary = "videos/<id>.mp4 + metas/<id>.txt (Cosmos-Predict2.5 local video dataset)"
    accepts = frozenset({"min_frames"})

    def files(self, s: Light) -> list[str]:
        return [f"videos/{s.sample_id}.mp4", f"metas/{s.sample_id}.txt"]

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        video, meta = self.files(s)
        stats = self.write_video(folder, video, s, row)
        folder.write_text(meta, s.caption.strip() + "\n")
        return stats

    def identity(self) -> dict:
        return {}  # --min-frames only changes a warning

    def notes(self, samples: Sequence[Light]) -> list[str]:
        need = self.options.min_frames if self.options.min_frames is not None else DEFAULT_MIN_FRAMES
        short = Counter(s.num_frames for s in samples if s.num_frames <= need)
        if not short:
            return []
        return [f"warning: {sum(short.values())} of {len(samples)} clip(s) have {', '.join(map(str, sorted(short)))} "
                f"frame(s), not more than --min-frames {need}: Cosmos-Predict2.5's loader draws a start with "
                f"np.random.randint(0, frames - num_frames) and fails unless frames > num_frames. Generate longer "
                f"clips (e.g. render.frames=121) or train with num_frames < {min(short)}."]
