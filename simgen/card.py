"""The dataset card: a README.md written into every dataset folder at the end of a run.

It says what was generated (scene family, engine, counts, resolution, splits), the exact
content config, a schema summary with bytes per column (from the Parquet footers), and how to
load the data (simgen reader, PyTorch, Hugging Face datasets, Ray Data, pandas, DuckDB).
Readers ignore it: :func:`simgen.data.list_shards` lists ``*.parquet`` files only.

:func:`footer_stats` (also used by ``python -m simgen.show`` and the loading benchmark) reads only
footers: rows, shards and compressed bytes per column.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import simgen
from simgen.schema import SCHEMA
from simgen.shards import CARD_NAME


# One line per column for the schema table; shapes use T frames, N objects, H x W pixels.
COLUMN_DOCS: dict[str, str] = {
    "sample_id": "unique id `<scene>-<run seed>-<index>`",
    "index": "sample index within the run",
    "scene": "scene family",
    "engine": "physics engine that simulated it",
    "seed": "per-sample seed derived from (run seed, index)",
    "run_seed": "the run's `seed=`",
    "split": "`id` (in-distribution) or `ood` parameter bands",
    "caption": "templated caption",
    "tags": "free-form tags",
    "num_frames": "T", "height": "H (pixels)", "width": "W (pixels)", "num_objects": "N",
    "fps": "frames per second", "physics_hz": "physics steps per second",
    "video": "H.264 MP4 bytes -> uint8 [T,H,W,3] RGB",
    "video_codec": "codec of `video`",
    "masks": "raw uint8 [T,H,W]; 0 = background/static, k = object k (1-based)",
    "depth": "raw little-endian `depth_dtype` [T,H,W], metres along the optical axis",
    "depth_dtype": "float16 or float32",
    "times": "[T] seconds",
    "positions": "[T][N][3] centre of mass, world frame, metres",
    "quaternions": "[T][N][4] orientation (x, y, z, w)",
    "linear_velocity": "[T][N][3] m/s, world frame, at the frame's time (exact in flight)",
    "angular_velocity": "[T][N][3] rad/s, world frame",
    "centroid_2d": "[T][N][2] centre of mass projected to pixels (u, v), OpenCV pixel centres",
    "bbox_2d": "[T][N][4] visible-mask box (x0, y0, x1, y1) inclusive pixels; -1 when hidden",
    "visible_pixels": "[T][N] mask pixel count",
    "visible_fraction": "[T][N] visible pixels / pixels the object would cover alone in the frame",
    "linear_acceleration": "[T][N][3] m/s^2, finite differences of the recorded velocities",
    "mass": "[N] kg, as simulated", "friction": "[N] as simulated", "restitution": "[N] as simulated",
    "inertia": "[N][3] principal moments, kg m^2",
    "object_shape": "[N] shape name", "object_size": "[N][k] shape dimensions, metres",
    "object_color": "[N][3] RGB in [0, 1]", "object_color_name": "[N] colour name",
    "object_vertices": "[N][V][3] body-frame vertices of a mesh's collision hull (empty for primitives), metres",
    "first_contact_frame": "[N] first contact in (fractional) frames, NaN if none",
    "contacts": "impacts and contact onsets (frame, body_a, body_b, position, normal, impulse: N s of the impact, 0 for an onset)",
    "intrinsics": "[9] row-major 3x3 pixel intrinsics",
    "cam_to_world": "[T][16] row-major 4x4, OpenCV camera (x right, y down, z forward)",
    "projection": "perspective or orthographic",
    "gravity": "[3] m/s^2, world frame",
    "params": "sampled scene parameters (name, values, text)",
    "light_direction": "[3] unit vector toward the key (shadow-casting) light, world frame",
    "light_color": "[3] key light linear RGB (colour temperature)", "light_intensity": "key light intensity",
    "environment_kind": "`flat`, `sky` or `image` backdrop", "environment_name": "sky or backdrop name, image file stem",
    "floor_kind": "floor texture kind (`planks`, `tiled`, ...), empty without a floor",
    "object_pattern": "[N] surface pattern of each object (`stripes`, `marble`, ...)",
    "camera_motion": "`static`, `orbit`, `dolly` or `pan`",
}


@dataclass
class FooterStats:
    """What the footers of a set of shards tell without reading data pages."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    row_groups: int = 0
    file_bytes: int = 0
    column_bytes: dict[str, int] = field(default_factory=dict)  # compressed, summed over chunks
    column_raw_bytes: dict[str, int] = field(default_factory=dict)  # uncompressed
    metadata: dict = field(default_factory=dict)  # simgen metadata of the first shard

    def groups(self) -> dict[str, int]:
        """Compressed bytes split into video, masks, depth and the rest (ground truth + ids)."""
        out = {"video": 0, "masks": 0, "depth": 0, "rest": 0}
        for name, b in self.column_bytes.items():
            out[name if name in out else "rest"] += b
        return out

    @property
    def footer_bytes(self) -> int:
        """File bytes outside column chunks: footers (schema, simgen metadata, row-group index)."""
        return max(0, self.file_bytes - sum(self.column_bytes.values()))


def footer_stats(fs, files: list[str]) -> FooterStats:
    st = FooterStats(files=list(files))
    for f in files:
        with fs.open_input_file(f) as fh:
            md = pq.ParquetFile(fh).metadata
            st.file_bytes += fh.size()
        if not st.metadata:
            try:
                st.metadata = json.loads((md.metadata or {}).get(b"simgen", b"{}"))
            except ValueError:
                st.metadata = {}
        st.rows += md.num_rows
        st.row_groups += md.num_row_groups
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                top = col.path_in_schema.split(".")[0]
                st.column_bytes[top] = st.column_bytes.get(top, 0) + col.total_compressed_size
                st.column_raw_bytes[top] = st.column_raw_bytes.get(top, 0) + col.total_uncompressed_size
    return st


def type_str(t: pa.DataType) -> str:
    """Compact Arrow type: ``list<list<float32[3]>>``."""
    if pa.types.is_fixed_size_list(t):
        return f"{type_str(t.value_type)}[{t.list_size}]"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"list<{type_str(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ", ".join(t.field(i).name for i in range(t.num_fields)) + ">"
    return {"float": "float32", "double": "float64"}.get(str(t), str(t))


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(b) < 1000 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1000.0
    return f"{b:.1f} TB"  # pragma: no cover


def _light_counts(fs, files: list[str]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {"scene": Counter(), "split": Counter(), "engine": Counter(),
                                  "num_objects": Counter()}
    for f in files:
        with fs.open_input_file(f) as fh:
            t = pq.ParquetFile(fh).read(columns=list(counts))
        for name in counts:
            counts[name].update(t.column(name).to_pylist())
    return counts


def render_card(cfg_dict: dict[str, Any], stats: FooterStats, counts: dict[str, Counter] | None,
                out: str, config_hash: str = "") -> str:
    import yaml  # PyYAML ships with omegaconf

    render = cfg_dict.get("render", {})
    scene = (cfg_dict.get("scene") or {}).get("name", "?")
    engine = (cfg_dict.get("engine") or {}).get("name", "?")
    n = stats.rows
    per_sample = stats.file_bytes / max(n, 1)
    g = stats.groups()
    lines = [
        # Hugging Face dataset-card metadata: `datasets.load_dataset(<folder>)` and the Hub read
        # the shards only (not _simgen.json) as one "train" split.
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: \"*.parquet\"",
        "tags:",
        "- synthetic",
        "- physics",
        "- video",
        "- simgen",
        "---",
        "",
        f"# simgen dataset: {scene}",
        "",
        f"Synthetic physics videos with exact ground truth, generated by simgen {simgen.__version__} "
        f"(schema version {simgen.SCHEMA_VERSION}).",
        "",
        "## What is here",
        "",
        "| | |",
        "|---|---|",
        f"| videos | {n} |",
        f"| shards | {len(stats.files)} Parquet files (`shard-*.parquet`), {stats.row_groups} row groups |",
        f"| scene family | {scene} |",
        f"| physics engine | {engine} (physics rate {(cfg_dict.get('engine') or {}).get('physics_hz', '?')} Hz) |",
        f"| video | {render.get('width', '?')}x{render.get('height', '?')} px, {render.get('frames', '?')} frames "
        f"at {render.get('fps', '?')} fps, H.264 crf {render.get('crf', '?')} |",
        f"| masks / depth | {'yes' if render.get('masks', True) else 'no'} / "
        f"{'yes (' + str(render.get('depth_dtype', '')) + ')' if render.get('depth', True) else 'no'} |",
        f"| run seed / split / sampler | {cfg_dict.get('seed', '?')} / {cfg_dict.get('split', '?')} / "
        f"{cfg_dict.get('sampler', '?')} |",
        f"| size on disk | {_fmt_bytes(stats.file_bytes)} ({_fmt_bytes(per_sample)} per video: video "
        f"{_fmt_bytes(g['video'] / max(n, 1))}, masks {_fmt_bytes(g['masks'] / max(n, 1))}, depth "
        f"{_fmt_bytes(g['depth'] / max(n, 1))}, other columns {_fmt_bytes(g['rest'] / max(n, 1))}, "
        f"footers {_fmt_bytes(stats.footer_bytes / max(n, 1))}) |",
    ]
    if config_hash:
        lines.append(f"| config hash | `{config_hash}` (also in `_simgen.json` and every shard's metadata) |")
    if counts:
        lines += ["", "## Counts", ""]
        for name in ("scene", "split", "engine", "num_objects"):
            c = counts.get(name) or {}
            lines.append(f"- **{name}**: " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0]))))
    lines += ["", "## Schema", "", "One row per video. Sizes are compressed bytes per video from the Parquet footers.", "",
              "| column | type | meaning | bytes/video |", "|---|---|---|---|"]
    for f in SCHEMA:
        b = stats.column_bytes.get(f.name, 0) / max(n, 1)
        typ = type_str(f.type)
        lines.append(f"| `{f.name}` | `{typ}` | {COLUMN_DOCS.get(f.name, '')} | {_fmt_bytes(b)} |")
    lines += [
        "",
        "## How to load",
        "",
        "```python",
        "from simgen.data import open_dataset            # numpy, the sample contract",
        f"ds = open_dataset({out!r})",
        "sample = ds[0]                                  # video [T,H,W,3] uint8, masks, depth, positions, ...",
        "",
        "import torch                                    # PyTorch: pip install simgen[torch]",
        "from simgen.torch import SimgenTorchDataset, collate",
        f"tds = SimgenTorchDataset({out!r}, columns=['video', 'caption'], frames=16, size=128)",
        "loader = torch.utils.data.DataLoader(tds, batch_size=4, num_workers=2, collate_fn=collate)",
        "```",
        "",
        "Other readers (use only the `*.parquet` files; this README and `_simgen.json` are not data):",
        "",
        "```python",
        "import datasets, glob",
        f"hf = datasets.load_dataset('parquet', data_files=sorted(glob.glob({(out.rstrip('/') + '/*.parquet')!r})), split='train')",
        "import ray",
        f"rd = ray.data.read_parquet({out!r}, file_extensions=['parquet'])",
        "import duckdb",
        f"duckdb.sql(\"SELECT scene, split, count(*) FROM '{out.rstrip('/')}/*.parquet' GROUP BY ALL\").show()",
        "```",
        "",
        "Preview: `python -m simgen.show " + out + " --index 0 --out preview/`.",
        "",
        "## Configuration",
        "",
        "The content config (everything that determines the samples; rerunning it reproduces them exactly):",
        "",
        "```yaml",
        yaml.safe_dump(cfg_dict, sort_keys=True, default_flow_style=False).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def looks_like_card(text: str) -> bool:
    """Whether a README.md is a dataset card as simgen writes it (front matter, then the title)."""
    return text.startswith("---\nconfigs:") and "\n# simgen dataset: " in text


def card_is_ours(folder, manifest: dict | None) -> bool:
    """Whether the folder's README.md may be replaced: it is the card simgen last wrote (its SHA-256 is
    in the manifest), or, in a folder whose manifest does not record one, it reads as a simgen card."""
    import hashlib

    text = folder.read_text(CARD_NAME)
    if text is None:
        return True
    recorded = (manifest or {}).get("card_sha256")
    if recorded:
        return hashlib.sha256(text.encode()).hexdigest() == recorded
    return looks_like_card(text)


def write_card(cfg, plan, summary: dict | None = None, log=print) -> str | None:
    """Write ``README.md`` into the dataset folder (atomically, through the OutputFolder) unless a
    README.md that simgen did not write (or that was edited since) is there.

    ``cfg``: the resolved run config; ``plan``: :class:`simgen.job.Plan`; ``summary``: the dict of
    :func:`simgen.job.summarize` (optional). Returns the card's SHA-256, or None when it was left alone."""
    import hashlib

    from simgen.config import content_config

    folder = plan.folder
    if not card_is_ours(folder, getattr(plan, "manifest", None)):
        log(f"simgen: {folder.path(CARD_NAME)} was not written by simgen (or was edited since): left as it is, "
            "the dataset card is not updated")
        return None
    names = folder.shard_names()
    files = [folder.path(name) for k, name in sorted(names.items()) if k < len(plan.shards)]
    stats = footer_stats(folder.fs, files)
    try:
        counts = _light_counts(folder.fs, files)
    except (OSError, pa.ArrowException, KeyError):
        counts = None
    text = render_card(content_config(cfg), stats, counts, str(cfg.out), getattr(plan, "config_hash", ""))
    data = text.encode()
    folder.write_atomic(CARD_NAME, data)
    return hashlib.sha256(data).hexdigest()
