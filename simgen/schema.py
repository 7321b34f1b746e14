"""The Parquet schema of a shard: one row per video.

Big per-pixel arrays are binary cells (video: H.264 MP4; masks: raw uint8; depth: raw float16 or
float32; flow: raw float16 [T, H, W, 2]; little-endian), compressed by Parquet (zstd). Ground truth is typed, nested columns so that
any Parquet reader sees real numbers, not JSON: ``positions`` is ``list<list<fixed_size_list<float,3>>>``
indexed [frame][object][xyz]. The README documents every column with units and conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

f32 = pa.float32()


def _fixed(k: int) -> pa.DataType:
    return pa.list_(f32, k)


CONTACT = pa.struct(
    [
        ("frame", f32),
        ("body_a", pa.int32()),
        ("body_b", pa.int32()),
        ("position", _fixed(3)),
        ("normal", _fixed(3)),
        ("impulse", f32),
    ]
)
PARAM = pa.struct([("name", pa.string()), ("values", pa.list_(pa.float64())), ("text", pa.string())])

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("index", pa.int64()),
        ("scene", pa.string()),
        ("engine", pa.string()),
        ("seed", pa.int64()),
        ("run_seed", pa.int64()),
        ("split", pa.string()),
        ("caption", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("num_frames", pa.int32()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("num_objects", pa.int32()),
        ("fps", pa.float64()),
        ("physics_hz", pa.float64()),
        ("video", pa.binary()),
        ("video_codec", pa.string()),
        ("masks", pa.binary()),
        ("depth", pa.binary()),
        ("depth_dtype", pa.string()),
        ("flow", pa.binary()),  # opt-in (render.flow): float16 [T, H, W, 2], little-endian
        ("times", pa.list_(f32)),
        ("positions", pa.list_(pa.list_(_fixed(3)))),
        ("quaternions", pa.list_(pa.list_(_fixed(4)))),
        ("linear_velocity", pa.list_(pa.list_(_fixed(3)))),
        ("angular_velocity", pa.list_(pa.list_(_fixed(3)))),
        ("centroid_2d", pa.list_(pa.list_(_fixed(2)))),
        ("bbox_2d", pa.list_(pa.list_(_fixed(4)))),
        ("visible_pixels", pa.list_(pa.list_(pa.int32()))),
        ("visible_fraction", pa.list_(pa.list_(f32))),
        ("linear_acceleration", pa.list_(pa.list_(_fixed(3)))),
        ("mass", pa.list_(f32)),
        ("friction", pa.list_(f32)),
        ("restitution", pa.list_(f32)),
        ("inertia", pa.list_(_fixed(3))),
        ("object_shape", pa.list_(pa.string())),
        ("object_size", pa.list_(pa.list_(f32))),
        ("object_color", pa.list_(_fixed(3))),
        ("object_color_name", pa.list_(pa.string())),
        ("object_vertices", pa.list_(pa.list_(_fixed(3)))),
        ("first_contact_frame", pa.list_(f32)),
        ("contacts", pa.list_(CONTACT)),
        ("intrinsics", _fixed(9)),
        ("cam_to_world", pa.list_(_fixed(16))),
        ("projection", pa.string()),
        ("gravity", _fixed(3)),
        ("params", pa.list_(PARAM)),
        # the look (simgen/appearance/record.py)
        ("light_direction", _fixed(3)),
        ("light_color", _fixed(3)),
        ("light_intensity", f32),
        ("environment_kind", pa.string()),
        ("environment_name", pa.string()),
        ("floor_kind", pa.string()),
        ("object_pattern", pa.list_(pa.string())),
        ("camera_motion", pa.string()),
    ]
)

# Columns holding big binary cells; everything else is "ground truth" and cheap to read.
HEAVY_COLUMNS = ("video", "masks", "depth", "flow")


@dataclass
class Row:
    """One sample, ready to be written (numpy arrays in their final dtypes)."""

    values: dict[str, Any] = field(default_factory=dict)


def params_cells(params: dict[str, Any]) -> list[dict]:
    out = []
    for name in sorted(params):
        v = params[name]
        if isinstance(v, str):
            out.append({"name": name, "values": [], "text": v})
        else:
            out.append({"name": name, "values": np.atleast_1d(np.asarray(v, dtype=np.float64)).tolist(), "text": None})
    return out


def params_from_cells(cells: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in cells or []:
        if c["text"] is not None:
            out[c["name"]] = c["text"]
        else:
            vals = np.asarray(c["values"], dtype=np.float64)
            out[c["name"]] = float(vals[0]) if vals.size == 1 else vals
    return out


def _nested3(arrs: list[np.ndarray], k: int) -> pa.Array:
    """Rows of [T, N, k] float arrays -> list<list<fixed_size_list<float32, k>>>."""
    inner = pa.FixedSizeListArray.from_arrays(
        pa.array(np.concatenate([a.reshape(-1) for a in arrs]).astype(np.float32), f32), k
    )
    mid_counts = np.concatenate([[a.shape[1]] * a.shape[0] for a in arrs]).astype(np.int32)
    mid = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(mid_counts)]).astype(np.int32)), inner)
    outer_counts = np.array([a.shape[0] for a in arrs], np.int32)
    return pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(outer_counts)]).astype(np.int32)), mid)


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Build a table with SCHEMA from row dicts (see :func:`simgen.generate.make_row`)."""
    cols = {}
    for name in SCHEMA.names:
        typ = SCHEMA.field(name).type
        vals = [r[name] for r in rows]
        if name in ("positions", "linear_velocity", "angular_velocity", "linear_acceleration"):
            cols[name] = _nested3(vals, 3)
        elif name == "quaternions":
            cols[name] = _nested3(vals, 4)
        elif name == "centroid_2d":
            cols[name] = _nested3(vals, 2)
        elif name == "bbox_2d":
            cols[name] = _nested3(vals, 4)
        elif name == "visible_fraction":
            cols[name] = pa.array([[np.asarray(f, np.float32).tolist() for f in np.asarray(v)] for v in vals], type=typ)
        else:
            cols[name] = pa.array(vals, type=typ)
    return pa.table(cols, schema=SCHEMA)
