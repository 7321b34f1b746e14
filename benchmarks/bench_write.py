"""Parquet compression settings on simgen's own rows: CPU time and bytes per video per setting,
next to zstd level 3 (simgen's default before 0.x) measured in the same run.

    python benchmarks/bench_write.py [--n 16] [--scene freefall] [--rounds 4] [override ...]

Makes ``n`` default rows once (video, masks, depth and ground truth, as `python -m simgen` writes
them), then writes all of them into an in-memory Parquet file with every setting (the shard
writer's dictionary, statistics and page-checksum options), the settings interleaved, ``rounds``
times (a shared machine's load drifts: only ratios within one run count). Prints per setting:
CPU-ms per video (median of the rounds), kB per video and the ratios to level 3.
"""

from __future__ import annotations

import argparse
import io
import os
import time

os.environ.setdefault("LP_NUM_THREADS", "0")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np

SETTINGS = [("zstd 3 (baseline)", "zstd", 3), ("zstd 1", "zstd", 1), ("zstd 2", "zstd", 2), ("zstd 6", "zstd", 6),
            ("lz4", "lz4", 1), ("none", "none", 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--scene", default="freefall")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()

    import pyarrow.parquet as pq

    from simgen.config import load_config
    from simgen.job import worker_pipeline
    from simgen.schema import SCHEMA, rows_to_table
    from simgen.shards import writer_options

    cfg = load_config([f"scene={args.scene}", "out=/tmp/simgen-bench-write", *args.overrides])
    pipe = worker_pipeline(cfg)
    rows = [pipe.make_row(i) for i in range(args.n)]
    pipe.close()
    tables = [rows_to_table([r]) for r in rows]  # one row group per video, as the default row_group_size

    def write(comp, level) -> int:
        sink = io.BytesIO()
        with pq.ParquetWriter(sink, SCHEMA, **writer_options(comp, level)) as w:  # as simgen.shards.ShardWriter
            for t in tables:
                w.write_table(t)
        return len(sink.getvalue())

    for _, comp, level in SETTINGS:  # warm-up: codec set-up, first allocations
        write(comp, level)
    cpu = {s[0]: [] for s in SETTINGS}
    size = {}
    for _ in range(args.rounds):
        for name, comp, level in SETTINGS:
            t = time.process_time()
            size[name] = write(comp, level) / args.n
            cpu[name].append((time.process_time() - t) / args.n)
    print(f"Parquet write of {args.n} {args.scene} rows (video, masks, depth {cfg.render.depth_dtype}, ground truth), "
          f"{args.rounds} interleaved rounds, CPU time")
    print(f"{'setting':20s} {'CPU-ms/video':>12s} {'kB/video':>9s} {'CPU vs 3':>9s} {'bytes vs 3':>10s}")
    base = SETTINGS[0][0]
    for name, _, _ in SETTINGS:
        ms = 1000 * float(np.median(cpu[name]))
        print(f"{name:20s} {ms:12.2f} {size[name] / 1000:9.1f} {np.median(cpu[name]) / np.median(cpu[base]):8.2f}x "
              f"{size[name] / size[base]:9.3f}x")


if __name__ == "__main__":
    main()
