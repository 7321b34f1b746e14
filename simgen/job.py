"""A generation job: plan the shards, check the ones that exist, hand the rest to a runner, summarise.

Runners (local process pool, Ray) only map shard indices to workers; :func:`run_shard` is the unit
of work and its output depends only on ``(config, shard index)``.

The plan is lazy: shards are numbered ``0 .. ceil(n / shard_size) - 1`` and only the ones that exist
in the folder are looked at, so planning costs the same for ``n=10`` and ``n=10**12``. A job holds the
folder's lock (:mod:`simgen.lock`) from planning to its last write. Resuming checks every existing
shard before trusting it: against the SHA-256 recorded in ``_simgen.json`` when the shard was finished
(a read of the file, 2.8 CPU-ms per MB), or, for a shard finished after the last manifest update (the
job was killed within seconds of it), by decoding every page with its checksum (45 CPU-ms per MB;
``benchmarks/bench_integrity.py``); a shard that fails is deleted and regenerated.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf

import simgen
from simgen.config import config_hash, content_config
from simgen.errors import CorruptShardError, JobFailed, Stopped, UserError
from simgen.generate import STAGES, Pipeline, file_metadata
from simgen.integrity import file_sha256, verify_file
from simgen.lock import FolderLock
from simgen.schema import SCHEMA, rows_to_table
from simgen.shards import (
    MANIFEST,
    OutputFolder,
    ShardInfo,
    ShardWriter,
    auto_shard_size,
    num_shards,
    shard_name,
)

MANIFEST_FLUSH_S = 5.0  # finished shards are recorded in _simgen.json at most this often (and at the end)
# Peak memory of one worker (measured RSS at 256x256: 462 MB at 32 frames, 720 MB at 160 frames):
# a fixed part plus ~31 bytes per pixel per frame (RGB, masks, depth and the renderer's float buffers).
WORKER_BASE_BYTES = 300e6
BYTES_PER_PIXEL_FRAME = 32


@dataclass
class ShardResult:
    k: int
    rows: int
    bytes: int
    cpu: dict = field(default_factory=dict)
    wall: float = 0.0
    pid: int = 0
    sha256: str = ""


class ShardFailed(Exception):
    """A shard's generation raised: which shard, which sample, what went wrong (picklable, so it
    crosses process and Ray boundaries)."""

    def __init__(self, k: int, start: int, stop: int, index: int | None, error: str):
        super().__init__(k, start, stop, index, error)
        self.k, self.start, self.stop, self.index, self.error = k, start, stop, index, error

    @property
    def disk_full(self) -> bool:
        return "No space left on device" in self.error or "[Errno 28]" in self.error

    def __str__(self) -> str:
        at = f" failed at sample {self.index}" if self.index is not None else " failed"
        return f"shard {self.k} (samples {self.start}..{self.stop - 1}){at}: {self.error}"


def describe_failure(f: ShardFailed, scene: str, seed: int) -> str:
    """``shard 1 (samples 2..3; failed at sample 3, sample_id freefall-0-00000003): RuntimeError: ...``"""
    where = f"shard {f.k} (samples {f.start}..{f.stop - 1}"
    if f.index is not None:
        where += f"; failed at sample {f.index}, sample_id {scene}-{seed}-{f.index:08d}"
    return where + f"): {f.error}"


def failure_error(cfg: DictConfig, failures: list[ShardFailed], extra: str = "") -> JobFailed:
    """The one-line error that stops a job once more than ``runner.max_failures`` shards failed."""
    m = cfg.runner.max_failures
    first = describe_failure(failures[0], cfg.scene.name, cfg.seed)
    err = JobFailed(
        f"{len(failures)} shard(s) failed, more than runner.max_failures={m}; stopping{extra}. First failure: {first}. "
        "Finished shards are kept: fix the cause and rerun the same command to resume, or raise runner.max_failures "
        "to let the rest of the job finish without the failing shards."
    )
    err.failure = failures[0]
    return err


_PIPELINE: Pipeline | None = None
_PIPELINE_KEY: str | None = None


def worker_pipeline(cfg: DictConfig) -> Pipeline:
    """The per-process pipeline (engine + GL context), created on first use and reused."""
    global _PIPELINE, _PIPELINE_KEY
    key = config_hash(cfg)
    if _PIPELINE is None or _PIPELINE_KEY != key:
        if _PIPELINE is not None:
            _PIPELINE.close()
        _PIPELINE = Pipeline(cfg)
        _PIPELINE_KEY = key
    return _PIPELINE


def run_shard(cfg: DictConfig, k: int, progress=None) -> ShardResult:
    """Generate and atomically write shard ``k`` (``cfg`` is a plan's config: :attr:`Plan.cfg`).
    ``progress(1)`` is called after each sample. An exception becomes :class:`ShardFailed`."""
    if not cfg.shard_size:
        raise ValueError("run_shard needs the config of a plan (shard_size resolved): use prepare(cfg).cfg")
    t0 = time.time()
    start = k * cfg.shard_size
    stop = min(start + cfg.shard_size, cfg.n)
    index = None
    try:
        pipe = worker_pipeline(cfg)
        before = dict(pipe.cpu)
        folder = OutputFolder(cfg.out)
        info = ShardInfo(k, start, stop, folder.path(shard_name(k)))
        chash = config_hash(cfg)
        writer = ShardWriter(folder, info, SCHEMA, file_metadata(cfg, chash, k, start, stop), cfg.output)
    except Exception as exc:
        raise ShardFailed(k, start, stop, index, _error_text(exc)) from exc
    try:
        pending = []
        for index in range(start, stop):
            pending.append(pipe.make_row(index))
            if len(pending) >= cfg.output.row_group_size or index == stop - 1:
                with pipe.timed("write"):
                    writer.write(rows_to_table(pending))
                pending = []
            if progress is not None:
                progress(1)
        index = None
        with pipe.timed("write"):
            sha, size = writer.commit()
    except Exception as exc:
        writer.abort()
        raise ShardFailed(k, start, stop, index, _error_text(exc)) from exc
    except BaseException:
        writer.abort()
        raise
    cpu = {s: pipe.cpu.get(s, 0.0) - before.get(s, 0.0) for s in STAGES}
    return ShardResult(k=k, rows=stop - start, bytes=size, cpu=cpu, wall=time.time() - t0, pid=os.getpid(), sha256=sha)


def _error_text(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


# -- the plan -----------------------------------------------------------------------------------

class _Shards(Sequence):
    """Every shard of the plan, computed on demand (``len`` may be 10**10)."""

    def __init__(self, plan: "Plan"):
        self._plan = plan

    def __len__(self) -> int:
        return self._plan.num_shards

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._plan.shard(i) for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self._plan.shard(k)


class _Pending:
    """The shards still to write, in order, computed on demand."""

    def __init__(self, plan: "Plan"):
        self._plan = plan

    def __len__(self) -> int:
        return self._plan.num_shards - len(self._plan.complete)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self):
        done = self._plan.complete
        for k in range(self._plan.num_shards):
            if k not in done:
                yield self._plan.shard(k)


@dataclass
class Plan:
    cfg: DictConfig  # the run's config with shard_size resolved: what workers get
    folder: OutputFolder
    config_hash: str
    manifest: dict
    complete: dict = field(default_factory=dict)  # k -> rows of shards verified before the run
    written: dict = field(default_factory=dict)  # k -> ShardResult of shards written by this run
    _flushed: float = 0.0

    @property
    def n(self) -> int:
        return int(self.cfg.n)

    @property
    def shard_size(self) -> int:
        return int(self.cfg.shard_size)

    @property
    def num_shards(self) -> int:
        return num_shards(self.n, self.shard_size)

    def shard(self, k: int) -> ShardInfo:
        start = k * self.shard_size
        return ShardInfo(k, start, min(start + self.shard_size, self.n), self.folder.path(shard_name(k)))

    @property
    def shards(self) -> _Shards:
        return _Shards(self)

    @property
    def pending(self) -> _Pending:
        return _Pending(self)

    @property
    def pending_videos(self) -> int:
        return self.n - sum(self.complete.values())

    def record(self, result: ShardResult) -> None:
        """A runner reports a finished shard: its digest goes into the manifest (written at most
        every MANIFEST_FLUSH_S seconds; :meth:`flush` at the end)."""
        self.written[result.k] = result
        self.manifest.setdefault("shards", {})[shard_name(result.k)] = {
            "rows": result.rows, "bytes": result.bytes, "sha256": result.sha256}
        if time.monotonic() - self._flushed >= MANIFEST_FLUSH_S:
            self.flush()

    def flush(self) -> None:
        self.folder.write_manifest(self.manifest)
        self._flushed = time.monotonic()

    @property
    def finished_shards(self) -> int:
        return len(self.complete) + len([k for k in self.written if k not in self.complete])


def resolve(cfg: DictConfig, shard_size: int) -> DictConfig:
    """``cfg`` with ``shard_size`` set (read-only, as load_config returns it)."""
    if cfg.shard_size == shard_size:
        return cfg
    d = OmegaConf.to_container(cfg, resolve=True)
    d["shard_size"] = int(shard_size)
    out = OmegaConf.create(d)
    OmegaConf.set_readonly(out, True)
    return out


def prepare(cfg: DictConfig, log=print, folder: OutputFolder | None = None) -> Plan:
    """Check the output folder against the config, check the shards it holds and find the ones
    still to write. The caller holds the folder's lock (:func:`run` does)."""
    folder = folder or OutputFolder(cfg.out)
    folder.ensure_writable()
    manifest = folder.read_manifest()
    refuse_foreign(folder, manifest, cfg.out)
    existing = folder.shard_names()
    size = cfg.shard_size or (manifest or {}).get("shard_size") or auto_shard_size(cfg.n)
    run_cfg = resolve(cfg, size)
    chash = config_hash(run_cfg)
    if manifest is not None and manifest.get("config_hash") != chash:
        if not cfg.overwrite:
            diff = config_diff(manifest.get("config") or {}, content_config(run_cfg))
            raise UserError(
                f"The output folder {cfg.out!r} holds a dataset written with a different configuration "
                f"(config hash {manifest.get('config_hash')}, this run {chash}{'; ' + diff if diff else ''}). "
                "Refusing to mix them. Choose another out=, or pass overwrite=true to delete the existing shards first."
            )
        log(f"overwrite=true: removing {len(existing)} shard(s) written with another config from {cfg.out}")
        folder.remove_shards()
        manifest, existing = None, {}
        run_cfg = resolve(cfg, cfg.shard_size or auto_shard_size(cfg.n))
        chash = config_hash(run_cfg)
    elif manifest is None and existing:
        if not cfg.overwrite:
            raise UserError(
                f"The output folder {cfg.out!r} contains shard files but no {MANIFEST} manifest, so simgen cannot tell "
                f"how they were made. Rebuild the manifest from the shards with `python -m simgen.repair {cfg.out}`, "
                "choose another out=, or pass overwrite=true to replace them."
            )
        folder.remove_shards()
        existing = {}
    removed = folder.remove_temporaries()
    if removed:
        log(f"removed {removed} unfinished temporary file(s) left by an interrupted run")
    plan = Plan(cfg=run_cfg, folder=folder, config_hash=chash, manifest=_new_manifest(run_cfg, chash, manifest))
    for k, name in sorted(existing.items()):
        if k >= plan.num_shards:  # shards beyond a smaller n
            folder.fs.delete_file(folder.path(name))
            plan.manifest["shards"].pop(name, None)
    plan.complete = check_existing(plan, {k: v for k, v in existing.items() if k < plan.num_shards}, log)
    plan.flush()
    return plan


def config_diff(old: dict, new: dict, limit: int = 4) -> str:
    """``render.fps 16.0 -> 8.0, seed 0 -> 5``: the keys whose values differ (at most ``limit``)."""
    def flat(d, prefix=""):
        out = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    a, b = flat(old), flat(new)
    keys = sorted(k for k in set(a) | set(b) if a.get(k, "<unset>") != b.get(k, "<unset>"))
    parts = [f"{k} {a.get(k, '<unset>')} -> {b.get(k, '<unset>')}" for k in keys[:limit]]
    return ", ".join(parts) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def refuse_foreign(folder: OutputFolder, manifest: dict | None, out: str) -> None:
    """A folder that holds anything but a simgen dataset is not written into (nothing is replaced)."""
    from simgen.card import card_is_ours

    if manifest is not None:
        return
    foreign = folder.foreign_entries(lambda: card_is_ours(folder, None))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UserError(
            f"out={out!r} is not empty and is not a simgen dataset (it holds {shown}). simgen writes only into "
            "a new or empty folder or one of its own datasets, and never replaces files it did not write: "
            "choose another out=."
        )


def _new_manifest(cfg: DictConfig, chash: str, old: dict | None) -> dict:
    manifest = {
        "simgen_version": simgen.__version__,
        "schema_version": simgen.SCHEMA_VERSION,
        "config_hash": chash,
        "n": cfg.n,
        "shard_size": cfg.shard_size,
        "num_shards": num_shards(cfg.n, cfg.shard_size),
        "config": content_config(cfg),
        "shards": dict((old or {}).get("shards") or {}),
    }
    if old and old.get("card_sha256"):
        manifest["card_sha256"] = old["card_sha256"]
    return manifest


def check_existing(plan: Plan, existing: dict[int, str], log=print) -> dict[int, int]:
    """Which existing shards are complete and intact: ``{k: rows}``. Corrupt ones are deleted (a
    rerun regenerates them); ones of another layout (a changed ``n``) are left to be rewritten."""
    records = plan.manifest.setdefault("shards", {})
    for name in [n for n in records if n not in existing.values()]:
        records.pop(name)  # recorded, then deleted by hand

    def check(k: int) -> tuple[int, str, str | None]:
        info = plan.shard(k)
        rec = records.get(info.name)
        try:
            if rec and rec.get("rows") == info.rows:
                sha, size = file_sha256(plan.folder.fs, info.path)
                if sha != rec.get("sha256") or size != rec.get("bytes"):
                    return k, "corrupt", f"its bytes do not match the SHA-256 recorded in {MANIFEST}"
                return k, "ok", None
            meta = verify_file(plan.folder.fs, info.path)
            if (meta.get("config_hash") != plan.config_hash or meta.get("rows") != info.rows
                    or meta.get("start") != info.start or meta.get("stop") != info.stop):
                return k, "other", None
            sha, size = file_sha256(plan.folder.fs, info.path)
            records[info.name] = {"rows": info.rows, "bytes": size, "sha256": sha}
            return k, "ok", None
        except (CorruptShardError, UserError) as exc:
            return k, "corrupt", str(exc)

    t0 = time.time()
    complete: dict[int, int] = {}
    threads = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for k, state, why in pool.map(check, sorted(existing)):
            name = existing[k]
            if state == "ok":
                complete[k] = plan.shard(k).rows
            elif state == "corrupt":
                log(f"simgen: {name} is corrupt ({why}); deleting it, it will be regenerated")
                records.pop(name, None)
                plan.folder.fs.delete_file(plan.folder.path(name))
            else:
                records.pop(name, None)
    if len(existing) >= 50:
        log(f"simgen: checked {len(existing)} existing shard(s) in {time.time() - t0:.1f} s")
    return complete


# -- before starting ------------------------------------------------------------------------------

def available_memory() -> int | None:
    """Bytes this process may still allocate: MemAvailable, capped by a cgroup (v2 or v1) limit."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f, open(usage_file) as g:
                limit, usage = f.read().strip(), int(g.read().strip())
            if limit != "max" and int(limit) < 1 << 60:
                room = int(limit) - usage
                avail = room if avail is None else min(avail, room)
            break
        except (OSError, ValueError):
            continue
    return avail


def worker_memory(cfg: DictConfig) -> float:
    r = cfg.render
    return WORKER_BASE_BYTES + float(r.frames) * r.width * r.height * BYTES_PER_PIXEL_FRAME


def check_memory(cfg: DictConfig, workers: int) -> None:
    """Refuse, before anything is written, a job whose workers cannot fit in memory together."""
    need = worker_memory(cfg)
    avail = available_memory()
    if avail is None or need * workers <= avail:
        return
    r = cfg.render
    fits = int(avail // need)
    gb = 1e9
    hint = (f"set workers={fits} or lower render.frames / render.width / render.height" if fits >= 1
            else "lower render.frames / render.width / render.height (a worker holds one whole video in memory)")
    raise UserError(
        f"Not enough memory: render.frames={r.frames} at {r.width}x{r.height} needs about {need / gb:.1f} GB per worker "
        f"({r.frames} x {r.width} x {r.height} x {BYTES_PER_PIXEL_FRAME} bytes per pixel and frame + "
        f"{WORKER_BASE_BYTES / gb:.1f} GB), {workers} worker(s) need {need * workers / gb:.1f} GB and "
        f"{avail / gb:.1f} GB is available: {hint}."
    )


def planned_workers(cfg: DictConfig) -> int | None:
    """Worker processes this machine will run, or None when they run elsewhere (a Ray cluster)."""
    if cfg.runner.name == "ray":
        address = cfg.runner.address or os.environ.get("RAY_ADDRESS") or "local"
        if address != "local":
            return None
    return max(1, min(cfg.workers or os.cpu_count() or 1, cfg.n))


# -- signals ----------------------------------------------------------------------------------------

@contextmanager
def stop_on_signals():
    """SIGINT (Ctrl-C) and SIGTERM raise :class:`Stopped` in the main thread; later ones are ignored
    while the job winds down (that takes a few seconds at most)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if fired:
            return
        fired.append(signum)
        raise Stopped(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# -- the job ----------------------------------------------------------------------------------------

def summarize(cfg: DictConfig, plan: Plan, results: list[ShardResult], wall: float, log=print) -> dict:
    rows = sum(r.rows for r in results)
    cpu = {s: sum(r.cpu.get(s, 0.0) for r in results) for s in STAGES}
    total_cpu = sum(cpu.values())
    # A shard that failed (runner.max_failures > 0) is missing: no size.
    files = {k: n for k, n in plan.folder.shard_names().items() if k < plan.num_shards}
    infos = plan.folder.fs.get_file_info([plan.folder.path(n) for n in files.values()])
    present = sum(plan.shard(k).rows for k in files)
    summary = {
        "videos_written": rows,
        "videos_total": cfg.n,
        "shards": plan.num_shards,
        "shards_written": len(results),
        "frames": rows * cfg.render.frames,
        "bytes": int(sum(i.size or 0 for i in infos)),
        "wall_s": wall,
        "videos_per_s": rows / wall if wall > 0 else 0.0,
        "videos_per_cpu_s": rows / total_cpu if total_cpu > 0 else 0.0,
        "cpu_s": cpu,
        "out": cfg.out,
        "videos_present": present,
    }
    mb = summary["bytes"] / 1e6
    log(
        f"simgen: wrote {rows} video(s) ({summary['frames']} frames) in {len(results)} shard(s); "
        f"dataset now {cfg.n if present == cfg.n else f'{present} of {cfg.n}'} videos in {plan.num_shards} shard(s), "
        f"{mb:.1f} MB, at {cfg.out}"
    )
    if rows:
        parts = ", ".join(f"{s} {100 * cpu[s] / max(total_cpu, 1e-9):.0f}%" for s in STAGES)
        log(
            f"simgen: {summary['videos_per_s']:.2f} videos/s wall, "
            f"{summary['videos_per_cpu_s']:.2f} videos per CPU-second ({parts})"
        )
    return summary


def run(cfg: DictConfig, log=print) -> dict:
    t0 = time.time()
    # Everything that can be refused is refused before the folder is created or touched.
    workers = planned_workers(cfg)
    if workers is not None:
        check_memory(cfg, workers)
    if cfg.runner.name == "ray":
        from simgen.runners.ray import preflight

        preflight(cfg)
    folder = OutputFolder(cfg.out)
    folder.check_not_a_file()
    refuse_foreign(folder, folder.read_manifest(), cfg.out)
    folder.ensure_writable()
    with FolderLock(folder), stop_on_signals():
        try:
            return _run_locked(cfg, folder, t0, log)
        except OSError as exc:  # the main process's own writes (manifest, card): workers' arrive as JobFailed
            free = _free_bytes(folder)
            room = f" ({free / 1e6:.1f} MB free)" if free is not None else ""
            raise UserError(f"Cannot write to out={cfg.out}{room}: {' '.join(str(exc).split())}. Finished shards are "
                            "kept: fix the cause (free some space?) and rerun the same command to resume.") from None


def _run_locked(cfg: DictConfig, folder: OutputFolder, t0: float, log) -> dict:
    from simgen.card import write_card
    from simgen.runners import get_runner

    plan = prepare(cfg, log=log, folder=folder)
    done = len(plan.complete)
    if done:
        log(f"simgen: resuming: {done} of {plan.num_shards} shard(s) already complete in {cfg.out}")
    try:
        results = get_runner(cfg.runner.name)(plan.cfg, plan, log=log) if plan.pending else []
    except Stopped as exc:
        _flush_quietly(plan)
        try:  # the folder is the truth: a worker may have finished a shard it had no time to report
            finished = len([k for k in folder.shard_names() if k < plan.num_shards])
        except OSError:
            finished = plan.finished_shards
        raise Stopped(exc.signum, (
            f"stopped by {exc.signal_name}: pending shards cancelled, workers ended; "
            f"{finished} of {plan.num_shards} shard(s) are finished and kept in {cfg.out}. "
            "Rerun the same command to resume.")) from None
    except JobFailed as exc:
        _flush_quietly(plan)
        raise JobFailed(_with_disk_hint(str(exc), plan, getattr(exc, "failure", None))) from None
    except BaseException:
        _flush_quietly(plan)
        raise
    for r in results:
        if r.k not in plan.written:
            plan.record(r)
    summary = summarize(plan.cfg, plan, results, time.time() - t0, log=log)
    card = write_card(plan.cfg, plan, summary, log=log)
    if card is not None:
        plan.manifest["card_sha256"] = card
    plan.flush()
    return summary


def _free_bytes(folder: OutputFolder) -> int | None:
    import shutil

    if not folder.is_local:
        return None
    try:
        return shutil.disk_usage(folder.root).free
    except OSError:
        return None


def _flush_quietly(plan: Plan) -> None:
    try:
        plan.flush()
    except OSError:
        pass


def _with_disk_hint(message: str, plan: Plan, failure) -> str:
    """A failure that is a full disk says how much free space the rest of the job needs."""
    if failure is None or not getattr(failure, "disk_full", False):
        return message
    records = list(plan.manifest.get("shards", {}).values())
    done_rows = sum(v.get("rows", 0) for v in records)
    per_video = sum(v.get("bytes", 0) for v in records) / done_rows if done_rows else 0.0
    left = plan.n - done_rows
    free = _free_bytes(plan.folder)
    need = f"about {per_video * left / 1e6:.1f} MB more for the {left} video(s) still to write" if per_video else \
        f"room for {left} more video(s)"
    have = f"{free / 1e6:.1f} MB free" if free is not None else "the storage is full"
    return (f"Disk full: the output folder {plan.cfg.out} ran out of space ({have}); the job needs {need}. "
            f"Finished shards are kept (nothing partial is left): free some space or choose another out=, then rerun "
            f"the same command to resume. ({message})")


def describe(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg)
