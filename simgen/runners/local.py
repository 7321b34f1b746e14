"""Local runner: worker processes on this machine, one shard at a time each, all cores by default.

Each worker is a fresh ``spawn``-ed process that builds its own engine client and GL context once.
Mesa's llvmpipe would start its own rasteriser threads in every process; with one worker per core
they would only oversubscribe the cores, so workers run it single-threaded (``LP_NUM_THREADS=0``)
unless the user set that variable.

Each worker talks to the parent over its own pipe: a shard index goes in; per-sample progress, then
the shard's small summary or its failure come back. There is no queue shared between workers, so a
worker that dies (``kill -9``, the OOM killer) breaks nothing but its own pipe: the parent sees the
process end through its sentinel, knows which shard it held, and reports it.

Stopping. The first failing shard stops the job (``runner.max_failures``, default 0, lets that many
fail while the rest finish; a dead worker counts as a failed shard and is replaced). SIGINT (Ctrl-C,
also when the terminal sends it to every worker: they ignore it) and SIGTERM stop it too. Either way
pending shards are dropped and the workers get SIGTERM: each deletes its unfinished temporary file and
exits; any still running after :data:`STOP_GRACE_S` seconds get SIGKILL. Finished shards are kept.

Workers die with the parent: on Linux they ask the kernel for SIGKILL when the parent dies
(``prctl(PR_SET_PDEATHSIG)``); everywhere a thread also exits the worker once its parent is gone.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import wait

from omegaconf import DictConfig

from simgen.errors import Stopped
from simgen.job import Plan, ShardFailed, ShardResult, describe_failure, failure_error, run_shard
from simgen.scenes_registry import registrations

STOP_GRACE_S = 3.0  # seconds a stopped worker gets to delete its temporary file before SIGKILL
NON_TTY_INTERVAL_S = 5.0  # progress redraw interval when stderr is not a terminal


def effective_workers(cfg: DictConfig, pending: int) -> int:
    w = cfg.workers or os.cpu_count() or 1
    return max(1, min(w, pending))


def progress_bar(cfg: DictConfig, total: int, desc: str):
    """The job's tqdm bar on stderr: redrawn up to 10 times a second on a terminal, every
    ``NON_TTY_INTERVAL_S`` seconds when stderr is a file or a pipe (cluster logs, CI)."""
    from tqdm import tqdm

    interval = 0.1 if sys.stderr.isatty() else NON_TTY_INTERVAL_S
    return tqdm(total=total, desc=desc, unit="video", disable=not cfg.runner.progress, dynamic_ncols=True,
                smoothing=0.1, mininterval=interval)


# -- inside a worker --------------------------------------------------------------------------------

def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` ends: PR_SET_PDEATHSIG on Linux, a watcher thread always."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="simgen-parent-watch", daemon=True).start()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds run_shard, which deletes its temporary file


def _worker_main(conn, parent_pid: int, cfg: DictConfig, lp_threads: str | None, regs) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    signal.signal(signal.SIGTERM, _on_sigterm)
    if lp_threads is not None:
        os.environ["LP_NUM_THREADS"] = lp_threads
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    if regs:
        from simgen.scenes_registry import register

        families, _conf_dirs = regs  # workers get the composed config: no Hydra search needed
        for name, module in families.items():
            register(name, module)
    while True:
        try:
            k = conn.recv()
        except (EOFError, OSError):
            return
        if k is None:
            return
        try:
            result = run_shard(cfg, k, progress=lambda n, k=k: conn.send(("progress", k, n)))
            conn.send(("done", k, result))
        except ShardFailed as exc:
            conn.send(("failed", k, exc))


# -- the parent -------------------------------------------------------------------------------------

class _Worker:
    def __init__(self, ctx, cfg: DictConfig, lp: str | None, regs):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, os.getpid(), cfg, lp, regs),
                                name="simgen-worker", daemon=True)
        self.proc.start()
        child.close()
        self.shard = None  # ShardInfo being written
        self.dead = False

    def assign(self, shard) -> None:
        self.shard = shard
        try:
            self.conn.send(shard.k)
        except OSError:
            pass  # it died: its sentinel reports the shard as failed

    def death(self) -> str:
        self.proc.join(5)  # its sentinel fires as its files close, a moment before it can be reaped
        code = self.proc.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            how = f"killed by {name}" + (" (by hand or by the out-of-memory killer)" if -code == signal.SIGKILL else "")
        else:
            how = f"exited with status {code}"
        return f"worker process {self.proc.pid} died ({how}) while writing it"


class _Pool:
    def __init__(self, cfg: DictConfig, size: int):
        self.ctx = mp.get_context("spawn")
        self.cfg, self.size = cfg, size
        self.lp = os.environ.get("LP_NUM_THREADS", "0")
        self.regs = registrations()
        self.workers: list[_Worker] = []
        self.closed = False

    def start(self, count: int | None = None) -> None:
        for _ in range(self.size if count is None else count):
            self.workers.append(_Worker(self.ctx, self.cfg, self.lp, self.regs))

    def busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.shard is not None and not w.dead]

    def idle(self) -> list[_Worker]:
        return [w for w in self.workers if w.shard is None and not w.dead]

    def stop(self) -> None:
        """End every worker: SIGTERM (each deletes its temporary file), SIGKILL after the grace time."""
        if self.closed:
            return
        alive = [w for w in self.workers if w.proc.is_alive()]
        for w in alive:
            try:
                os.kill(w.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_S
        for w in alive:
            w.proc.join(max(0.0, deadline - time.monotonic()))
        for w in alive:
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(5)
        self._close_all()

    def close(self) -> None:
        """Normal end: ask each worker to exit, then make sure it did."""
        if self.closed:
            return
        for w in self.workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for w in self.workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
        self.stop()

    def _close_all(self) -> None:
        for w in self.workers:
            w.conn.close()
            if w.proc.exitcode is not None:
                w.proc.close()
        self.closed = True


def run(cfg: DictConfig, plan: Plan, log=print) -> list[ShardResult]:
    workers = effective_workers(cfg, len(plan.pending))
    total = plan.pending_videos
    log(f"simgen: {total} video(s) in {len(plan.pending)} shard(s) on {workers} worker process(es) -> {cfg.out}")
    results: list[ShardResult] = []
    failures: list[ShardFailed] = []
    pending = iter(plan.pending)
    bar = progress_bar(cfg, total, f"{cfg.scene.name}/{cfg.engine.name}")
    pool = _Pool(cfg, workers)
    finished = False
    try:
        pool.start()
        shard = next(pending, None)
        while True:
            for w in pool.idle():
                if shard is None:
                    break
                w.assign(shard)
                shard = next(pending, None)
            busy = pool.busy()
            if not busy:
                break
            by_obj = {}
            for w in busy:
                by_obj[w.conn] = by_obj[w.proc.sentinel] = w
            seen = len(failures)
            for obj in wait(list(by_obj), timeout=1.0):
                w = by_obj[obj]
                if w.dead:
                    continue
                _drain(w, bar, plan, results, failures)
                if obj is w.proc.sentinel or not w.proc.is_alive():
                    _drain(w, bar, plan, results, failures)  # what it sent before it died
                    w.dead = True
                    if w.shard is not None:
                        s = w.shard
                        failures.append(ShardFailed(s.k, s.start, s.stop, None, w.death()))
                        w.shard = None
                    if len(failures) <= cfg.runner.max_failures:
                        pool.start(1)  # replace it
            if len(failures) > cfg.runner.max_failures:
                inflight = len(pool.busy())
                raise failure_error(cfg, failures, f" ({inflight} shard(s) in flight cancelled)" if inflight else "")
            for f in failures[seen:]:
                bar.set_postfix(failed=len(failures))
                log(f"simgen: FAILED: {describe_failure(f, cfg.scene.name, cfg.seed)}")
        finished = True
    except KeyboardInterrupt as exc:
        raise (exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)) from None
    finally:
        bar.close()
        if finished:
            pool.close()
        else:
            pool.stop()
        _cleanup(plan)  # also an earlier killed run's writer that was still exiting when this run began
    if failures:
        ids = ", ".join(str(f.k) for f in failures)
        log(f"simgen: {len(failures)} shard(s) failed and are missing (within runner.max_failures="
            f"{cfg.runner.max_failures}): shard(s) {ids}. Rerun the same command to retry only those.")
    return sorted(results, key=lambda r: r.k)


def _cleanup(plan: Plan) -> None:
    """After stopping or finishing: remove the temporaries of dead writers (this run's ended workers,
    and an earlier killed run's that were still exiting when this run began; live ones are kept)."""
    try:
        plan.folder.remove_temporaries()
    except OSError:
        pass


def _drain(w: _Worker, bar, plan: Plan, results: list, failures: list) -> None:
    """Handle every message a worker has sent."""
    while True:
        try:
            if not w.conn.poll():
                return
            kind, k, payload = w.conn.recv()
        except (EOFError, OSError):
            return
        if kind == "progress":
            bar.update(payload)
        elif kind == "done":
            results.append(payload)
            plan.record(payload)
            w.shard = None
        elif kind == "failed":
            failures.append(payload)
            w.shard = None
