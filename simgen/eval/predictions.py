"""A model's predicted videos: where they are, how they are read, and how they are paired with the GT.

``PRED`` is either a folder of ``<sample_id>.mp4`` files or a Parquet dataset in simgen's schema (a
``.parquet`` file or a folder of them) with at least the columns ``sample_id`` and ``video`` (MP4 bytes;
an ``fps`` column is used when present). A prediction may have another frame rate, frame count or size
than its GT video:

- **frames** are paired as PISA does (``eval.py``): predicted frame ``i`` goes with GT frame
  ``int(i * gt_fps / pd_fps)``, for every ``i`` whose GT frame exists; later predicted frames are unused;
- **size**: predicted frames are resized to the GT's width x height (bilinear, PIL, antialiased when
  shrinking); predicted masks given with ``--masks`` are resized with nearest-neighbour sampling.

The frame rate of an MP4 is its stream's average rate (``--pred-fps`` overrides it, for files whose
container rate is not the model's). Every file is opened once before scoring starts, so an unreadable
one stops the run at once with its name.
"""

from __future__ import annotations

import glob
import io
import os
from dataclasses import dataclass

import numpy as np

from simgen.errors import UserError


@dataclass
class Prediction:
    frames: np.ndarray  # uint8 [T, H, W, 3] as read
    fps: float
    source: str  # file (and row) it came from


def _decode(data_or_path, what: str, first_only: bool = False) -> tuple[np.ndarray, float | None]:
    import av

    try:
        src = io.BytesIO(data_or_path) if isinstance(data_or_path, (bytes, bytearray)) else data_or_path
        with av.open(src, mode="r") as container:
            if not container.streams.video:
                raise UserError(f"prediction {what} has no video stream.")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            frames = []
            for f in container.decode(stream):
                frames.append(f.to_ndarray(format="rgb24"))
                if first_only:
                    break
    except UserError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise UserError(f"prediction {what} cannot be read as a video ({exc}).") from None
    if not frames:
        raise UserError(f"prediction {what} holds no video frames.")
    return np.stack(frames), (float(rate) if rate else None)


class PredictionSource:
    """Predicted videos by ``sample_id``."""

    kind = ""

    def __init__(self, path: str, fps: float | None = None):
        self.path, self.fps_override = path, fps

    def ids(self) -> list[str]:
        raise NotImplementedError

    def where(self, sample_id: str) -> str:
        raise NotImplementedError

    def _bytes_or_path(self, sample_id: str):
        raise NotImplementedError

    def _fps(self, sample_id: str, container_fps: float | None) -> float:
        fps = self.fps_override or container_fps
        if not fps or not np.isfinite(fps) or fps <= 0:
            raise UserError(f"prediction {self.where(sample_id)} has no frame rate; give it with --pred-fps.")
        return float(fps)

    def probe(self, sample_id: str) -> None:
        """Open the video and decode its first frame (raises UserError naming the file)."""
        _, fps = _decode(self._bytes_or_path(sample_id), self.where(sample_id), first_only=True)
        self._fps(sample_id, fps)

    def load(self, sample_id: str) -> Prediction:
        frames, fps = _decode(self._bytes_or_path(sample_id), self.where(sample_id))
        return Prediction(frames, self._fps(sample_id, fps), self.where(sample_id))


class Mp4Folder(PredictionSource):
    kind = "mp4 folder"

    def __init__(self, path: str, fps: float | None = None):
        super().__init__(path, fps)
        files = sorted(glob.glob(os.path.join(path, "*.mp4")))
        self._files = {os.path.splitext(os.path.basename(f))[0]: f for f in files}

    def ids(self) -> list[str]:
        return list(self._files)

    def where(self, sample_id: str) -> str:
        return self._files[sample_id]

    def _bytes_or_path(self, sample_id: str):
        return self._files[sample_id]


class ParquetPredictions(PredictionSource):
    """``sample_id`` + ``video`` (+ optional ``fps``) columns; rows are read one row group at a time."""

    kind = "parquet"

    def __init__(self, path: str, files: list[str], fps: float | None = None):
        import pyarrow.parquet as pq

        super().__init__(path, fps)
        self._index: dict[str, tuple[str, int, int]] = {}
        self._pf: dict[str, object] = {}
        for f in files:
            try:
                pf = pq.ParquetFile(f)
            except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
                raise UserError(f"prediction file {f} is not a readable Parquet file ({exc}).") from None
            names = pf.schema_arrow.names
            missing = [c for c in ("sample_id", "video") if c not in names]
            if missing:
                raise UserError(f"prediction file {f} lacks the column(s) {', '.join(missing)}; a Parquet prediction "
                                "set needs sample_id and video (MP4 bytes), fps optional.")
            self._pf[f] = pf
            self._has_fps = "fps" in names
            for g in range(pf.num_row_groups):
                ids = pf.read_row_group(g, columns=["sample_id"]).column(0).to_pylist()
                for r, sid in enumerate(ids):
                    self._index[str(sid)] = (f, g, r)

    def ids(self) -> list[str]:
        return list(self._index)

    def where(self, sample_id: str) -> str:
        f, _, _ = self._index[sample_id]
        return f"{f} (sample_id {sample_id})"

    def _row(self, sample_id: str) -> dict:
        f, g, r = self._index[sample_id]
        cols = ["video", "fps"] if self._has_fps else ["video"]
        t = self._pf[f].read_row_group(g, columns=cols)
        return {c: t.column(c)[r].as_py() for c in cols}

    def _bytes_or_path(self, sample_id: str):
        data = self._row(sample_id)["video"]
        if not data:
            raise UserError(f"prediction {self.where(sample_id)} has an empty video cell.")
        return data

    def load(self, sample_id: str) -> Prediction:
        row = self._row(sample_id)
        if not row["video"]:
            raise UserError(f"prediction {self.where(sample_id)} has an empty video cell.")
        frames, fps = _decode(row["video"], self.where(sample_id))
        fps = self._fps(sample_id, self.fps_override or row.get("fps") or fps)
        return Prediction(frames, fps, self.where(sample_id))


def open_predictions(path: str, fps: float | None = None) -> PredictionSource:
    """A folder of ``<sample_id>.mp4``, or a Parquet file / folder of Parquet files."""
    if os.path.isfile(path):
        if path.endswith(".parquet"):
            return ParquetPredictions(path, [path], fps)
        raise UserError(f"PRED {path!r} is a file but not .parquet; give a folder of <sample_id>.mp4 files or a "
                        "Parquet dataset (a .parquet file or a folder of them) with sample_id and video columns.")
    if not os.path.isdir(path):
        raise UserError(f"PRED {path!r} does not exist; give a folder of <sample_id>.mp4 files or a Parquet dataset.")
    mp4 = glob.glob(os.path.join(path, "*.mp4"))
    pq_files = sorted(f for f in glob.glob(os.path.join(path, "*.parquet")) if not os.path.basename(f).startswith("."))
    if mp4 and pq_files:
        raise UserError(f"PRED {path!r} holds both .mp4 and .parquet files; put one kind of prediction in a folder.")
    if mp4:
        return Mp4Folder(path, fps)
    if pq_files:
        return ParquetPredictions(path, pq_files, fps)
    raise UserError(f"PRED {path!r} holds no <sample_id>.mp4 and no .parquet files.")


def pair_frames(n_pd: int, pd_fps: float, n_gt: int, gt_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(predicted frame indices, GT frame indices): PISA's ``int(i * gt_fps / pd_fps)`` pairing."""
    gt_idx = np.array([int(i * (gt_fps / pd_fps)) for i in range(n_pd)], np.int64)
    keep = gt_idx < n_gt
    return np.nonzero(keep)[0], gt_idx[keep]


def resize_video(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 [T, h, w, 3] -> [T, height, width, 3], bilinear (antialiased when shrinking)."""
    if frames.shape[1:3] == (height, width):
        return frames
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.BILINEAR)) for f in frames])


def resize_masks(masks: np.ndarray, height: int, width: int) -> np.ndarray:
    """bool [..., h, w] -> [..., height, width], nearest neighbour (pixel centres)."""
    h, w = masks.shape[-2:]
    if (h, w) == (height, width):
        return masks
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.int64), w - 1)
    return masks[..., rows[:, None], cols[None, :]]


def load_masks(folder: str, sample_id: str, n_objects: int) -> np.ndarray | None:
    """``<folder>/<sample_id>.npz`` key ``mask``: bool [T, N, H, W] (PISA's SAM2 layout, objects in GT order);
    a [T, H, W] array is one object. None when the file is absent."""
    path = os.path.join(folder, f"{sample_id}.npz")
    if not os.path.exists(path):
        return None
    try:
        with np.load(path) as z:
            if "mask" not in z.files:
                raise UserError(f"mask file {path} has no 'mask' array (found: {', '.join(z.files) or 'none'}); "
                                "expected bool [T, N, H, W].")
            m = np.asarray(z["mask"])
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"mask file {path} cannot be read ({exc}).") from None
    if m.ndim == 3:
        m = m[:, None]
    if m.ndim != 4 or m.shape[1] != n_objects:
        raise UserError(f"mask file {path} has shape {m.shape}; expected [T, {n_objects}, H, W] "
                        f"(one mask per GT object, in GT order).")
    return m.astype(bool)
