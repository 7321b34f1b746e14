"""What every export format shares: its options, the files it writes per sample, its index files.

A format writes each sample's files in :meth:`Format.write` (in a worker process; the last file of
:meth:`Format.files` is written last and marks the sample finished for a resumed run) and the
whole-export index files (CSV, JSONL, ...) in :meth:`Format.write_index` (in the parent, once every
sample is written).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Sequence

from simgen.errors import UserError
from simgen.export.folder import ExportFolder
from simgen.export.source import Light
from simgen.export.video import COPY, TRIM_COPY, TRIM_LOSSLESS, largest_4k1, remux

FRAMES_CHOICES = ("all", "4k+1")


@dataclass(frozen=True)
class Options:
    """Format options from the command line (None / defaults when not given)."""

    frames: str = "all"  # "all" or "4k+1": keep the first largest-4k+1 frames
    first_frame: bool = False  # diffsynth: also write frame 0 as a PNG (input_image)
    min_frames: int | None = None  # cosmos: warn when clips are not longer than this
    pred_fps: float | None = None  # pisa: fps of the predicted videos in the eval configs


# which format accepts which non-default option (flag name for messages)
OPTION_FLAGS = {"frames": "--frames", "first_frame": "--first-frame", "min_frames": "--min-frames",
                "pred_fps": "--pred-fps"}


class Format:
    name = ""
    summary = ""
    columns: tuple[str, ...] = ("video",)  # cells a worker reads per sample (ids and shapes come along)
    accepts: frozenset = frozenset()  # option names this format takes

    def __init__(self, options: Options):
        self.options = options
        given = {k for k, v in asdict(options).items() if v != getattr(Options, k)}
        bad = sorted(given - set(self.accepts))
        if bad:
            from simgen.export.formats import formats_accepting

            flag = OPTION_FLAGS[bad[0]]
            raise UserError(f"{flag} does not apply to --format {self.name}; it is taken by --format "
                            f"{' / '.join(formats_accepting(bad[0]))}.")
        if options.frames not in FRAMES_CHOICES:
            raise UserError(f"--frames {options.frames!r} is not allowed: use 'all' or '4k+1'.")

    # -- per sample (worker) -------------------------------------------------------------------
    def files(self, s: Light) -> list[str]:
        """Relative paths written for sample ``s``; the last one is written last."""
        raise NotImplementedError

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        raise NotImplementedError

    # -- whole export (parent) -----------------------------------------------------------------
    def check(self, metadata: Sequence[dict]) -> None:
        """Refuse datasets this format cannot export (``metadata``: each input's shard metadata)."""

    def write_index(self, folder: ExportFolder, samples: Sequence[Light]) -> list[str]:
        """Write the index files; return their relative paths."""
        return []

    def notes(self, samples: Sequence[Light]) -> list[str]:
        """Warnings and facts to print before the export starts."""
        return trim_notes(self, samples) if "frames" in self.accepts else []

    def identity(self) -> dict:
        """The options that change what is written (a rerun with others is another export)."""
        return {k: v for k, v in asdict(self.options).items() if k in self.accepts}

    # -- helpers -------------------------------------------------------------------------------
    def out_frames(self, s: Light) -> int:
        return largest_4k1(s.num_frames) if self.options.frames == "4k+1" else s.num_frames

    def write_video(self, folder: ExportFolder, rel: str, s: Light, row: dict) -> Counter:
        data = row.get("video")
        if data is None:
            raise UserError(f"sample {s.sample_id} has no video cell.")
        mp4, how = remux(data, self.out_frames(s))
        folder.write_bytes(rel, mp4)
        return Counter({how: 1, "bytes": len(mp4)})


class VideoFolder(Format):
    """A format whose only per-sample file is ``videos/<sample_id>.mp4``."""

    def files(self, s: Light) -> list[str]:
        return [f"videos/{s.sample_id}.mp4"]

    def write(self, folder: ExportFolder, s: Light, row: dict) -> Counter:
        return self.write_video(folder, self.files(s)[0], s, row)


def trim_notes(fmt: Format, samples: Sequence[Light]) -> list[str]:
    counts = Counter(s.num_frames for s in samples)
    if fmt.options.frames == "4k+1":
        cut = {t: largest_4k1(t) for t in counts if largest_4k1(t) != t}
        if not cut:
            return [f"--frames 4k+1: every clip already has 4k+1 frames ({', '.join(map(str, sorted(counts)))}); "
                    "nothing is cut."]
        return [f"--frames 4k+1: clips of {t} frames are cut to their first {n} (the largest 4k+1 count), "
                f"{counts[t]} clip(s); a cut inside a B-frame group is re-encoded losslessly (same frames)."
                for t, n in sorted(cut.items())]
    off = sorted(t for t in counts if largest_4k1(t) != t)
    if off:
        return [f"clips have {', '.join(map(str, off))} frames, not 4k+1 (Wan / HunyuanVideo take 4k+1: "
                f"{', '.join(str(largest_4k1(t)) for t in off)}); the trainer cuts them itself, or pass "
                "--frames 4k+1 to cut them here, or generate with render.frames=4k+1 (e.g. 81)."]
    return []


def how_summary(stats: Counter) -> str:
    parts = []
    if stats[COPY]:
        parts.append(f"{stats[COPY]} stream-copied")
    if stats[TRIM_COPY]:
        parts.append(f"{stats[TRIM_COPY]} stream-copied without their last frames")
    if stats[TRIM_LOSSLESS]:
        parts.append(f"{stats[TRIM_LOSSLESS]} re-encoded losslessly (cut inside a B-frame group; x264 qp 0, "
                     "High 4:4:4 profile, frames unchanged)")
    return ", ".join(parts)
