"""Local runner: a pool of worker processes, one shard per task, all cores by default.

Each worker is a fresh ``spawn``-ed process that builds its own engine client and GL context once.
Mesa's llvmpipe would start its own rasteriser threads in every process; with one worker per core
they would only oversubscribe the cores, so workers run it single-threaded (``LP_NUM_THREADS=0``)
unless the user set that variable. Progress (videos, videos/s, ETA) is reported per sample through
a queue; only small shard summaries travel back to the parent.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from omegaconf import DictConfig

from simgen.job import Plan, ShardResult, run_shard
from simgen.scenes_registry import registrations

_QUEUE = None


def effective_workers(cfg: DictConfig, pending: int) -> int:
    w = cfg.workers or os.cpu_count() or 1
    return max(1, min(w, pending))


def _init_worker(q, lp_threads: str | None, registrations=None) -> None:
    global _QUEUE
    _QUEUE = q
    if registrations:
        from simgen.scenes_registry import register

        families, _conf_dirs = registrations  # workers get the composed config: no Hydra search needed
        for name, module in families.items():
            register(name, module)
    if lp_threads is not None:
        os.environ["LP_NUM_THREADS"] = lp_threads
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def _report(k: int) -> None:
    if _QUEUE is not None:
        _QUEUE.put(k)


def _task(cfg: DictConfig, k: int) -> ShardResult:
    return run_shard(cfg, k, progress=_report)


NON_TTY_INTERVAL_S = 5.0  # progress redraw interval when stderr is not a terminal


def progress_bar(cfg: DictConfig, total: int, desc: str):
    """The job's tqdm bar on stderr: redrawn up to 10 times a second on a terminal, every
    ``NON_TTY_INTERVAL_S`` seconds when stderr is a file or a pipe (cluster logs, CI)."""
    from tqdm import tqdm

    interval = 0.1 if sys.stderr.isatty() else NON_TTY_INTERVAL_S
    return tqdm(total=total, desc=desc, unit="video", disable=not cfg.runner.progress, dynamic_ncols=True,
                smoothing=0.1, mininterval=interval)


def run(cfg: DictConfig, plan: Plan, log=print) -> list[ShardResult]:
    workers = effective_workers(cfg, len(plan.pending))
    total = sum(s.stop - s.start for s in plan.pending)
    log(f"simgen: {total} video(s) in {len(plan.pending)} shard(s) on {workers} worker process(es) -> {cfg.out}")
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    lp = os.environ.get("LP_NUM_THREADS", "0")
    results: list[ShardResult] = []
    bar = progress_bar(cfg, total, f"{cfg.scene.name}/{cfg.engine.name}")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(q, lp, registrations())) as pool:
            futures = {pool.submit(_task, cfg, s.k): s for s in plan.pending}
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(q, bar)
                for fut in done:
                    results.append(fut.result())  # re-raises a worker's exception
            _drain(q, bar)
    finally:
        bar.close()
    return sorted(results, key=lambda r: r.k)


def _drain(q, bar) -> None:
    n = 0
    while True:
        try:
            q.get_nowait()
            n += 1
        except queue.Empty:
            break
    if n:
        bar.update(n)
