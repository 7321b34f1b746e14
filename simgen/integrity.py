"""Checksums written with every shard, and the checks that read them.

Every byte of a shard is covered by one of three layers:

1. **Pages** (all column data, nested columns and dictionaries included): Parquet page checksums, a
   CRC-32 per data and dictionary page, written with ``write_page_checksum=True`` and verified by every
   simgen read (``page_checksum_verification=True``: :func:`open_parquet`). A damaged page header
   breaks decoding, which is an error too.
2. **The footer**: the ``simgen`` metadata carries its own SHA-256 (key ``simgen.sha256``) and lists the
   column names; the columns read back must have exactly those names, and simgen's types
   (:data:`~simgen.schema.SCHEMA`; a damaged Arrow schema reads fixed-size lists back as plain lists).
3. **The whole file**: its SHA-256, taken while it is written, is recorded in ``_simgen.json`` when the
   shard is finished and checked when a run resumes. That covers the bytes no reader uses (column
   statistics, ``created_by``) and costs a read of the file (2.8 CPU-ms per MB; decoding every page
   instead costs 45: ``benchmarks/bench_integrity.py``).

Measured by flipping 4 bytes at every 3rd position of a real shard (``benchmarks/bench_integrity.py``;
``tests/test_reliability.py`` at 400 positions): every flip either raises
:class:`~simgen.errors.CorruptShardError` on read or leaves the values read unchanged, and every flip
fails the resume check.
"""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from simgen.errors import CorruptShardError, UserError

META_KEY = b"simgen"
META_DIGEST_KEY = b"simgen.sha256"
# Columns every simgen shard has had since schema version 1: a file without them is not a shard.
REQUIRED = ("sample_id", "index", "num_frames", "height", "width", "num_objects", "video")
_CHUNK = 1 << 22


def schema_with_metadata(schema: pa.Schema, metadata: dict) -> pa.Schema:
    blob = json.dumps(metadata, default=str, sort_keys=True).encode()
    return schema.with_metadata({META_KEY: blob, META_DIGEST_KEY: hashlib.sha256(blob).hexdigest().encode()})


def open_parquet(fs: pafs.FileSystem, path: str) -> pq.ParquetFile:
    """Open a shard for reading with page checksums verified; a file that is not Parquet (or is
    truncated) raises :class:`CorruptShardError` naming it."""
    try:
        return pq.ParquetFile(fs.open_input_file(path), page_checksum_verification=True)
    except (OSError, pa.ArrowException) as exc:
        raise CorruptShardError(f"Shard {path} is corrupt or truncated and cannot be read ({_one_line(exc)}).") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def shard_metadata(pf: pq.ParquetFile, path: str) -> dict:
    """The ``simgen`` metadata of a shard after checking its footer: simgen's columns with simgen's
    types, and metadata matching its digest. A Parquet file that is not a simgen shard raises
    :class:`UserError`; a damaged footer :class:`CorruptShardError`."""
    kv = pf.metadata.metadata or {}
    schema = pf.schema_arrow
    names = set(schema.names)
    if META_KEY not in kv and not all(c in names for c in REQUIRED):
        missing = [c for c in REQUIRED if c not in names]
        raise UserError(
            f"{path} is not a simgen shard: it has no simgen metadata and lacks the columns {', '.join(missing)} "
            f"(it has {', '.join(schema.names[:8])}{', ...' if len(schema.names) > 8 else ''}). "
            "open_dataset reads folders written by `python -m simgen`."
        )
    if META_KEY not in kv:
        raise CorruptShardError(f"Shard {path} is corrupt: its footer lost the simgen metadata.")
    blob = kv[META_KEY]
    digest = kv.get(META_DIGEST_KEY)
    if digest is not None and hashlib.sha256(blob).hexdigest().encode() != digest:
        raise CorruptShardError(f"Shard {path} is corrupt: its simgen metadata does not match its checksum.")
    try:
        meta = json.loads(blob)
    except ValueError:
        raise CorruptShardError(f"Shard {path} is corrupt: its simgen metadata is not valid JSON.") from None
    check_schema(schema, path, meta.get("schema_version"))
    if "columns" in meta and list(meta["columns"]) != list(schema.names):
        raise CorruptShardError(f"Shard {path} is corrupt: its column names do not match the ones in its metadata.")
    return meta


def check_schema(schema: pa.Schema, path: str, version=None) -> None:
    """Every column simgen knows must have simgen's type (extra columns of newer versions pass)."""
    from simgen.schema import SCHEMA

    for f in schema:
        idx = SCHEMA.get_field_index(f.name)
        if idx >= 0 and not f.type.equals(SCHEMA.field(idx).type):
            raise CorruptShardError(
                f"Shard {path} is corrupt or of another schema version ({version}): column {f.name!r} reads as "
                f"{f.type}, simgen writes {SCHEMA.field(idx).type}."
            )
    missing = [c for c in REQUIRED if c not in schema.names]
    if missing:
        raise CorruptShardError(f"Shard {path} is corrupt: it lacks the column(s) {', '.join(missing)}.")


def read_all(pf: pq.ParquetFile, path: str) -> int:
    """Decode every row group of every column (verifying each page's checksum); returns the rows."""
    rows = 0
    try:
        for g in range(pf.metadata.num_row_groups):
            rows += pf.read_row_group(g).num_rows
    except (OSError, pa.ArrowException) as exc:
        raise CorruptShardError(f"Shard {path} is corrupt: {_one_line(exc)}.") from None
    if rows != pf.metadata.num_rows:
        raise CorruptShardError(f"Shard {path} is corrupt: {rows} rows decoded, its footer says {pf.metadata.num_rows}.")
    return rows


def verify_file(fs: pafs.FileSystem, path: str) -> dict:
    """Full check of a shard without a recorded digest: footer, schema, metadata and every page.
    Returns its simgen metadata plus ``rows``; raises CorruptShardError / UserError."""
    pf = open_parquet(fs, path)
    meta = shard_metadata(pf, path)
    meta = dict(meta, rows=read_all(pf, path))
    return meta


def file_sha256(fs: pafs.FileSystem, path: str) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 4 MB chunks."""
    h, size = hashlib.sha256(), 0
    with fs.open_input_stream(path) as f:
        while True:
            b = f.read(_CHUNK)
            if not b:
                break
            h.update(b)
            size += len(b)
    return h.hexdigest(), size


class HashingSink(io.RawIOBase):
    """A write-only file object that hashes what passes through it into a pyarrow output stream."""

    def __init__(self, sink):
        super().__init__()
        self.sink, self.sha256, self.size = sink, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.sha256.update(b)
        self.sink.write(b)
        n = len(b) if not isinstance(b, memoryview) else b.nbytes
        self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        if not self.closed:
            try:
                self.sink.close()
            finally:
                super().close()
