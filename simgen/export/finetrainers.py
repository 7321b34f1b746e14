"""``--format finetrainers``: finetrainers' two-file format::

    prompt.txt                 one caption per line
    videos.txt                 one path per line, relative to the folder, same order
    videos/<sample_id>.mp4

Train with ``--data_root <folder> --caption_column prompt.txt --video_column videos.txt``. A
caption's line breaks, if any, become spaces (one line per video).
"""

from __future__ import annotations

from typing import Sequence

from simgen.export.base import VideoFolder
from simgen.export.folder import ExportFolder
from simgen.export.source import Light


def one_line(text: str) -> str:
    return " ".join(text.split())


class Finetrainers(VideoFolder):
    name = "finetrainers"
    summary = "prompt.txt + videos.txt + videos/ (finetrainers)"
    accepts = frozenset({"frames"})

    def write_index(self, folder: ExportFolder, samples: Sequence[Light]) -> list[str]:
        folder.write_text("prompt.txt", "".join(one_line(s.caption) + "\n" for s in samples))
        folder.write_text("videos.txt", "".join(self.files(s)[0] + "\n" for s in samples))
        return ["prompt.txt", "videos.txt"]
