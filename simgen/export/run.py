"""Run an export: plan from the light columns, write samples on worker processes, then the index files.

* **Streaming.** Each worker task reads a few samples, one row group at a time (see
  :mod:`simgen.export.source`); the parent holds only ids and captions.
* **Atomic.** Every file goes through :meth:`ExportFolder.write_bytes` (temporary, then moved).
* **Resume.** A rerun into a previous export of the same dataset(s), format and options skips every
  sample whose last file exists (a sample's last file is written after all its others); the index
  files and the manifest are rewritten at the end, so a killed export rerun gives the same folder
  as an uninterrupted one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Sequence

import simgen
from simgen.export.base import Format, Options, how_summary
from simgen.export.folder import OVERWRITE, RESUME, ExportFolder
from simgen.export.formats import make_format
from simgen.export.source import RowReader, Source, Unit, units

PROGRESS_INTERVAL_S = 5.0  # progress redraw interval when stderr is not a terminal


@dataclass
class Result:
    out: str
    format: str
    mode: str
    samples: int
    written: int
    skipped: int
    index_files: list[str]
    stats: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


# -- worker side ------------------------------------------------------------------------------------
_W: dict = {}


def _worker_state(uris: Sequence[str], fmt_name: str, options: Options, out: str):
    key = (tuple(uris), fmt_name, options, out)
    if _W.get("key") != key:
        fmt = make_format(fmt_name, options)
        _W.clear()
        _W.update(key=key, fmt=fmt, folder=ExportFolder(out), readers={})
    return _W["fmt"], _W["folder"], _W["readers"]


def write_unit(uris: Sequence[str], fmt_name: str, options: Options, out: str, unit: Unit, skip_done: bool) -> Counter:
    """Write the samples of one task; return counts (written, skipped, how videos were made, bytes)."""
    fmt, folder, readers = _worker_state(uris, fmt_name, options, out)
    stats: Counter = Counter()
    for s in unit.samples:
        if skip_done and folder.exists(fmt.files(s)[-1]):
            stats["skipped"] += 1
            continue
        reader = readers.get(unit.dataset)
        if reader is None:
            reader = readers[unit.dataset] = RowReader(uris[unit.dataset], fmt.columns)
        row = reader.read(s.pos)
        stats.update(fmt.write(folder, s, row))
        stats["written"] += 1
    return stats


# -- parent side ------------------------------------------------------------------------------------
def export(datasets: Sequence[str], fmt_name: str, out: str, *, options: Options | None = None,
           split: str | None = None, scenes: Sequence[str] | None = None, workers: int = 0, force: bool = False,
           progress: bool = True, log: Callable[[str], None] = print) -> Result:
    """Export ``datasets`` (folders or URIs) into ``out`` in format ``fmt_name``. See the module doc."""
    options = options or Options()
    fmt: Format = make_format(fmt_name, options)
    source = Source(datasets)
    fmt.check(source.metadata())
    samples = source.select(split, scenes)
    identity = {
        "tool": "simgen.export",
        "format": fmt.name,
        "datasets": source.identity(),
        "options": {"split": split, "scenes": sorted(scenes) if scenes else None, **fmt.identity()},
    }
    folder = ExportFolder(out)
    mode = folder.prepare(identity, force)
    notes = fmt.notes(samples)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(samples)))
    log(f"simgen.export: {len(samples)} sample(s) -> {fmt.name} in {out} on {n_workers} worker process(es)"
        + (" (resuming: finished samples are kept)" if mode == RESUME else "")
        + (" (overwriting: every file is rewritten)" if mode == OVERWRITE else ""))
    for note in notes:
        log(f"simgen.export: {note}")
    stats = _run(source.uris, fmt, options, out, units(samples), mode == RESUME, n_workers, len(samples), progress)
    index = fmt.write_index(folder, samples)
    folder.finish({**identity, "simgen_version": simgen.__version__}, len(samples))
    result = Result(out, fmt.name, mode, len(samples), stats["written"], stats["skipped"], index, stats, notes)
    how = how_summary(stats)
    log(f"simgen.export: wrote {result.written} sample(s), kept {result.skipped} finished; "
        f"{len(samples)} in {out}" + (f" (videos: {how})" if how else "")
        + (f"; index: {', '.join(index)}" if index else ""))
    if stats["unprompted"]:
        log(f"simgen.export: warning: {stats['unprompted']} object(s) are not visible in frame 0 and have no "
            "SAM 2 prompt points.")
    return result


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    interval = 0.1 if sys.stderr.isatty() else PROGRESS_INTERVAL_S
    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled, dynamic_ncols=True, mininterval=interval)


def _run(uris, fmt: Format, options: Options, out: str, tasks: list[Unit], skip_done: bool, n_workers: int,
         total: int, progress: bool) -> Counter:
    stats: Counter = Counter()
    bar = _bar(total, f"export/{fmt.name}", progress)
    try:
        if n_workers == 1:
            for u in tasks:
                stats.update(write_unit(uris, fmt.name, options, out, u, skip_done))
                bar.update(len(u.samples))
        else:
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                futures = {pool.submit(write_unit, uris, fmt.name, options, out, u, skip_done): u for u in tasks}
                pending = set(futures)
                try:
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            stats.update(f.result())  # re-raises a worker's error
                            bar.update(len(futures[f].samples))
                except BaseException:
                    for f in pending:
                        f.cancel()
                    raise
    finally:
        bar.close()
    return stats
