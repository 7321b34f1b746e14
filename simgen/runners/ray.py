"""Ray runner: one Ray task per shard on an existing cluster or a local one.

``runner=ray`` connects to the cluster named by ``runner.address`` (``auto``, ``host:port``,
``ray://host:10001``), or, when it is unset, to ``$RAY_ADDRESS`` (set by ``ray job submit``), or else
starts a local Ray instance sized to ``workers`` (all cores when 0). ``runner.address=local`` always
starts a fresh local instance. Each pending shard becomes one task that calls
:func:`simgen.job.run_shard` with ``runner.num_cpus`` / ``runner.num_gpus`` reserved; the task writes
its shard itself (atomically) and returns only a small :class:`~simgen.job.ShardResult`, so no video
data ever reaches the driver.

Faults. A task whose worker process or node dies, or that raises, is retried by Ray up to
``runner.max_retries`` times. A retry writes into a fresh temporary file and moves it over the
shard's final name, so a shard is never half-written and never holds rows twice. A shard that still
fails is reported with its sample range, the sample that failed and the error; the job goes on
while at most ``runner.max_failures`` shards have failed, otherwise it stops with a
:class:`~simgen.errors.UserError` (exit status 2). Failed shards are simply missing: rerunning the
same command generates only them (resume).

Progress is per sample: tasks report to a small actor that the driver polls (only when
``runner.progress`` is on); a retried shard does not count its samples twice.

Connecting to ``host:port`` or ``ray://host:port`` first opens a plain TCP connection with a
``runner.connect_timeout_s`` deadline, so an address where nothing listens fails in seconds with one
line instead of Ray's minutes of retries. SIGINT / SIGTERM on the driver cancel every task in flight
(``ray.cancel(force=True)``) before it exits; a driver killed outright (``kill -9``) ends its Ray job,
and Ray then kills the job's workers and their tasks (tested).
"""

from __future__ import annotations

import os
import signal
import time
import uuid

from omegaconf import DictConfig

from simgen.errors import Stopped, UserError
from simgen.job import Plan, ShardFailed, ShardResult, describe_failure, failure_error, run_shard

TASK_NAME = "simgen_shard"
_POLL_S = 0.25


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UserError("runner=ray needs Ray, which is not installed: pip install 'simgen[ray]' "
                        "(or 'ray[default]'), or use runner=local.") from None
    return ray


def worker_env() -> dict[str, str]:
    """Environment of the task processes: llvmpipe single-threaded (one task per reserved CPU), EGL."""
    return {
        "LP_NUM_THREADS": os.environ.get("LP_NUM_THREADS", "0"),
        "PYOPENGL_PLATFORM": os.environ.get("PYOPENGL_PLATFORM", "egl"),
    }


def _apply_env(env: dict[str, str]) -> None:
    """Set the worker environment inside the task, before the pipeline (and its GL context) exists.

    Done in the process rather than through a per-task ``runtime_env``: tasks then run in the job's
    ordinary workers (Ray prestarts them) instead of dedicated ones started for a different runtime
    env. A value already set on the worker (the cluster's or the job's runtime env) is kept."""
    for key, value in env.items():
        os.environ.setdefault(key, value)


def _address(cfg: DictConfig) -> tuple[str, str]:
    """The address to connect to and the setting it came from."""
    address = cfg.runner.address or os.environ.get("RAY_ADDRESS") or "local"
    key = "runner.address" if cfg.runner.address else ("$RAY_ADDRESS" if address != "local" else "runner.address")
    return address, key


def preflight(cfg: DictConfig) -> None:
    """Before the job touches the output folder: Ray is installed and the cluster's address answers."""
    _import_ray()
    address, key = _address(cfg)
    probe(address, key, float(cfg.runner.connect_timeout_s))


def connect(cfg: DictConfig, log=print) -> bool:
    """Connect to (or start) Ray. Returns True when this call initialised Ray (and should shut it down)."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    address, key = _address(cfg)
    kwargs: dict = {"log_to_driver": True, "configure_logging": True, "logging_level": "warning"}
    if address == "local":
        if cfg.workers:
            kwargs["num_cpus"] = cfg.workers * cfg.runner.num_cpus
        kwargs["include_dashboard"] = False
        kwargs["_node_ip_address"] = "127.0.0.1"  # a one-machine instance listens on loopback only
    probe(address, key, float(cfg.runner.connect_timeout_s))
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        chain, e = [], exc
        while e is not None and len(chain) < 10:
            chain.append(f"{type(e).__name__} {e}")
            e = e.__cause__ or e.__context__
        hint = ""
        if "authenticat" in " ".join(chain).lower():
            hint = (" The cluster uses token authentication (the default of `ray start` in recent Ray versions): "
                    "set RAY_AUTH_MODE=token and make its token available (~/.ray/auth_token or RAY_AUTH_TOKEN).")
        raise UserError(f"Cannot connect to a Ray cluster at {key}={address!r} ({msg}). Start one "
                        "with `ray start --head`, or leave runner.address unset to start a local one." + hint) from None
    res = ray.cluster_resources()
    where = "a new local Ray instance" if address == "local" else f"the Ray cluster at {address}"
    log(f"simgen: using {where}: {len(ray.nodes())} node(s), {res.get('CPU', 0):g} CPU(s), {res.get('GPU', 0):g} GPU(s)")
    return True


def probe(address: str, key: str, timeout: float) -> None:
    """Fail fast (within ``timeout`` seconds) when nothing listens at a ``host:port`` address."""
    import re
    import socket

    m = re.match(r"^(?:ray://)?\[?([^\]/]+?)\]?:(\d+)/?$", address)
    if not m:
        return  # auto, local, a dashboard URL: Ray resolves it
    host, port = m.group(1), int(m.group(2))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UserError(
            f"Cannot connect to a Ray cluster at {key}={address!r}: nothing answers at {host}:{port} ({why}, "
            f"waited at most runner.connect_timeout_s={timeout:g} s). Start one with `ray start --head`, check the "
            "address, or leave runner.address unset to start a local one."
        ) from None


# -- inside the workers ---------------------------------------------------------------------------

def _shard_task(cfg: DictConfig, k: int, scenes: dict, progress, env: dict) -> ShardResult:
    """One Ray task: write shard ``k``; report each finished sample to the progress actor."""
    from simgen import scenes_registry

    _apply_env(env)

    for name, module in scenes.items():  # families registered in the driver (simgen.scenes_registry.register)
        scenes_registry.register(name, module)
    if cfg.runner.num_gpus > 0 and "EGL_DEVICE_ID" not in os.environ:
        import ray

        gpus = ray.get_gpu_ids()
        if gpus:
            os.environ["EGL_DEVICE_ID"] = str(gpus[0])
    attempt = uuid.uuid4().hex  # tells this attempt's progress apart from a retry's (not content)
    start = k * cfg.shard_size
    stop = min(start + cfg.shard_size, cfg.n)
    done = 0

    def report(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress.report.remote(k, attempt, done)

    try:
        return run_shard(cfg, k, progress=report)
    except ShardFailed:
        raise
    except Exception as exc:
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ShardFailed(k, start, stop, start + done, error) from exc


class _Progress:
    """Samples finished per shard attempt; a retried shard counts its best attempt only."""

    def __init__(self):
        self.done: dict[int, dict[str, int]] = {}

    def report(self, k: int, attempt: str, n: int) -> None:
        self.done.setdefault(k, {})[attempt] = n

    def total(self) -> int:
        return sum(max(v.values()) for v in self.done.values())


# -- the driver -----------------------------------------------------------------------------------

def _failure_from(ray, exc: BaseException, shard) -> ShardFailed:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, ShardFailed):
        return cause
    if isinstance(exc, ray.exceptions.TaskCancelledError):
        what = "task cancelled"
    elif isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)):
        what = f"worker process or node died ({type(exc).__name__})"
    elif isinstance(exc, ray.exceptions.OutOfMemoryError):
        what = "worker killed by Ray's out-of-memory monitor"
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = f"{type(exc).__name__}: {first}"
    return ShardFailed(shard.k, shard.start, shard.stop, None, what)


def _cancel(ray, inflight: dict) -> None:
    """Cancel every task in flight (force: their worker processes are killed) and wait briefly."""
    refs = list(inflight)
    for r in refs:
        try:
            ray.cancel(r, force=True)
        except Exception:  # noqa: BLE001 - already finished or gone
            pass
    if refs:
        try:
            ray.wait(refs, num_returns=len(refs), timeout=5)
        except Exception:  # noqa: BLE001
            pass


def run(cfg: DictConfig, plan: Plan, log=print) -> list[ShardResult]:
    ray = _import_ray()
    started = connect(cfg, log)
    try:
        return _run(ray, cfg, plan, log)
    finally:
        if started:
            ray.shutdown()


def _run(ray, cfg: DictConfig, plan: Plan, log) -> list[ShardResult]:
    from simgen import scenes_registry
    from simgen.runners.local import progress_bar

    rc = cfg.runner
    if "://" not in cfg.out and len(ray.nodes()) > 1:
        log(f"simgen: warning: out={cfg.out} is a local path and the cluster has {len(ray.nodes())} nodes; each "
            "node writes to its own disk unless that path is shared storage (use s3://, gs:// or a shared mount).")
    task = ray.remote(_shard_task).options(
        name=TASK_NAME,
        num_cpus=rc.num_cpus,
        num_gpus=rc.num_gpus,
        max_retries=rc.max_retries,
        retry_exceptions=True,
    )
    # Per-sample progress goes through a small actor (one more worker process for the job); with
    # runner.progress=false there is no bar and no actor.
    progress = ray.remote(num_cpus=0)(_Progress).remote() if rc.progress else None
    if progress is not None:
        # Wait for the actor before the first task: reports sent to an actor still starting queue up
        # and would arrive all at once, so a slow-starting worker would leave the bar at 0 until the end.
        try:
            ray.get(progress.total.remote(), timeout=60)
        except Exception:  # noqa: BLE001 - the bar then moves per finished shard
            log("simgen: warning: the progress actor did not start within 60 s; progress is counted per shard")
    scenes, _conf_dirs = scenes_registry.registrations()  # workers get the composed config: no Hydra search
    env = worker_env()
    todo = iter(plan.pending)
    total = plan.pending_videos
    cpus = ray.cluster_resources().get("CPU", 0)
    # workers=N caps the tasks in flight; otherwise keep plenty queued (an autoscaler sees the demand)
    # without handing Ray tens of thousands of tasks at once.
    window = cfg.workers if cfg.workers else max(256, 4 * int(cpus / rc.num_cpus))
    cfg_ref = ray.put(cfg)  # shipped once, not once per task
    log(f"simgen: {total} video(s) in {len(plan.pending)} shard(s) as Ray tasks ({rc.num_cpus:g} CPU"
        f"{f', {rc.num_gpus:g} GPU' if rc.num_gpus else ''} each; cluster {cpus:g} CPUs"
        f"{f', at most {window} at once' if cfg.workers else ''}) -> {cfg.out}")
    temps_before = set(plan.folder.temporaries())
    results: list[ShardResult] = []
    failures: list[ShardFailed] = []
    inflight: dict = {}
    bar = progress_bar(cfg, total, f"{cfg.scene.name}/{cfg.engine.name} ray")
    committed = 0  # samples in shards that finished
    last_poll = 0.0
    nxt = next(todo, None)
    try:
        while nxt is not None or inflight:
            while nxt is not None and len(inflight) < window:
                inflight[task.remote(cfg_ref, nxt.k, scenes, progress, env)] = nxt
                nxt = next(todo, None)
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=_POLL_S)
            if ready and len(inflight) > 1:  # collect everything else that is done too
                ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
            for ref in ready:
                s = inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    f = _failure_from(ray, exc, s)
                    failures.append(f)
                    bar.set_postfix(failed=len(failures))
                    if len(failures) > rc.max_failures:
                        _cancel(ray, inflight)
                        raise failure_error(cfg, failures) from None
                    log(f"simgen: FAILED after {rc.max_retries} retr{'y' if rc.max_retries == 1 else 'ies'}: "
                        f"{describe_failure(f, cfg.scene.name, cfg.seed)}")
                    continue
                results.append(result)
                plan.record(result)
                committed += s.stop - s.start
            now = time.monotonic()
            if progress is not None and (now - last_poll >= _POLL_S or not (nxt is not None or inflight)):
                last_poll = now
                try:
                    seen = ray.get(progress.total.remote(), timeout=5)
                except ray.exceptions.RayError:
                    seen = 0
                n = max(seen, committed)
                if n > bar.n:
                    bar.update(min(n, total) - bar.n)
    except KeyboardInterrupt as exc:
        _cancel(ray, inflight)
        raise (exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)) from None
    finally:
        bar.close()
        if progress is not None:
            try:
                ray.kill(progress)
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
    # Attempts killed mid-shard (worker or node died) leave their temporary file behind: those of dead
    # processes on this host, and on any host those that appeared while this job ran (its tasks are done).
    new = set(plan.folder.temporaries()) - temps_before
    removed = plan.folder.remove_temporaries(also=new)
    if removed:
        log(f"simgen: removed {removed} temporary file(s) left by task attempts that died")
    if failures:
        ids = ", ".join(str(f.k) for f in failures)
        log(f"simgen: {len(failures)} shard(s) failed and are missing (within runner.max_failures="
            f"{rc.max_failures}): shard(s) {ids}. Rerun the same command to retry only those.")
    return sorted(results, key=lambda r: r.k)
