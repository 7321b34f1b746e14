"""``--format diffsynth``: DiffSynth-Studio's video dataset (Wan training, ``UnifiedDataset``)::

    metadata.csv               video,prompt[,input_image]   paths relative to this folder
    videos/<sample_id>.mp4
    images/<sample_id>.png     frame 0, with --first-frame (image-to-video)

Give the folder as ``--dataset_base_path`` and the CSV as ``--dataset_metadata_path``. DiffSynth's
loader reads the first ``--num_frames`` frames (81 by default) and cuts a shorter video to 4k+1.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Sequence

from simgen.export.base import Format
from simgen.export.folder import ExportFolder
from simgen.export.source import Light
from simgen.export.video import first_frame_png


class DiffSynth(Format):
    name = "diffsynth"
    summary = "metadata.csv (video,prompt[,input_image]) + videos/ (DiffSynth-Studio, Wan)"
    accepts = frozenset({"frames", "first_frame"})

    def files(self, s: Light) -> list[str]:
        out = [f"videos/{s.sample_id}.mp4"]
        if self.options.first_frame:
            out.append(f"images/{s.sample_id}.png")
        return out

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        files = self.files(s)
        stats = self.write_video(folder, files[0], s, row)
        if self.options.first_frame:
            folder.write_bytes(files[1], first_frame_png(row["video"]))
        return stats

    def write_index(self, folder: ExportFolder, samples: Sequence[Light]) -> list[str]:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = ["video", "prompt"] + (["input_image"] if self.options.first_frame else [])
        w.writerow(cols)
        for s in samples:
            files = self.files(s)
            w.writerow([files[0], s.caption] + files[1:])
        folder.write_text("metadata.csv", buf.getvalue())
        return ["metadata.csv"]
