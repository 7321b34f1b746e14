"""Reading simgen datasets back: ``open_dataset(path)[i]`` returns the sample contract as numpy.

Random access reads one row group (one sample by default) from one file; nothing else is loaded.
The index over files is built from Parquet footers only; each footer is checked on open (simgen's
columns and types, the simgen metadata against its SHA-256) and every page read is checked against
its CRC (:mod:`simgen.integrity`). A corrupt or truncated shard raises
:class:`simgen.errors.CorruptShardError` naming the file; a Parquet file that is not a simgen shard
raises :class:`simgen.errors.UserError` saying so.

Keys returned (see README, "Sample contract"): ``sample_id, scene, engine, seed, caption, split,
video [T,H,W,3] uint8, masks [T,H,W] uint8, depth [T,H,W] float32, flow [T,H,W,2] float16 (opt-in,
None when not generated), positions [T,N,3],
quaternions [T,N,4] (x,y,z,w), linear_velocity, angular_velocity [T,N,3], mass, friction,
restitution [N], intrinsics [3,3], cam_to_world [T,4,4] (OpenCV), fps, gravity [3]`` and more.
"""

from __future__ import annotations

import bisect
import posixpath
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from simgen.codecs import decode_video, unpack
from simgen.errors import CorruptShardError, UserError
from simgen.integrity import open_parquet, shard_metadata
from simgen.schema import HEAVY_COLUMNS, SCHEMA, params_from_cells
from simgen.shards import resolve_output

# Columns needed to shape/convert others.
_DIM_COLUMNS = ("num_frames", "height", "width", "num_objects", "depth_dtype")


@dataclass
class _Shard:
    path: str
    row_groups: list[int]  # rows per row group
    offset: int  # global index of the shard's first row


def list_shards(path: str) -> tuple[pafs.FileSystem, list[str]]:
    fs, root = resolve_output(path)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.File:
        if not root.endswith(".parquet"):
            raise UserError(f"{path!r} is not a Parquet shard (simgen shards are named shard-NNNNNN.parquet): "
                            "give the dataset folder or one of its .parquet files.")
        return fs, [root]
    if info.type == pafs.FileType.NotFound:
        raise UserError(f"No dataset at {path!r}: the folder does not exist.")
    sel = pafs.FileSelector(root, recursive=False)
    files = sorted(
        i.path for i in fs.get_file_info(sel)
        if i.type == pafs.FileType.File and posixpath.basename(i.path).endswith(".parquet")
        and not posixpath.basename(i.path).startswith(".")
    )
    if not files:
        raise UserError(f"No Parquet shards in {path!r}.")
    return fs, files


_ADVICE = ("Rerun the command that generated the dataset (same config and out=): it checks every shard and "
           "regenerates the damaged ones.")


def _open_parquet(fs: pafs.FileSystem, path: str) -> pq.ParquetFile:
    try:
        return open_parquet(fs, path)
    except CorruptShardError as exc:
        raise CorruptShardError(f"{exc} {_ADVICE}") from None


def _nested(col: pa.Array, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """Flatten a (nested) list column of one row into a numpy array of ``shape``."""
    arr = col
    while pa.types.is_list(arr.type) or pa.types.is_fixed_size_list(arr.type) or pa.types.is_large_list(arr.type):
        arr = arr.flatten()
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype).reshape(shape)


def decode_row(table: pa.Table, i: int = 0, decode_video_frames: bool = True) -> dict[str, Any]:
    """Convert row ``i`` of a shard table to the sample contract (numpy arrays)."""
    names = set(table.column_names)

    def cell(name):
        return table.column(name)[i]

    def raw(name):
        return table.column(name).slice(i, 1).combine_chunks()

    T = cell("num_frames").as_py() if "num_frames" in names else None
    H = cell("height").as_py() if "height" in names else None
    W = cell("width").as_py() if "width" in names else None
    N = cell("num_objects").as_py() if "num_objects" in names else None
    out: dict[str, Any] = {}
    for name in table.column_names:
        if name in ("video",):
            data = cell(name).as_py()
            out[name] = decode_video(data) if (decode_video_frames and data is not None) else data
        elif name == "masks":
            data = cell(name).as_py()
            out[name] = None if data is None else unpack(data, np.uint8, (T, H, W))
        elif name == "depth":
            data = cell(name).as_py()
            dt = cell("depth_dtype").as_py() if "depth_dtype" in names else "float16"
            out[name] = None if data is None else unpack(data, dt, (T, H, W)).astype(np.float32)
        elif name == "flow":
            data = cell(name).as_py()
            out[name] = None if data is None else unpack(data, np.float16, (T, H, W, 2))
        elif name in ("positions", "linear_velocity", "angular_velocity", "linear_acceleration"):
            out[name] = _nested(raw(name), (T, N, 3))
        elif name == "quaternions":
            out[name] = _nested(raw(name), (T, N, 4))
        elif name == "centroid_2d":
            out[name] = _nested(raw(name), (T, N, 2))
        elif name == "bbox_2d":
            out[name] = _nested(raw(name), (T, N, 4))
        elif name == "visible_pixels":
            out[name] = _nested(raw(name), (T, N), np.int32)
        elif name == "visible_fraction":
            out[name] = _nested(raw(name), (T, N), np.float32)
        elif name in ("mass", "friction", "restitution", "first_contact_frame", "times"):
            out[name] = _nested(raw(name), (-1,))
        elif name in ("inertia", "object_color"):
            out[name] = _nested(raw(name), (-1, 3))
        elif name == "intrinsics":
            out[name] = _nested(raw(name), (3, 3))
        elif name == "cam_to_world":
            out[name] = _nested(raw(name), (-1, 4, 4))
        elif name in ("gravity", "light_direction", "light_color"):
            out[name] = _nested(raw(name), (3,))
        elif name == "object_size":
            out[name] = [np.asarray(v, np.float32) for v in cell(name).as_py()]
        elif name == "object_vertices":
            out[name] = [np.asarray(v, np.float32).reshape(-1, 3) for v in cell(name).as_py()]
        elif name == "contacts":
            cs = cell(name).as_py() or []
            out[name] = {
                "frame": np.array([c["frame"] for c in cs], np.float32),
                "body_a": np.array([c["body_a"] for c in cs], np.int32),
                "body_b": np.array([c["body_b"] for c in cs], np.int32),
                "position": np.array([c["position"] for c in cs], np.float32).reshape(-1, 3),
                "normal": np.array([c["normal"] for c in cs], np.float32).reshape(-1, 3),
                "impulse": np.array([c["impulse"] for c in cs], np.float32),
            }
        elif name == "params":
            out[name] = params_from_cells(cell(name).as_py())
        else:
            out[name] = cell(name).as_py()
    return out


class SimgenDataset(Sequence):
    """Map-style access to a folder of shards (or one shard file).

    ``columns`` restricts what is read (e.g. ``["video", "caption"]``); identity and shape columns
    are always read. ``decode_video=False`` returns the MP4 bytes instead of frames.
    """

    def __init__(self, path: str, columns: Iterable[str] | None = None, decode_video: bool = True):
        self.path = path
        self.decode_video = decode_video
        self.fs, files = list_shards(path)
        self.columns = None
        if columns is not None:
            unknown = [c for c in columns if c not in SCHEMA.names]
            if unknown:
                raise UserError(f"Unknown column(s) {unknown}; available: {', '.join(SCHEMA.names)}.")
            keep = ["sample_id", "index", "scene", "engine", "seed", *_DIM_COLUMNS, *columns]
            self.columns = list(dict.fromkeys(keep))
        self.shards: list[_Shard] = []
        offset = 0
        self.metadata: dict = {}
        for f in files:
            pf = _open_parquet(self.fs, f)
            md = pf.metadata
            try:
                meta = shard_metadata(pf, f)
            except CorruptShardError as exc:
                raise CorruptShardError(f"{exc} {_ADVICE}") from None
            except UserError as exc:
                raise UserError(f"{path!r} is not a simgen dataset: {exc}") from None
            if not self.metadata:
                self.metadata = meta
            rgs = [md.row_group(g).num_rows for g in range(md.num_row_groups)]
            self.shards.append(_Shard(f, rgs, offset))
            offset += sum(rgs)
        self._len = offset
        self._starts = [s.offset for s in self.shards]
        self._files: dict[str, pq.ParquetFile] = {}

    def __len__(self) -> int:
        return self._len

    def __getstate__(self):  # picklable for DataLoader workers: reopen files lazily
        d = dict(self.__dict__)
        d["_files"] = {}
        return d

    def _file(self, path: str) -> pq.ParquetFile:
        pf = self._files.get(path)
        if pf is None:
            pf = self._files[path] = _open_parquet(self.fs, path)
        return pf

    def locate(self, index: int) -> tuple[_Shard, int, int]:
        """(shard, row group, row within the group) of a global index."""
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(f"index {index} out of range for a dataset of {self._len} samples")
        s = self.shards[bisect.bisect_right(self._starts, index) - 1]
        local = index - s.offset
        for g, rows in enumerate(s.row_groups):
            if local < rows:
                return s, g, local
            local -= rows
        raise IndexError(index)  # pragma: no cover - footer inconsistent

    def read_table(self, index: int) -> tuple[pa.Table, int]:
        shard, g, row = self.locate(index)
        try:
            table = self._file(shard.path).read_row_group(g, columns=self.columns)
        except (pa.ArrowInvalid, OSError, pa.ArrowException) as exc:
            raise CorruptShardError(f"Shard {shard.path} is corrupt: row group {g} cannot be read "
                                    f"({' '.join(str(exc).split())[:300]}). {_ADVICE}") from None
        return table, row

    def __getitem__(self, index: int) -> dict[str, Any]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        table, row = self.read_table(int(index))
        return decode_row(table, row, decode_video_frames=self.decode_video)

    def metadata_table(self, columns: Sequence[str] = ("sample_id", "scene", "engine", "split", "caption", "num_objects")):
        """All rows of the light columns, as a pyarrow Table (no video, masks or depth)."""
        cols = [c for c in columns if c not in HEAVY_COLUMNS]
        tables = []
        for s in self.shards:
            try:
                tables.append(self._file(s.path).read(columns=cols))
            except (OSError, pa.ArrowException) as exc:
                raise CorruptShardError(f"Shard {s.path} is corrupt ({' '.join(str(exc).split())[:300]}). "
                                        f"{_ADVICE}") from None
        return pa.concat_tables(tables)


def open_dataset(path: str, columns: Iterable[str] | None = None, decode_video: bool = True) -> SimgenDataset:
    """Open a dataset folder (or one shard) written by ``python -m simgen``."""
    return SimgenDataset(path, columns=columns, decode_video=decode_video)


def values_equal(a: Any, b: Any) -> bool:
    """Exact equality of two decoded values of a sample (arrays by dtype, shape and content; dicts and
    lists element by element; NaN equals NaN): what "the same sample" means when two datasets are compared."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b
