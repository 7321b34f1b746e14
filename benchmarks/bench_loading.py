"""Loading benchmark: decoded clips per CPU-second in one worker, and bytes per sample on disk.

    python benchmarks/bench_loading.py                 # generates 16 default videos (256x256x32) in a temp dir
    python benchmarks/bench_loading.py --path DIR      # or measures an existing dataset

One DataLoader worker is one process on one core, so "clips/s per worker" is measured as clips per
CPU-second (``time.process_time``) of this process with FFmpeg decoding single-threaded; wall time
on a shared machine would measure the neighbours. Every variant reads the same samples; the
baseline in the same run is plain ``pyarrow`` (read the row group's ``video`` cell) + PyAV
(decode every frame to RGB) without any dataset wrapper.

Bytes per sample come from the Parquet footers: compressed column-chunk sizes summed per column,
grouped into video, masks, depth, the other columns, and the footers themselves.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def generate(out: str, n: int, workers: int) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="egl", LP_NUM_THREADS="0")
    cmd = [sys.executable, "-m", "simgen", f"n={n}", f"shard_size={max(1, n // 2)}", f"workers={workers}",
           f"out={out}", "runner.progress=false"]
    print("generating:", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def measure_all(variants, n: int, repeats: int) -> list[tuple[str, float]]:
    """Best clips per CPU-second of each ``(label, fn)`` (``fn(i)`` for i in range(n)). Variants run
    round-robin, ``repeats`` rounds, so load from other processes hits them alike."""
    for _, fn in variants:
        fn(0)  # warm-up: imports, open files
    best = [0.0] * len(variants)
    for _ in range(repeats):
        for k, (_, fn) in enumerate(variants):
            t = time.process_time()
            for i in range(n):
                fn(i)
            best[k] = max(best[k], n / max(time.process_time() - t, 1e-9))
    return [(label, b) for (label, _), b in zip(variants, best)]


def iterate(ds):
    """An epoch of an IterableDataset as ``fn(i)``: each call takes the next sample."""
    state = {"it": iter(ds)}

    def fn(i):
        try:
            return next(state["it"])
        except StopIteration:
            state["it"] = iter(ds)
            return next(state["it"])

    return fn


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--path", help="existing dataset folder (default: generate one)")
    p.add_argument("--n", type=int, default=16, help="videos to generate [16]")
    p.add_argument("--workers", type=int, default=2, help="generation workers [2]")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)

    import av
    import pyarrow.parquet as pq
    import torch

    from simgen.card import footer_stats
    from simgen.data import open_dataset
    from simgen.torch import SimgenIterableDataset, SimgenTorchDataset

    torch.set_num_threads(1)
    tmp = None
    path = args.path
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="simgen-bench-")
        path = os.path.join(tmp.name, "freefall")
        generate(path, args.n, args.workers)

    base = open_dataset(path, columns=["video"], decode_video=False)
    n = len(base)
    s0 = base[0]
    T, H, W = s0["num_frames"], s0["height"], s0["width"]

    # -- baseline: plain pyarrow + PyAV --------------------------------------------------------
    files: dict[str, pq.ParquetFile] = {}

    def plain(i):
        shard, g, row = base.locate(i)
        pf = files.get(shard.path) or files.setdefault(shard.path, pq.ParquetFile(shard.path))
        data = pf.read_row_group(g, columns=["video"]).column("video")[row].as_py()
        with av.open(io.BytesIO(data)) as c:
            st = c.streams.video[0]
            st.codec_context.thread_count = 1
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(st)]
        return np.stack(frames)

    assert plain(0).shape == (T, H, W, 3)
    half = max(1, T // 2)
    variants = [
        ("plain pyarrow + PyAV (baseline), video only", plain),
        (f"SimgenTorchDataset columns=[video, caption], {T}x{H}x{W} uint8 [T,3,H,W]",
         SimgenTorchDataset(path, columns=["video", "caption"]).__getitem__),
        ("SimgenTorchDataset all columns (video, masks, depth, ground truth)", SimgenTorchDataset(path).__getitem__),
        ("SimgenTorchDataset all columns, float32 video in [0,1]",
         SimgenTorchDataset(path, video_dtype=torch.float32).__getitem__),
        (f"SimgenTorchDataset columns=[video], frames={half} start=first (decode stops early)",
         SimgenTorchDataset(path, columns=["video"], frames=half).__getitem__),
        (f"SimgenTorchDataset all columns, frames={half} start=random, size={H // 2} random crop",
         SimgenTorchDataset(path, frames=half, start="random", size=H // 2, crop="random").__getitem__),
        ("SimgenIterableDataset columns=[video, caption], shuffle buffer 8",
         iterate(SimgenIterableDataset(path, columns=["video", "caption"], shuffle_buffer=8))),
    ]
    rows = measure_all(variants, n, args.repeats)

    base_rate = rows[0][1]
    print(f"\nDecoded clips per CPU-second in one worker ({n} samples of {T}x{H}x{W}, best of {args.repeats}):")
    for label, rate in rows:
        print(f"  {rate:8.2f} clips/s  ({rate / base_rate:4.2f}x baseline)  {label}")

    st = footer_stats(base.fs, [s.path for s in base.shards])
    g = st.groups()
    g["footers"] = st.footer_bytes
    total = st.file_bytes
    print(f"\nBytes per sample on disk ({n} samples, {len(base.shards)} shard(s), {total / n / 1e3:.1f} KB per sample):")
    for k, v in g.items():
        print(f"  {k:<8} {v / n / 1e3:9.1f} KB  ({100 * v / total:4.1f}%)")
    raw = st.column_raw_bytes
    print(f"  (masks uncompressed {raw.get('masks', 0) / n / 1e3:.1f} KB, depth uncompressed "
          f"{raw.get('depth', 0) / n / 1e3:.1f} KB: zstd ratio {raw.get('masks', 0) / max(1, g['masks']):.0f}x "
          f"and {raw.get('depth', 0) / max(1, g['depth']):.1f}x)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
