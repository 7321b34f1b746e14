"""Shard plan, output folder and atomic shard writes (local folders or any pyarrow filesystem URI).

Shard ``k`` holds samples ``[k * shard_size, min((k + 1) * shard_size, n))`` and is named
``shard-{k:06d}.parquet``. Its content depends only on ``(config, seed, k)``. A shard is written
row group by row group into a hidden temporary file in the same folder and moved to its final name
when complete, so a shard is either whole or absent. ``_simgen.json`` records the content hash of
the config; a run whose config differs refuses to write into the folder unless ``overwrite=true``.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from simgen.errors import UserError

MANIFEST = "_simgen.json"
SHARD_GLOB_PREFIX = "shard-"
TMP_PREFIX = ".tmp-"


def shard_name(k: int) -> str:
    return f"shard-{k:06d}.parquet"


def shard_ranges(n: int, shard_size: int) -> list[tuple[int, int, int]]:
    return [(k, s, min(s + shard_size, n)) for k, s in enumerate(range(0, n, shard_size))]


def resolve_output(out: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and a path in it for a folder or URI (file://, s3://, gs://, ...)."""
    if "://" in out:
        try:
            return pafs.FileSystem.from_uri(out)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise UserError(f"out={out!r} is not a filesystem URI pyarrow understands ({exc}). "
                            "Use a local folder or file://, s3://, gs://, hdfs:// URIs.") from None
    import os

    return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(out)).replace(os.sep, "/")


@dataclass
class ShardInfo:
    k: int
    start: int
    stop: int
    path: str


class OutputFolder:
    def __init__(self, out: str):
        self.uri = out
        self.fs, self.root = resolve_output(out)

    def path(self, name: str) -> str:
        return posixpath.join(self.root, name)

    # -- folder state --------------------------------------------------------------------------
    def ensure_writable(self) -> None:
        try:
            info = self.fs.get_file_info(self.root)
            if info.type == pafs.FileType.File:
                raise UserError(f"out={self.uri!r} is a file, not a folder; give a folder (it is created if missing).")
            self.fs.create_dir(self.root, recursive=True)
            probe = self.path(f"{TMP_PREFIX}probe-{uuid.uuid4().hex}")
            with self.fs.open_output_stream(probe) as f:
                f.write(b"ok")
            self.fs.delete_file(probe)
        except UserError:
            raise
        except (OSError, pa.ArrowException) as exc:
            raise UserError(f"Cannot write to out={self.uri!r}: {exc}. Choose a folder you can write to.") from None

    def list_names(self) -> list[str]:
        sel = pafs.FileSelector(self.root, allow_not_found=True, recursive=False)
        return sorted(posixpath.basename(i.path) for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.File)

    def read_manifest(self) -> dict | None:
        try:
            with self.fs.open_input_stream(self.path(MANIFEST)) as f:
                return json.loads(f.read().decode())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            if "not found" in str(exc).lower() or "no such file" in str(exc).lower():
                return None
            raise UserError(f"{self.path(MANIFEST)} is unreadable ({exc}); remove it or pass overwrite=true.") from None

    def write_manifest(self, manifest: dict) -> None:
        self.write_atomic(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())

    def write_atomic(self, name: str, data: bytes) -> None:
        tmp = self.path(f"{TMP_PREFIX}{uuid.uuid4().hex}-{name}")
        with self.fs.open_output_stream(tmp) as f:
            f.write(data)
        self.fs.move(tmp, self.path(name))

    def remove_temporaries(self) -> int:
        n = 0
        for name in self.list_names():
            if name.startswith(TMP_PREFIX):
                self.fs.delete_file(self.path(name))
                n += 1
        return n

    def remove_shards(self) -> None:
        for name in self.list_names():
            if name.startswith(SHARD_GLOB_PREFIX) or name == MANIFEST or name.startswith(TMP_PREFIX):
                self.fs.delete_file(self.path(name))

    def shard_complete(self, info: ShardInfo, config_hash: str) -> bool:
        """A shard counts as done when its footer reads, its row count matches the plan and it was
        written with the same config."""
        try:
            with self.fs.open_input_file(info.path) as f:
                md = pq.ParquetFile(f).metadata
                meta = json.loads((md.metadata or {}).get(b"simgen", b"{}"))
                return md.num_rows == info.stop - info.start and meta.get("config_hash") == config_hash
        except (OSError, pa.ArrowException, ValueError):
            return False


class ShardWriter:
    """Writes one shard's rows into a temporary file, then moves it into place."""

    def __init__(self, folder: OutputFolder, info: ShardInfo, schema: pa.Schema, metadata: dict, output_cfg):
        self.folder, self.info = folder, info
        self.tmp = folder.path(f"{TMP_PREFIX}{uuid.uuid4().hex}-{posixpath.basename(info.path)}")
        schema = schema.with_metadata({b"simgen": json.dumps(metadata, default=str).encode()})
        comp = None if output_cfg.compression == "none" else output_cfg.compression
        self._stream = folder.fs.open_output_stream(self.tmp)
        self._writer = pq.ParquetWriter(
            self._stream,
            schema,
            compression=comp,
            compression_level=output_cfg.compression_level if comp == "zstd" else None,
            use_dictionary=["scene", "engine", "split", "video_codec", "depth_dtype", "projection"],
            write_statistics=["index", "seed", "num_objects", "fps"],
        )
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> None:
        self._writer.close()
        self._stream.close()
        self.folder.fs.move(self.tmp, self.info.path)

    def abort(self) -> None:
        try:
            self._writer.close()
            self._stream.close()
        finally:
            try:
                self.folder.fs.delete_file(self.tmp)
            except OSError:
                pass
