"""Shard plan, output folder and atomic shard writes (local folders or any pyarrow filesystem URI).

Shard ``k`` holds samples ``[k * shard_size, min((k + 1) * shard_size, n))`` and is named
``shard-{k:06d}.parquet``. Its content depends only on ``(config, seed, k)``. A shard is written
row group by row group into a hidden temporary file in the same folder,
``.tmp-<host>_<pid>_<start>_<random>-shard-{k:06d}.parquet`` (the writing process, see
:class:`simgen.lock.Writer`), and moved to its final name when complete, so a shard is either whole
or absent; a temporary is removed only once its writer is dead.

``_simgen.json`` (the manifest) records the content hash of the config, the shard size, and for every
finished shard its rows, bytes and SHA-256 (:mod:`simgen.integrity`). A run whose config differs
refuses to write into the folder unless ``overwrite=true``. The folder's ``README.md`` (the dataset
card) is replaced only while it is the card simgen wrote (its SHA-256 is in the manifest too).
"""

from __future__ import annotations

import json
import math
import posixpath
import re
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from simgen.errors import UserError
from simgen.integrity import HashingSink, schema_with_metadata
from simgen.lock import LOCK_NAME, Writer

MANIFEST = "_simgen.json"
SHARD_PREFIX = SHARD_GLOB_PREFIX = "shard-"
TMP_PREFIX = ".tmp-"
CARD_NAME = "README.md"
# shard_size=0 (auto): at most this many videos per shard, and at least this many shards while n allows.
AUTO_MAX_SHARD = 100
AUTO_MIN_SHARDS = 64

_SHARD_RE = re.compile(r"^shard-(\d{6,})\.parquet$")
_TMP_RE = re.compile(r"^\.tmp-(?P<writer>[A-Za-z0-9.-]+_\d+_\d+)_[0-9a-f]{8}-(?P<name>.+)$")


def shard_name(k: int) -> str:
    return f"shard-{k:06d}.parquet"


def shard_index(name: str) -> int | None:
    m = _SHARD_RE.match(name)
    return int(m.group(1)) if m else None


def auto_shard_size(n: int) -> int:
    """``shard_size=0``: ``ceil(n / 64)`` videos per shard, at most 100, so that a small job still has
    enough shards to keep every worker busy (n=8: 8 shards of 1) and a large one gets files of 100."""
    return max(1, min(AUTO_MAX_SHARD, math.ceil(n / AUTO_MIN_SHARDS)))


def num_shards(n: int, shard_size: int) -> int:
    return -(-n // shard_size)


def shard_ranges(n: int, shard_size: int):
    """``(k, start, stop)`` of every shard, lazily (``n`` may be huge)."""
    return ((k, k * shard_size, min((k + 1) * shard_size, n)) for k in range(num_shards(n, shard_size)))


def resolve_output(out: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and a path in it for a folder or URI (file://, s3://, gs://, ...)."""
    if not str(out).strip():
        raise UserError("out= is empty: give the output folder (e.g. out=datasets/demo) or a URI (s3://bucket/prefix).")
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

    @property
    def rows(self) -> int:
        return self.stop - self.start

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def temp_writer(name: str) -> Writer | None:
    """The writer of a temporary file, from its name (None for names of older simgen versions)."""
    m = _TMP_RE.match(name)
    return Writer.parse(m["writer"]) if m else None


class OutputFolder:
    def __init__(self, out: str):
        self.uri = out
        self.fs, self.root = resolve_output(out)

    def path(self, name: str) -> str:
        return posixpath.join(self.root, name)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    # -- folder state --------------------------------------------------------------------------
    def check_not_a_file(self) -> None:
        try:
            is_file = self.fs.get_file_info(self.root).type == pafs.FileType.File
        except (OSError, pa.ArrowException):
            return  # ensure_writable says what is wrong
        if is_file:
            raise UserError(f"out={self.uri!r} is a file, not a folder; give a folder (it is created if missing).")

    def ensure_writable(self) -> None:
        self.check_not_a_file()
        try:
            self.fs.create_dir(self.root, recursive=True)
            probe = self.temp_path("probe")
            with self.fs.open_output_stream(probe) as f:
                f.write(b"ok")
            self.fs.delete_file(probe)
        except UserError:
            raise
        except (OSError, pa.ArrowException) as exc:
            raise UserError(f"Cannot write to out={self.uri!r}: {exc}. Choose a folder you can write to.") from None

    def entries(self) -> list[tuple[str, bool]]:
        """(name, is_file) of everything directly in the folder."""
        sel = pafs.FileSelector(self.root, allow_not_found=True, recursive=False)
        return sorted((posixpath.basename(i.path), i.type == pafs.FileType.File) for i in self.fs.get_file_info(sel))

    def list_names(self) -> list[str]:
        return [name for name, is_file in self.entries() if is_file]

    def shard_names(self) -> dict[int, str]:
        return {k: n for n in self.list_names() if (k := shard_index(n)) is not None}

    def foreign_entries(self, card_is_ours) -> list[str]:
        """Names in the folder that simgen did not write (``card_is_ours()`` tells for README.md)."""
        out = []
        for name, is_file in self.entries():
            ours = is_file and (shard_index(name) is not None or name in (MANIFEST, LOCK_NAME)
                                or name.startswith(TMP_PREFIX) or (name == CARD_NAME and card_is_ours()))
            if not ours:
                out.append(name + ("" if is_file else "/"))
        return out

    def read_text(self, name: str) -> str | None:
        try:
            with self.fs.open_input_stream(self.path(name)) as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            if "not found" in str(exc).lower() or "no such file" in str(exc).lower():
                return None
            raise

    def read_manifest(self) -> dict | None:
        try:
            text = self.read_text(MANIFEST)
            if text is None:
                return None
            manifest = json.loads(text)
            if not isinstance(manifest, dict) or "config_hash" not in manifest:
                raise ValueError("no config_hash")
            return manifest
        except (OSError, ValueError) as exc:
            raise UserError(
                f"{self.path(MANIFEST)} is unreadable ({' '.join(str(exc).split())[:200]}). Rebuild it from the shards "
                f"with `python -m simgen.repair {self.uri}` (it checks every shard), or pass overwrite=true to "
                "delete the dataset and start again."
            ) from None

    def write_manifest(self, manifest: dict) -> None:
        self.write_atomic(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())

    def temp_path(self, name: str) -> str:
        return self.path(f"{TMP_PREFIX}{Writer.current().tag}_{uuid.uuid4().hex[:8]}-{name}")

    def write_atomic(self, name: str, data: bytes) -> None:
        tmp = self.temp_path(name)
        try:
            with self.fs.open_output_stream(tmp) as f:
                f.write(data)
            self.fs.move(tmp, self.path(name))
        except BaseException:
            _delete_quietly(self.fs, tmp)
            raise

    def temporaries(self) -> list[str]:
        return [n for n in self.list_names() if n.startswith(TMP_PREFIX)]

    def remove_temporaries(self, also=()) -> int:
        """Remove the temporaries whose writer is dead (or, for names of older versions, unknown),
        plus those named in ``also``; keep those of live processes and of other hosts."""
        n = 0
        also = set(also)
        for name in self.temporaries():
            w = temp_writer(name)
            if name in also or w is None or w.alive() is False:
                _delete_quietly(self.fs, self.path(name))
                n += 1
        return n

    def remove_shards(self) -> None:
        for name in self.list_names():
            if shard_index(name) is not None or name == MANIFEST:
                self.fs.delete_file(self.path(name))
        self.remove_temporaries()


def _delete_quietly(fs, path: str) -> None:
    try:
        fs.delete_file(path)
    except OSError:
        pass


def writer_options(compression: str, level: int) -> dict:
    """The ``pyarrow.parquet.ParquetWriter`` options of a shard (``output.compression`` and
    ``output.compression_level``; ``"none"``: uncompressed): dictionary encoding for the categorical
    columns, statistics for the ones readers filter on, page checksums."""
    comp = None if compression == "none" else compression
    return dict(compression=comp, compression_level=level if comp == "zstd" else None,
                use_dictionary=["scene", "engine", "split", "video_codec", "depth_dtype", "projection"],
                write_statistics=["index", "seed", "num_objects", "fps"], write_page_checksum=True)


class ShardWriter:
    """Writes one shard's rows into a temporary file, then moves it into place. Page checksums are
    on; the file's SHA-256 is taken as it is written (:meth:`commit` returns it)."""

    def __init__(self, folder: OutputFolder, info: ShardInfo, schema: pa.Schema, metadata: dict, output_cfg):
        self.folder, self.info = folder, info
        self.tmp = folder.temp_path(posixpath.basename(info.path))
        # the column names go into the (digest-protected) metadata: a damaged name in the footer is caught
        schema = schema_with_metadata(schema, {**metadata, "columns": schema.names})
        self._sink = HashingSink(folder.fs.open_output_stream(self.tmp))
        # buffered in front of the hashing sink: pyarrow writes many small pieces (page headers, pages)
        self._stream = pa.output_stream(self._sink, buffer_size=1 << 20)
        try:
            self._writer = pq.ParquetWriter(self._stream, schema,
                                            **writer_options(output_cfg.compression, output_cfg.compression_level))
        except BaseException:
            self._stream.close()
            _delete_quietly(folder.fs, self.tmp)
            raise
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> tuple[str, int]:
        """Finish the file and move it to its final name; returns its (SHA-256, size)."""
        self._writer.close()
        self._stream.close()  # flushes into the hashing sink and closes it
        self._sink.close()
        self.folder.fs.move(self.tmp, self.info.path)
        return self._sink.sha256.hexdigest(), self._sink.size

    def abort(self) -> None:
        try:
            self._writer.close()
        except BaseException:  # noqa: BLE001 - the file is discarded anyway
            pass
        for f in (self._stream, self._sink):
            try:
                f.close()
            except BaseException:  # noqa: BLE001
                pass
        _delete_quietly(self.folder.fs, self.tmp)
