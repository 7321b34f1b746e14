"""PyTorch datasets over simgen shards: map-style and streaming, clip sampling, tensors, collate.

This module needs ``torch`` (``pip install simgen[torch]``); ``import simgen`` never imports it.

Two datasets, one per-sample pipeline (read -> pick frames -> decode only those -> resize/crop
-> tensors):

* :class:`SimgenTorchDataset` -- map-style: ``ds[i]`` reads one Parquet row group (one sample)
  through :class:`simgen.data.SimgenDataset`; files are opened lazily in each worker process.
  Use it with ``DataLoader(shuffle=True)`` or ``DistributedSampler``.
* :class:`SimgenIterableDataset` -- streaming: reads shards sequentially (shard order permuted
  by ``seed + epoch``), mixes through a shuffle buffer of *encoded* rows (cheap in memory; decode
  happens when a sample leaves the buffer), and splits the epoch across DataLoader workers *and*
  distributed ranks so every sample is yielded exactly once per epoch over
  ``world_size x num_workers`` consumers.

Tensor layouts (see README "PyTorch"):

============================  =================================  ===============================
key                           shape                              dtype
============================  =================================  ===============================
``video``                     [T, 3, H, W]                       uint8 (default) or float in [0, 1]
``masks``                     [T, H, W]                          uint8 (default) or int64; 0 = bg
``depth``                     [T, H, W]                          float32, metres along optical axis
``flow`` (opt-in)             [T, H, W, 2]                       float32, pixels of the output frame
``positions`` & velocities    [T, N, 3]                          float32, world frame
``quaternions``               [T, N, 4]                          float32, (x, y, z, w)
``centroid_2d``               [T, N, 2]                          float32, pixels of the output frame
``bbox_2d``                   [T, N, 4]                          float32, (x0, y0, x1, y1) incl., -1 = hidden
``visible_pixels``            [T, N]                             int64
``mass`` ... ``restitution``  [N]                                float32
``intrinsics``                [3, 3]                             float32, of the output frame
``cam_to_world``              [T, 4, 4]                          float32, OpenCV convention
``frame_indices``             [T]                                int64, frames of the source video
============================  =================================  ===============================

Strings (``sample_id``, ``caption``, ...) stay Python objects. :func:`collate` batches samples
with different object counts by zero-padding the object axis and adding ``object_valid [B, Nmax]``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from simgen.data import SimgenDataset, decode_row
from simgen.errors import UserError

__all__ = [
    "ClipSpec",
    "SimgenTorchDataset",
    "SimgenIterableDataset",
    "collate",
    "to_torch",
    "apply_clip",
    "OBJECT_AXIS",
]

# Per-object keys and the axis that indexes objects (padded by `collate`).
OBJECT_AXIS: dict[str, int] = {
    "positions": 1,
    "quaternions": 1,
    "linear_velocity": 1,
    "angular_velocity": 1,
    "linear_acceleration": 1,
    "visible_fraction": 1,
    "centroid_2d": 1,
    "bbox_2d": 1,
    "visible_pixels": 1,
    "mass": 0,
    "friction": 0,
    "restitution": 0,
    "inertia": 0,
    "object_color": 0,
    "first_contact_frame": 0,
}
# Keys with a leading frame axis (sliced by clip sampling). Columns added to the schema later as
# ``list<list<...>>`` ([T][N]...) are recognised as per-frame too (see :func:`_frame_major`).
FRAME_KEYS = (
    "video", "masks", "depth", "flow", "times", "positions", "quaternions", "linear_velocity",
    "angular_velocity", "linear_acceleration", "centroid_2d", "bbox_2d", "visible_pixels",
    "visible_fraction", "cam_to_world",
)


def _frame_major(name: str, value: Any, T: int, N: int) -> bool:
    """Whether ``value`` is indexed by frame first: a known per-frame key, or a numpy array of shape
    [T, N, ...] from a ``list<list<...>>`` column of the schema."""
    if not isinstance(value, np.ndarray) or value.ndim < 1 or value.shape[0] != T:
        return False
    if name in FRAME_KEYS:
        return True
    from simgen.schema import SCHEMA

    if name not in SCHEMA.names or value.ndim < 2 or value.shape[1] != N:
        return False
    t = SCHEMA.field(name).type
    return pa_is_list(t) and pa_is_list(t.value_type)


def pa_is_list(t) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


# ---------------------------------------------------------------------------------------------
# Clip sampling and geometry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSpec:
    """How one sample becomes one training clip.

    ``frames``: clip length (None = all frames); ``stride``: step between source frames;
    ``start``: ``"first"`` (frame 0) or ``"random"`` (uniform over valid starts, drawn from a
    generator seeded by ``(seed, epoch, index)``); ``size``: output ``(H, W)`` or an int for a
    square (None = keep); ``crop``: ``"center"`` or ``"random"`` (scale to cover ``size``
    keeping the aspect ratio, then crop) or ``"none"`` (stretch to ``size``). ``flow`` stays the
    flow of each kept source frame to the next source frame (with ``stride`` > 1 it is not the
    motion between consecutive clip frames).
    """

    frames: int | None = None
    stride: int = 1
    start: str = "first"
    size: tuple[int, int] | None = None
    crop: str = "center"

    def __post_init__(self):
        if self.frames is not None and (not isinstance(self.frames, (int, np.integer)) or self.frames < 1):
            raise UserError(f"frames={self.frames!r} is not allowed: give a positive number of frames or None (all).")
        if not isinstance(self.stride, (int, np.integer)) or self.stride < 1:
            raise UserError(f"stride={self.stride!r} is not allowed: give a positive integer.")
        if self.start not in ("first", "random"):
            raise UserError(f"start={self.start!r} is not allowed: use 'first' or 'random'.")
        if self.crop not in ("center", "random", "none"):
            raise UserError(f"crop={self.crop!r} is not allowed: use 'center', 'random' or 'none'.")
        if self.size is not None:
            size = (self.size, self.size) if isinstance(self.size, (int, np.integer)) else tuple(self.size)
            if len(size) != 2 or any((not isinstance(s, (int, np.integer))) or s < 1 for s in size):
                raise UserError(f"size={self.size!r} is not allowed: give an int or (height, width) of positive ints.")
            object.__setattr__(self, "size", (int(size[0]), int(size[1])))

    def frame_indices(self, num_frames: int, rng: np.random.Generator | None) -> np.ndarray:
        if self.frames is None:
            return np.arange(0, num_frames, self.stride)
        span = (self.frames - 1) * self.stride + 1
        if span > num_frames:
            raise UserError(
                f"A clip of frames={self.frames} with stride={self.stride} spans {span} frames but the sample "
                f"has only {num_frames}; lower frames= or stride=."
            )
        start = 0
        if self.start == "random":
            start = int(rng.integers(0, num_frames - span + 1))
        return start + self.stride * np.arange(self.frames)

    def geometry(self, height: int, width: int, rng: np.random.Generator | None) -> "_Geometry":
        """Scale and crop that map a ``height x width`` frame to the output size."""
        if self.size is None:
            return _Geometry(height, width, height, width, 0, 0, height, width)
        oh, ow = self.size
        if self.crop == "none":
            return _Geometry(height, width, oh, ow, 0, 0, oh, ow)
        s = max(oh / height, ow / width)
        rh, rw = max(oh, round(height * s)), max(ow, round(width * s))
        if self.crop == "center":
            y0, x0 = (rh - oh) // 2, (rw - ow) // 2
        else:
            y0 = int(rng.integers(0, rh - oh + 1))
            x0 = int(rng.integers(0, rw - ow + 1))
        return _Geometry(height, width, rh, rw, y0, x0, oh, ow)


@dataclass(frozen=True)
class _Geometry:
    """Resize ``(h, w) -> (rh, rw)`` then crop ``[y0:y0+oh, x0:x0+ow]``.

    Pixel centres sit at integer coordinates (OpenCV), so a point maps as
    ``u' = (u + 0.5) * rw / w - 0.5 - x0`` -- the same mapping ``interpolate`` uses for bilinear
    (``align_corners=False``) and ``nearest-exact`` resampling.
    """

    h: int
    w: int
    rh: int
    rw: int
    y0: int
    x0: int
    oh: int
    ow: int

    @property
    def identity(self) -> bool:
        return (self.h, self.w) == (self.rh, self.rw) == (self.oh, self.ow)

    @property
    def sx(self) -> float:
        return self.rw / self.w

    @property
    def sy(self) -> float:
        return self.rh / self.h

    def points(self, uv: np.ndarray) -> np.ndarray:
        out = np.array(uv, dtype=np.float32, copy=True)
        out[..., 0] = (out[..., 0] + 0.5) * self.sx - 0.5 - self.x0
        out[..., 1] = (out[..., 1] + 0.5) * self.sy - 0.5 - self.y0
        return out

    def intrinsics(self, k: np.ndarray) -> np.ndarray:
        a = np.array([[self.sx, 0, 0.5 * self.sx - 0.5 - self.x0],
                      [0, self.sy, 0.5 * self.sy - 0.5 - self.y0],
                      [0, 0, 1]], np.float64)
        return (a @ np.asarray(k, np.float64)).astype(np.float32)

    def boxes(self, b: np.ndarray) -> np.ndarray:
        """Inclusive pixel boxes through scale + crop (used when masks were not loaded)."""
        b = np.asarray(b, np.float32)
        out = np.full_like(b, -1.0)
        valid = b[..., 0] >= 0
        x0 = np.floor(b[..., 0] * self.sx + 1e-4) - self.x0
        y0 = np.floor(b[..., 1] * self.sy + 1e-4) - self.y0
        x1 = np.ceil((b[..., 2] + 1) * self.sx - 1e-4) - 1 - self.x0
        y1 = np.ceil((b[..., 3] + 1) * self.sy - 1e-4) - 1 - self.y0
        x0c, y0c = np.clip(x0, 0, self.ow - 1), np.clip(y0, 0, self.oh - 1)
        x1c, y1c = np.clip(x1, 0, self.ow - 1), np.clip(y1, 0, self.oh - 1)
        inside = valid & (x1 >= 0) & (y1 >= 0) & (x0 <= self.ow - 1) & (y0 <= self.oh - 1)
        out[..., 0] = np.where(inside, x0c, -1)
        out[..., 1] = np.where(inside, y0c, -1)
        out[..., 2] = np.where(inside, x1c, -1)
        out[..., 3] = np.where(inside, y1c, -1)
        return out


def _resize(t: torch.Tensor, g: _Geometry, mode: str) -> torch.Tensor:
    """t: [T, C, H, W] -> resized and cropped [T, C, oh, ow]."""
    if (g.rh, g.rw) != (g.h, g.w):
        if mode == "bilinear":
            t = F.interpolate(t, size=(g.rh, g.rw), mode="bilinear", align_corners=False,
                              antialias=g.rh < g.h or g.rw < g.w)
        else:
            t = F.interpolate(t, size=(g.rh, g.rw), mode="nearest-exact")
    return t[..., g.y0 : g.y0 + g.oh, g.x0 : g.x0 + g.ow]


def _mask_stats(masks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """visible pixels [T, N] and inclusive boxes [T, N, 4] (-1 where hidden) from id masks."""
    T, H, W = masks.shape
    counts = np.zeros((T, n), np.int64)
    boxes = np.full((T, n, 4), -1.0, np.float32)
    for t in range(T):
        m = masks[t]
        counts[t] = np.bincount(m.ravel(), minlength=n + 1)[1 : n + 1]
        rows = np.stack([(m == k + 1).any(axis=1) for k in range(n)]) if n else np.zeros((0, H), bool)
        cols = np.stack([(m == k + 1).any(axis=0) for k in range(n)]) if n else np.zeros((0, W), bool)
        for k in range(n):
            if counts[t, k]:
                ys, xs = np.flatnonzero(rows[k]), np.flatnonzero(cols[k])
                boxes[t, k] = (xs[0], ys[0], xs[-1], ys[-1])
    return counts, boxes


def decode_frames(data: bytes, indices: Sequence[int], threads: int = 1, layout: str = "tchw") -> np.ndarray:
    """Decode only the frames ``indices`` of an MP4 cell -> uint8 ``[len, 3, H, W]`` (``layout="tchw"``)
    or ``[len, H, W, 3]`` (``"thwc"``), RGB.

    Stops decoding after the last wanted frame and converts only the frames kept. The channel-first
    layout is written plane by plane (FFmpeg's planar GBR output), which costs the same as packed RGB
    and saves the ``[T,H,W,3] -> [T,3,H,W]`` transpose copy (about 40% of a 256x256x32 clip)."""
    import av

    indices = [int(i) for i in indices]
    slots: dict[int, list[int]] = {}
    for j, i in enumerate(indices):
        slots.setdefault(i, []).append(j)
    last = max(indices)
    out = None
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = max(1, int(threads))
            for i, frame in enumerate(container.decode(stream)):
                if i in slots:
                    H, W = frame.height, frame.width
                    if out is None:
                        shape = (len(indices), 3, H, W) if layout == "tchw" else (len(indices), H, W, 3)
                        out = np.empty(shape, np.uint8)
                    if layout == "tchw":
                        g = frame.reformat(format="gbrp")
                        planes = [np.frombuffer(g.planes[k], np.uint8).reshape(H, -1)[:, :W] for k in (2, 0, 1)]
                        for j in slots.pop(i):
                            for ch in range(3):
                                out[j, ch] = planes[ch]
                    else:
                        rgb = frame.to_ndarray(format="rgb24")
                        for j in slots.pop(i):
                            out[j] = rgb
                if i >= last:
                    break
    except av.error.FFmpegError as exc:
        raise UserError(f"cannot decode a video cell: {exc}") from None
    if slots:
        raise UserError(f"the video cell has fewer frames than requested (missing frame {min(slots)}).")
    return out


def apply_clip(sample: dict[str, Any], clip: ClipSpec, rng: np.random.Generator | None,
               video_bytes: bytes | None = None, decode_threads: int = 1) -> dict[str, Any]:
    """Pick frames and resize/crop one numpy sample (from :func:`simgen.data.decode_row`).

    ``video_bytes``: when given, only the clip's frames are decoded from it. Returns numpy arrays
    with the video channel-first, ``[T, 3, H, W]`` uint8;
    masks, depth and flow are resampled with nearest-exact (flow vectors scaled with the image), the
    video bilinearly (antialiased when shrinking); ``centroid_2d``, ``intrinsics`` and ``bbox_2d``
    follow the same pixel mapping
    (boxes and ``visible_pixels`` are recomputed from the resampled masks when masks are loaded)."""
    out = dict(sample)
    T = int(sample["num_frames"])
    idx = clip.frame_indices(T, rng)
    out["frame_indices"] = idx.astype(np.int64)
    if video_bytes is not None:
        out["video"] = decode_frames(video_bytes, idx, threads=decode_threads, layout="tchw")
    elif isinstance(out.get("video"), np.ndarray):  # decoded [T,H,W,3] from the numpy reader
        out["video"] = np.ascontiguousarray(out["video"][idx].transpose(0, 3, 1, 2))
    n = int(sample.get("num_objects") or 0)
    for k, v in list(out.items()):
        if k != "video" and _frame_major(k, v, T, n):
            out[k] = v[idx]
    g = clip.geometry(int(sample["height"]), int(sample["width"]), rng)
    out["height"], out["width"], out["num_frames"] = g.oh, g.ow, len(idx)
    if g.identity:
        return out
    if isinstance(out.get("video"), np.ndarray):
        v = torch.from_numpy(out["video"]).float()
        out["video"] = _resize(v, g, "bilinear").round_().clamp_(0, 255).to(torch.uint8).contiguous().numpy()
    if isinstance(out.get("masks"), np.ndarray):
        m = torch.from_numpy(np.ascontiguousarray(out["masks"])).unsqueeze(1)
        out["masks"] = _resize(m.float(), g, "nearest").squeeze(1).to(torch.uint8).contiguous().numpy()
    if isinstance(out.get("depth"), np.ndarray):
        d = torch.from_numpy(np.ascontiguousarray(out["depth"], np.float32)).unsqueeze(1)
        out["depth"] = _resize(d, g, "nearest").squeeze(1).contiguous().numpy()
    if isinstance(out.get("flow"), np.ndarray):  # nearest (no blend across motion edges), vectors scaled
        f = torch.from_numpy(np.ascontiguousarray(out["flow"], np.float32)).permute(0, 3, 1, 2)
        f = _resize(f, g, "nearest") * torch.tensor([g.sx, g.sy]).view(1, 2, 1, 1)
        out["flow"] = f.permute(0, 2, 3, 1).contiguous().numpy()
    if "centroid_2d" in out and out["centroid_2d"] is not None:
        out["centroid_2d"] = g.points(out["centroid_2d"])
    if "intrinsics" in out and out["intrinsics"] is not None:
        out["intrinsics"] = g.intrinsics(out["intrinsics"])
    if isinstance(out.get("masks"), np.ndarray):
        counts, boxes = _mask_stats(out["masks"], n)
        if "bbox_2d" in out:
            out["bbox_2d"] = boxes
        if "visible_pixels" in out:
            out["visible_pixels"] = counts
    elif isinstance(out.get("bbox_2d"), np.ndarray):
        out["bbox_2d"] = g.boxes(out["bbox_2d"])
        out.pop("visible_pixels", None)  # not derivable without masks
    return out


# ---------------------------------------------------------------------------------------------
# numpy sample -> tensors, and batching
# ---------------------------------------------------------------------------------------------


def _owned(a: np.ndarray) -> np.ndarray:
    """``a`` if torch may wrap it (writeable, contiguous), else a copy."""
    return a if (a.flags.writeable and a.flags.c_contiguous) else np.array(a, copy=True, order="C")


def to_torch(sample: dict[str, Any], video_dtype: torch.dtype = torch.uint8,
             mask_dtype: torch.dtype = torch.uint8) -> dict[str, Any]:
    """numpy sample from :func:`apply_clip` (video already ``[T,3,H,W]``) -> tensors in trainer
    layout: video [T,3,H,W] (uint8, or float in [0,1] for a
    floating ``video_dtype``), masks [T,H,W] ``mask_dtype``, arrays as float32/int64 tensors."""
    out: dict[str, Any] = {}
    for k, v in sample.items():
        if k == "video" and isinstance(v, np.ndarray):  # [T,3,H,W] from apply_clip
            t = torch.from_numpy(_owned(v))
            out[k] = t if video_dtype == torch.uint8 else t.to(video_dtype).div_(255.0)
        elif k == "masks" and isinstance(v, np.ndarray):
            out[k] = torch.from_numpy(_owned(v)).to(mask_dtype)
        elif isinstance(v, np.ndarray):
            if v.dtype.kind == "f":
                out[k] = torch.from_numpy(np.array(v, np.float32, copy=True))
            elif v.dtype.kind in "iu":
                out[k] = torch.from_numpy(np.array(v, np.int64, copy=True))
            else:
                out[k] = v
        elif k == "contacts" and isinstance(v, dict):
            out[k] = {kk: torch.from_numpy(np.array(vv, copy=True)) for kk, vv in v.items()}
        else:
            out[k] = v
    return out


def _object_axis(key: str, vals: list, nobj: list[int]) -> int | None:
    """Axis that indexes objects: from :data:`OBJECT_AXIS`, else the single axis along which the
    shapes differ with sizes equal to each sample's ``num_objects`` (new per-object columns)."""
    if key in OBJECT_AXIS:
        return OBJECT_AXIS[key]
    shapes = [tuple(v.shape) for v in vals]
    if len(set(shapes)) < 2 or len({len(s) for s in shapes}) != 1:
        return None
    axes = [a for a in range(len(shapes[0])) if len({s[a] for s in shapes}) > 1]
    if len(axes) == 1 and all(s[axes[0]] == n for s, n in zip(shapes, nobj)):
        return axes[0]
    return None


def collate(batch: list[dict[str, Any]], pad_value: float = 0.0) -> dict[str, Any]:
    """Batch samples from these datasets.

    Tensors are stacked; per-object tensors (:data:`OBJECT_AXIS`) are padded with ``pad_value``
    to the largest object count in the batch and ``object_valid`` [B, Nmax] (bool) marks the real
    objects. Numbers become tensors; strings and other objects become lists. Frames and image
    sizes must agree across the batch (use ``frames=`` and ``size=``)."""
    if not batch:
        return {}
    keys = list(batch[0].keys())
    out: dict[str, Any] = {}
    nobj = [int(b.get("num_objects", 0) or 0) for b in batch]
    nmax = max(nobj) if nobj else 0
    for k in keys:
        vals = [b.get(k) for b in batch]
        first = vals[0]
        ax = _object_axis(k, vals, nobj) if isinstance(first, torch.Tensor) else None
        if ax is not None:
            padded = []
            for v in vals:
                pad = nmax - v.shape[ax]
                if pad:
                    shape = list(v.shape)
                    shape[ax] = pad
                    v = torch.cat([v, torch.full(shape, pad_value, dtype=v.dtype)], dim=ax)
                padded.append(v)
            out[k] = torch.stack(padded)
        elif isinstance(first, torch.Tensor):
            shapes = {tuple(v.shape) for v in vals}
            if len(shapes) > 1:
                raise UserError(
                    f"Cannot batch {k!r}: shapes differ across the batch {sorted(shapes)}; "
                    "set frames= and size= on the dataset so every clip has the same shape."
                )
            out[k] = torch.stack(vals)
        elif isinstance(first, bool) or first is None:
            out[k] = vals
        elif isinstance(first, (int, np.integer)) and all(isinstance(v, (int, np.integer)) for v in vals):
            out[k] = torch.tensor([int(v) for v in vals], dtype=torch.int64)
        elif isinstance(first, (float, np.floating)) and all(isinstance(v, (int, float, np.number)) for v in vals):
            out[k] = torch.tensor([float(v) for v in vals], dtype=torch.float64)
        else:
            out[k] = vals
    valid = torch.zeros((len(batch), nmax), dtype=torch.bool)
    for i, n in enumerate(nobj):
        valid[i, :n] = True
    out["object_valid"] = valid
    return out


# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------


class _SampleMaker:
    """Shared per-sample pipeline of both datasets."""

    def _setup(self, path, columns, frames, stride, start, size, crop, video_dtype, mask_dtype, seed,
               decode_threads):
        self.path = str(path)
        self.clip = ClipSpec(frames=frames, stride=stride, start=start, size=size, crop=crop)
        if video_dtype not in (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64):
            raise UserError(f"video_dtype={video_dtype!r} is not allowed: use torch.uint8 or a float dtype.")
        if mask_dtype not in (torch.uint8, torch.int64, torch.int32, torch.int16):
            raise UserError(f"mask_dtype={mask_dtype!r} is not allowed: use torch.uint8 or torch.int64.")
        self.video_dtype, self.mask_dtype = video_dtype, mask_dtype
        self.seed = int(seed)
        self.epoch = 0
        self.decode_threads = int(decode_threads)
        # columns=None reads everything; geometry needs intrinsics etc. only if asked for.
        self.base = SimgenDataset(self.path, columns=columns, decode_video=False)
        self._pid = os.getpid()

    def set_epoch(self, epoch: int) -> None:
        """Reseed per-epoch randomness (random clip starts and crops, shard order, shuffle buffer).
        Call before each epoch; with ``persistent_workers=True`` the workers keep their own copy."""
        self.epoch = int(epoch)

    def _reader(self) -> SimgenDataset:
        if os.getpid() != self._pid:  # forked worker: never share the parent's file handles
            self.base._files = {}
            self._pid = os.getpid()
        return self.base

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed & 0xFFFFFFFF, self.seed >> 32 & 0xFFFFFFFF, self.epoch, int(index)])

    def _make(self, table, row: int, index: int) -> dict[str, Any]:
        sample = decode_row(table, row, decode_video_frames=False)
        video = sample.pop("video", None)
        rng = self._rng(index)
        sample = apply_clip(sample, self.clip, rng, video_bytes=video, decode_threads=self.decode_threads)
        sample["dataset_index"] = int(index)
        return to_torch(sample, video_dtype=self.video_dtype, mask_dtype=self.mask_dtype)


class SimgenTorchDataset(_SampleMaker, torch.utils.data.Dataset):
    """Map-style ``torch.utils.data.Dataset`` over a simgen dataset folder (or one shard).

    ``ds[i]`` reads one row group (one sample), decodes only the clip's frames and returns a dict
    of tensors (layouts in the module docstring). Works with ``DataLoader(num_workers=k)``: the
    footer index is built once here, files are reopened lazily inside each worker.

    Args:
        path: folder of ``shard-*.parquet`` (local or a pyarrow URI) or one shard file.
        columns: columns to read (e.g. ``["video", "caption"]``); identity and shape columns are
            always read; None reads all. Unread columns never touch the disk.
        frames, stride, start, size, crop: clip sampling, see :class:`ClipSpec`.
        video_dtype: ``torch.uint8`` (0..255, default) or a float dtype (scaled to [0, 1]).
        mask_dtype: ``torch.uint8`` (default) or ``torch.int64`` (for ``cross_entropy`` targets).
        seed: seeds random starts/crops together with the epoch and the index.
        decode_threads: FFmpeg threads per video decode (1 suits one-core DataLoader workers).
    """

    def __init__(self, path, columns: Iterable[str] | None = None, *, frames: int | None = None, stride: int = 1,
                 start: str = "first", size: int | tuple[int, int] | None = None, crop: str = "center",
                 video_dtype: torch.dtype = torch.uint8, mask_dtype: torch.dtype = torch.uint8, seed: int = 0,
                 decode_threads: int = 1):
        self._setup(path, columns, frames, stride, start, size, crop, video_dtype, mask_dtype, seed, decode_threads)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict[str, Any]:
        n = len(self.base)
        index = int(index)
        if index < 0:
            index += n
        table, row = self._reader().read_table(index)
        return self._make(table, row, index)


def _dist_defaults(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if rank is None or world_size is None:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
    rank = 0 if rank is None else int(rank)
    world_size = 1 if world_size is None else int(world_size)
    if world_size < 1 or not 0 <= rank < world_size:
        raise UserError(f"rank={rank}, world_size={world_size} is not allowed: need world_size >= 1 and 0 <= rank < world_size.")
    return rank, world_size


def _block(total: int, parts: int, i: int) -> tuple[int, int]:
    """Contiguous block ``i`` of ``parts`` nearly equal blocks of ``range(total)``."""
    return (total * i) // parts, (total * (i + 1)) // parts


class SimgenIterableDataset(_SampleMaker, torch.utils.data.IterableDataset):
    """Streaming dataset: sequential shard reads, a shuffle buffer, exact split over ranks x workers.

    Per epoch the sample order is: shards permuted by ``(seed, epoch)`` (``shuffle=True``), rows in
    file order. That list is cut into ``world_size`` contiguous, nearly equal blocks (one per rank),
    each cut again into ``num_workers`` blocks (one per DataLoader worker) -- so every sample goes
    to exactly one consumer and each consumer reads few files, sequentially. Within a consumer a
    shuffle buffer of ``shuffle_buffer`` *encoded* rows mixes the stream; a row is decoded when it
    leaves the buffer.

    ``rank``/``world_size`` default to ``torch.distributed``'s when it is initialised, else 0/1.
    Ranks may differ by one sample; ``drop_last=True`` trims the epoch to a multiple of
    ``world_size`` so every rank runs the same number of steps (then not every sample is seen).
    Call :meth:`set_epoch` before each epoch for a new, reproducible order.
    Other arguments as :class:`SimgenTorchDataset`.
    """

    def __init__(self, path, columns: Iterable[str] | None = None, *, frames: int | None = None, stride: int = 1,
                 start: str = "first", size: int | tuple[int, int] | None = None, crop: str = "center",
                 video_dtype: torch.dtype = torch.uint8, mask_dtype: torch.dtype = torch.uint8, seed: int = 0,
                 shuffle: bool = True, shuffle_buffer: int = 16, rank: int | None = None,
                 world_size: int | None = None, drop_last: bool = False, decode_threads: int = 1):
        self._setup(path, columns, frames, stride, start, size, crop, video_dtype, mask_dtype, seed, decode_threads)
        self.shuffle = bool(shuffle)
        if int(shuffle_buffer) < 1:
            raise UserError(f"shuffle_buffer={shuffle_buffer!r} is not allowed: give 1 (no mixing) or more.")
        self.shuffle_buffer = int(shuffle_buffer)
        self.rank, self.world_size = _dist_defaults(rank, world_size)
        self.drop_last = bool(drop_last)

    # -- partition ----------------------------------------------------------------------------
    def epoch_order(self) -> list[int]:
        """Global sample indices of this epoch in read order (before the shuffle buffer)."""
        shards = list(range(len(self.base.shards)))
        if self.shuffle:
            rng = np.random.default_rng([self.seed & 0xFFFFFFFF, self.seed >> 32 & 0xFFFFFFFF, self.epoch, 0x5EED])
            shards = list(rng.permutation(shards))
        order: list[int] = []
        for s in shards:
            sh = self.base.shards[s]
            order.extend(range(sh.offset, sh.offset + sum(sh.row_groups)))
        if self.drop_last:
            order = order[: len(order) - len(order) % self.world_size]
        return order

    def rank_indices(self) -> list[int]:
        order = self.epoch_order()
        a, b = _block(len(order), self.world_size, self.rank)
        return order[a:b]

    def consumer_indices(self, worker_id: int = 0, num_workers: int = 1) -> list[int]:
        """Indices read by one DataLoader worker of this rank, in read order."""
        mine = self.rank_indices()
        a, b = _block(len(mine), num_workers, worker_id)
        return mine[a:b]

    def __len__(self) -> int:
        return len(self.rank_indices())

    # -- iteration ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        indices = self.consumer_indices(wid, nw)
        reader = self._reader()
        rng = np.random.default_rng(
            [self.seed & 0xFFFFFFFF, self.seed >> 32 & 0xFFFFFFFF, self.epoch, self.rank, wid, 0xB0F]
        )
        size = self.shuffle_buffer if self.shuffle else 1
        buf: list[tuple[int, Any, int]] = []
        cache_key, cache_table = None, None
        for index in indices:
            shard, g, row = reader.locate(index)
            if (shard.path, g) != cache_key:
                cache_table, _ = reader.read_table(index)
                cache_key = (shard.path, g)
            item = (index, cache_table.slice(row, 1), 0)
            if len(buf) < size:
                buf.append(item)
                if len(buf) < size:
                    continue
            j = int(rng.integers(0, len(buf))) if size > 1 else 0
            out, buf[j] = buf[j], buf[-1]
            buf.pop()
            yield self._make(out[1], out[2], out[0])
        while buf:
            j = int(rng.integers(0, len(buf))) if size > 1 else 0
            out, buf[j] = buf[j], buf[-1]
            buf.pop()
            yield self._make(out[1], out[2], out[0])
