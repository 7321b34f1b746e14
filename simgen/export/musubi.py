"""``--format musubi``: musubi-tuner's video dataset with a metadata JSONL (``docs/dataset_config.md``)::

    metadata.jsonl             {"video_path": "videos/<sample_id>.mp4", "caption": "..."} per line
    videos/<sample_id>.mp4

Paths are relative to the folder: musubi-tuner resolves a relative ``video_path`` against the
working directory, then against the JSONL's folder. HunyuanVideo and Wan take N*4+1 frames;
``--frames 4k+1`` cuts each clip to the largest such count here.
"""

from __future__ import annotations

import json
from typing import Sequence

from simgen.export.base import VideoFolder
from simgen.export.folder import ExportFolder
from simgen.export.source import Light


class Musubi(VideoFolder):
    name = "musubi"
    summary = "metadata.jsonl {video_path, caption} + videos/ (musubi-tuner)"
    accepts = frozenset({"frames"})

    def write_index(self, folder: ExportFolder, samples: Sequence[Light]) -> list[str]:
        lines = [json.dumps({"video_path": self.files(s)[0], "caption": s.caption}, ensure_ascii=False)
                 for s in samples]
        folder.write_text("metadata.jsonl", "\n".join(lines) + "\n")
        return ["metadata.jsonl"]
