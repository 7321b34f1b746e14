"""What the shard checksums catch, and what they cost.

    python benchmarks/bench_integrity.py                 # fuzz every 3rd byte of a small shard; costs on 20 videos
    python benchmarks/bench_integrity.py --stride 1      # every byte

1. **Fuzz.** A 2-video shard (64x64, 8 frames) is written by ``python -m simgen``; 4 bytes (xor 0x5A) are
   flipped at every ``--stride``-th position (with stride <= 4 every byte is flipped at least once) and
   the shard is read back through ``simgen.data.open_dataset`` (every column, video bytes undecoded).
   Each flip either raises ``CorruptShardError`` ("caught"), or reads back exactly the original values
   ("unchanged": bytes no reader uses, such as column statistics), or reads back other values without
   an error ("silent", the failure this guards against). Every flip must also fail the resume check
   (the file's SHA-256 against ``_simgen.json``).
2. **Costs**, on one shard of ``--n`` videos at the default 256x256x32 (CPU time, medians of interleaved
   repeats): the resume check of a shard with a recorded SHA-256 (read + hash) and without one (decode
   every page with its CRC), per MB; and the write with page checksums and the SHA-256 taken while
   writing against a plain write of the same rows, per video.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def generate(out: Path, *args: str) -> None:
    env = dict(os.environ, LP_NUM_THREADS=os.environ.get("LP_NUM_THREADS", "0"))
    subprocess.run([sys.executable, "-m", "simgen", *args, f"out={out}", "workers=1", "runner.progress=false"],
                   check=True, capture_output=True, cwd=REPO, env=env)


def same(a, b) -> bool:
    from simgen.data import values_equal

    return values_equal(a, b)


def rows(path: Path) -> list:
    from simgen.data import open_dataset

    ds = open_dataset(str(path), decode_video=False)
    return [ds[i] for i in range(len(ds))]


def fuzz(work: Path, stride: int) -> dict:
    import pyarrow.fs as pafs

    from simgen.errors import CorruptShardError
    from simgen.integrity import file_sha256

    ds = work / "fuzz"
    generate(ds, "n=2", "shard_size=2", "render.width=64", "render.height=64", "render.frames=8")
    src = ds / "shard-000000.parquet"
    data = src.read_bytes()
    recorded = json.loads((ds / "_simgen.json").read_text())["shards"][src.name]["sha256"]
    want = rows(src)
    target = work / "flipped.parquet"
    caught = unchanged = resume_missed = 0
    silent: list[int] = []
    for pos in range(4, len(data) - 8, stride):
        b = bytearray(data)
        b[pos:pos + 4] = bytes(x ^ 0x5A for x in b[pos:pos + 4])
        target.write_bytes(bytes(b))
        try:
            got = rows(target)
        except CorruptShardError:
            caught += 1
        else:
            if same(got, want):
                unchanged += 1
            else:
                silent.append(pos)
        if file_sha256(pafs.LocalFileSystem(), str(target))[0] == recorded:
            resume_missed += 1
    return {"bytes": len(data), "flips": caught + unchanged + len(silent), "caught": caught, "unchanged": unchanged,
            "silent": silent, "resume_missed": resume_missed}


def costs(work: Path, n: int, repeats: int) -> dict:
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from simgen.config import load_config
    from simgen.integrity import HashingSink, file_sha256, verify_file
    from simgen.shards import writer_options

    out = load_config([]).output  # the default codec and level, as the shard writer uses them

    ds = work / "costs"
    generate(ds, f"n={n}", f"shard_size={n}")
    path = str(ds / "shard-000000.parquet")
    fs = pafs.LocalFileSystem()
    mb = os.path.getsize(path) / 1e6
    table = pq.read_table(path)

    def write(checks: bool) -> None:
        sink = fs.open_output_stream(str(work / "w.parquet"))
        if checks:  # as simgen.shards.ShardWriter writes
            sink = pa.output_stream(HashingSink(sink), buffer_size=1 << 20)
        options = dict(writer_options(out.compression, out.compression_level), write_page_checksum=checks)
        w = pq.ParquetWriter(sink, table.schema, **options)
        for i in range(table.num_rows):
            w.write_table(table.slice(i, 1))
        w.close()
        sink.close()

    tasks = {"sha256": lambda: file_sha256(fs, path), "decode": lambda: verify_file(fs, path),
             "write_plain": lambda: write(False), "write_checked": lambda: write(True)}
    times: dict[str, list[float]] = {k: [] for k in tasks}
    for _ in range(repeats):
        for k, fn in tasks.items():
            c = time.process_time()
            fn()
            times[k].append(time.process_time() - c)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"videos": n, "mb": mb, **med}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stride", type=int, default=3, help="flip 4 bytes at every STRIDE-th position (default 3)")
    ap.add_argument("--n", type=int, default=20, help="videos in the shard the costs are measured on (default 20)")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="simgen-integrity-") as tmp:
        work = Path(tmp)
        f = fuzz(work, a.stride)
        c = costs(work, a.n, a.repeats)
    print(f"fuzz: {f['flips']} flips of 4 bytes (every {a.stride}{'rd' if a.stride == 3 else 'th'} position of a "
          f"{f['bytes']}-byte shard, 2 videos at 64x64x8): {f['caught']} raised CorruptShardError, {f['unchanged']} read "
          f"back unchanged, {len(f['silent'])} read back other values without an error"
          f"{' at ' + str(f['silent'][:10]) if f['silent'] else ''}; resume check missed {f['resume_missed']}")
    print(f"costs ({c['videos']} videos at 256x256x32, {c['mb']:.2f} MB, median of {a.repeats}):")
    print(f"  resume check, SHA-256 recorded : {1e3 * c['sha256'] / c['mb']:.1f} CPU-ms per MB")
    print(f"  resume check, decode every page: {1e3 * c['decode'] / c['mb']:.1f} CPU-ms per MB")
    print(f"  write, plain                   : {1e3 * c['write_plain'] / c['videos']:.2f} CPU-ms per video")
    print(f"  write, page CRCs + SHA-256     : {1e3 * c['write_checked'] / c['videos']:.2f} CPU-ms per video "
          f"({100 * (c['write_checked'] / c['write_plain'] - 1):+.1f} %)")
    return 1 if f["silent"] or f["resume_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
