"""A generation job: plan the shards, skip the finished ones, hand the rest to a runner, summarise.

Runners (local process pool, Ray) only map shard indices to workers; :func:`run_shard` is the unit
of work and its output depends only on ``(config, shard index)``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf

import simgen
from simgen.config import config_hash, content_config
from simgen.errors import UserError
from simgen.generate import STAGES, Pipeline, file_metadata
from simgen.schema import SCHEMA, rows_to_table
from simgen.shards import OutputFolder, ShardInfo, ShardWriter, shard_name, shard_ranges


@dataclass
class ShardResult:
    k: int
    rows: int
    bytes: int
    cpu: dict = field(default_factory=dict)
    wall: float = 0.0
    pid: int = 0


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
    """Generate and atomically write shard ``k``. ``progress(1)`` is called after each sample."""
    t0 = time.time()
    pipe = worker_pipeline(cfg)
    before = dict(pipe.cpu)
    folder = OutputFolder(cfg.out)
    start = k * cfg.shard_size
    stop = min(start + cfg.shard_size, cfg.n)
    info = ShardInfo(k, start, stop, folder.path(shard_name(k)))
    chash = config_hash(cfg)
    writer = ShardWriter(folder, info, SCHEMA, file_metadata(cfg, chash, k, start, stop), cfg.output)
    try:
        pending = []
        for i in range(start, stop):
            pending.append(pipe.make_row(i))
            if len(pending) >= cfg.output.row_group_size or i == stop - 1:
                with pipe.timed("write"):
                    writer.write(rows_to_table(pending))
                pending = []
            if progress is not None:
                progress(1)
        with pipe.timed("write"):
            writer.commit()
    except BaseException:
        writer.abort()
        raise
    size = folder.fs.get_file_info(info.path).size
    cpu = {s: pipe.cpu.get(s, 0.0) - before.get(s, 0.0) for s in STAGES}
    return ShardResult(k=k, rows=stop - start, bytes=size, cpu=cpu, wall=time.time() - t0, pid=os.getpid())


@dataclass
class Plan:
    folder: OutputFolder
    shards: list[ShardInfo]
    pending: list[ShardInfo]
    config_hash: str


def prepare(cfg: DictConfig, log=print) -> Plan:
    """Check the output folder against the config and find the shards still to write."""
    folder = OutputFolder(cfg.out)
    folder.ensure_writable()
    chash = config_hash(cfg)
    manifest = folder.read_manifest()
    existing = [n for n in folder.list_names() if n.startswith("shard-")]
    if manifest is not None and manifest.get("config_hash") != chash:
        if not cfg.overwrite:
            raise UserError(
                f"The output folder {cfg.out!r} holds a dataset written with a different configuration "
                f"(config hash {manifest.get('config_hash')}, this run {chash}). Refusing to mix them. "
                "Choose another out=, or pass overwrite=true to delete the existing shards first."
            )
        log(f"overwrite=true: removing {len(existing)} shard(s) written with another config from {cfg.out}")
        folder.remove_shards()
    elif manifest is None and existing:
        if not cfg.overwrite:
            raise UserError(
                f"The output folder {cfg.out!r} contains shard files but no {'_simgen.json'} manifest, so simgen "
                "cannot tell how they were made. Choose another out=, or pass overwrite=true to replace them."
            )
        folder.remove_shards()
    removed = folder.remove_temporaries()
    if removed:
        log(f"removed {removed} unfinished temporary file(s) left by an interrupted run")
    shards = [ShardInfo(k, s, e, folder.path(shard_name(k))) for k, s, e in shard_ranges(cfg.n, cfg.shard_size)]
    planned = {shard_name(s.k) for s in shards}
    for name in folder.list_names():  # shards beyond a smaller n
        if name.startswith("shard-") and name not in planned:
            folder.fs.delete_file(folder.path(name))
    folder.write_manifest(
        {
            "simgen_version": simgen.__version__,
            "schema_version": simgen.SCHEMA_VERSION,
            "config_hash": chash,
            "n": cfg.n,
            "shard_size": cfg.shard_size,
            "num_shards": len(shards),
            "config": content_config(cfg),
        }
    )
    pending = [s for s in shards if not folder.shard_complete(s, chash)]
    return Plan(folder=folder, shards=shards, pending=pending, config_hash=chash)


def summarize(cfg: DictConfig, plan: Plan, results: list[ShardResult], wall: float, log=print) -> dict:
    rows = sum(r.rows for r in results)
    cpu = {s: sum(r.cpu.get(s, 0.0) for r in results) for s in STAGES}
    total_cpu = sum(cpu.values())
    # A shard that failed (runner=ray with runner.max_failures > 0) is missing: no size.
    infos = plan.folder.fs.get_file_info([s.path for s in plan.shards])
    sizes = [i.size or 0 for i in infos]
    present = sum(s.stop - s.start for s, i in zip(plan.shards, infos) if i.size is not None)
    summary = {
        "videos_written": rows,
        "videos_total": cfg.n,
        "shards": len(plan.shards),
        "shards_written": len(results),
        "frames": rows * cfg.render.frames,
        "bytes": int(sum(sizes)),
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
        f"dataset now {cfg.n if present == cfg.n else f'{present} of {cfg.n}'} videos in {len(plan.shards)} shard(s), "
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
    from simgen.card import write_card
    from simgen.runners import get_runner

    t0 = time.time()
    plan = prepare(cfg, log=log)
    done = len(plan.shards) - len(plan.pending)
    if done:
        log(f"simgen: resuming: {done} of {len(plan.shards)} shard(s) already complete in {cfg.out}")
    results = get_runner(cfg.runner.name)(cfg, plan, log=log) if plan.pending else []
    summary = summarize(cfg, plan, results, time.time() - t0, log=log)
    write_card(cfg, plan, summary)  # dataset card: <out>/README.md (simgen/card.py)
    return summary


def describe(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg)
