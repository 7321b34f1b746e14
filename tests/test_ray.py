"""runner=ray against a real local Ray cluster (no mocks).

One cluster (`ray start --head --block` on 127.0.0.1, 2 CPUs, dashboard/job server on) is shared by
the whole module; it is stopped by signalling the process group this module started (never
`ray stop`, which would also stop other Ray instances of the same user). Its workers get `tests/`
on PYTHONPATH so that the test-only scene `ray_faulty` (tests/ray_scenes.py) imports there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import ray_scenes  # noqa: E402  (tests/ is on sys.path under pytest)
from conftest import run_simgen  # noqa: E402

from simgen.data import open_dataset  # noqa: E402
from simgen.errors import UserError  # noqa: E402
from simgen.config import config_hash  # noqa: E402
from simgen.integrity import verify_file  # noqa: E402
from simgen.shards import TMP_PREFIX, OutputFolder, temp_writer  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
TINY = ["render.width=64", "render.height=64", "render.frames=8"]
N, SHARD = 6, 2


def _free_ports(k: int) -> list[int]:
    socks = []
    for _ in range(k):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    def __init__(self, address: str, dashboard: str, env: dict):
        self.address, self.dashboard, self.env = address, dashboard, env


@pytest.fixture(scope="module")
def cluster():
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    port, dash, client, agent, agent_grpc, nm, om, metrics, renv = _free_ports(9)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("LP_NUM_THREADS", "0")
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # Ray >= 2.5x turns token authentication on for new clusters but not for clients; a loopback-only
    # test cluster runs without it, and this process and its children (CLI, ray job submit) agree.
    env["RAY_AUTH_MODE"] = "disabled"
    env.pop("RAY_ADDRESS", None)
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_ADDRESS")}
    os.environ["RAY_AUTH_MODE"] = "disabled"
    os.environ.pop("RAY_ADDRESS", None)
    ray_bin = str(Path(sys.executable).parent / "ray")
    cmd = [
        ray_bin, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
        "--num-gpus=0", "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}",
        f"--ray-client-server-port={client}", f"--dashboard-agent-listen-port={agent}",
        f"--dashboard-agent-grpc-port={agent_grpc}", f"--node-manager-port={nm}", f"--object-manager-port={om}",
        f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={renv}", f"--temp-dir={temp}",
        "--disable-usage-stats",
    ]
    logf = open(os.path.join(temp, "ray_start.log"), "w")
    proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{dash}"
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ray start exited ({proc.returncode}): {open(logf.name).read()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/version", timeout=2) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError:
                break  # the job server answers (e.g. 401 when the cluster wants a token)
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"Ray dashboard did not come up: {open(logf.name).read()[-3000:]}")
            time.sleep(1)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False)
        yield Cluster(f"127.0.0.1:{port}", url, env)
    finally:
        ray.shutdown()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # --block: ray start stops the processes it started
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of *this* cluster only (its own session)
        except ProcessLookupError:
            pass
        logf.close()
        shutil.rmtree(temp, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _same_samples(a: str, b: str, n: int) -> None:
    da, db = open_dataset(a), open_dataset(b)
    assert len(da) == len(db) == n
    for i in range(n):
        sa, sb = da[i], db[i]
        assert sa.keys() == sb.keys()
        for key in sa:
            _assert_same(sa[key], sb[key], (i, key))


def _assert_same(va, vb, where) -> None:
    if isinstance(va, np.ndarray):
        assert isinstance(vb, np.ndarray) and va.dtype == vb.dtype and va.shape == vb.shape, where
        assert np.array_equal(va, vb, equal_nan=va.dtype.kind in "fc"), where  # exact, NaN == NaN
    elif isinstance(va, dict):
        assert isinstance(vb, dict) and va.keys() == vb.keys(), where
        for k in va:
            _assert_same(va[k], vb[k], (*where, k))
    elif isinstance(va, (list, tuple)):
        assert type(va) is type(vb) and len(va) == len(vb), where
        for j, (x, y) in enumerate(zip(va, vb)):
            _assert_same(x, y, (*where, j))
    else:
        assert va == vb, where


def _files(out) -> list[str]:
    return OutputFolder(str(out)).list_names()


@pytest.fixture(scope="module")
def local_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "ds"
    run_simgen(f"n={N}", f"shard_size={SHARD}", "workers=2", "seed=3", f"out={out}", *TINY)
    return out


@pytest.fixture(scope="module")
def ray_dataset(cluster, tmp_path_factory) -> str:
    """Through the CLI (connects with runner.address), written to a file:// URI."""
    out = f"file://{tmp_path_factory.mktemp('ray')}/ds"
    proc = run_simgen(f"n={N}", f"shard_size={SHARD}", "seed=3", f"out={out}", "runner=ray",
                      f"runner.address={cluster.address}", *TINY)
    assert "Ray tasks" in proc.stdout
    return out


def test_ray_matches_local_sample_by_sample(local_dataset, ray_dataset):
    _same_samples(str(local_dataset), ray_dataset, N)
    assert [f for f in _files(ray_dataset) if f.startswith("shard-")] == [f"shard-{k:06d}.parquet" for k in range(3)]


def test_ray_one_worker_and_resume_match_local(cluster, local_dataset, tmp_path):
    """In-process driver, one task at a time (workers=1); then a shard is deleted and resumed."""
    from simgen.config import load_config
    from simgen.job import run

    out = tmp_path / "ds"
    cfg = load_config([f"n={N}", f"shard_size={SHARD}", "seed=3", f"out={out}", "runner=ray", "workers=1",
                       "runner.progress=false", *TINY])
    logs: list[str] = []
    summary = run(cfg, log=logs.append)
    assert summary["videos_written"] == N
    _same_samples(str(local_dataset), str(out), N)
    (out / "shard-000001.parquet").unlink()
    logs.clear()
    summary = run(cfg, log=logs.append)
    assert summary["videos_written"] == SHARD and summary["shards_written"] == 1
    assert any("resuming: 2 of 3" in line for line in logs), logs
    _same_samples(str(local_dataset), str(out), N)


def test_worker_killed_mid_shard_costs_only_a_retry(cluster, tmp_path):
    from ray.util.state import list_tasks

    from simgen.job import run

    n = 4
    out = tmp_path / "ds"
    cfg = ray_scenes.make_config([f"n={n}", "shard_size=2", f"out={out}", "runner=ray", "runner.max_retries=2",
                                  "runner.progress=false", *TINY], sleep_s=1.5)
    logs: list[str] = []
    box: dict = {}

    def job():
        try:
            box["summary"] = run(cfg, log=logs.append)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            box["error"] = exc

    th = threading.Thread(target=job)
    th.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and th.is_alive():
        running = list_tasks(filters=[("name", "=", "simgen_shard"), ("state", "=", "RUNNING")], detail=True)
        pids = [t.worker_pid for t in running if t.worker_pid]
        tmps = [f for f in _files(out) if f.startswith(TMP_PREFIX)]
        # Kill a running task that has opened its shard (a task still building its pipeline has not;
        # a temporary's name carries its writer's pid), so the killed attempt leaves a temporary file
        # behind for the driver to clean up.
        writing = {w.pid for w in map(temp_writer, tmps) if w is not None}
        victims = [p for p in pids if p in writing]
        if victims:
            time.sleep(0.5)
            os.kill(victims[0], signal.SIGKILL)
            killed = victims[0]
            # A killed attempt never leaves a final shard that is not whole.
            folder = OutputFolder(str(out))
            for s in range(n // 2):
                if (out / f"shard-{s:06d}.parquet").exists():
                    meta = verify_file(folder.fs, folder.path(f"shard-{s:06d}.parquet"))
                    assert meta["rows"] == 2 and meta["config_hash"] == config_hash(cfg)
        time.sleep(0.2)
    th.join(timeout=180)
    assert killed is not None, "no running shard task to kill"
    assert "error" not in box, box.get("error")
    retried = list_tasks(filters=[("name", "=", "simgen_shard")], detail=True, limit=1000)
    assert any(t.attempt_number >= 1 for t in retried), "the killed task was not retried"
    names = _files(out)
    assert not [f for f in names if f.startswith(TMP_PREFIX)], names
    assert any("temporary file(s) left by task attempts that died" in line for line in logs), logs
    ds = open_dataset(str(out), columns=["sample_id", "index"], decode_video=False)
    ids = [ds[i]["sample_id"] for i in range(len(ds))]
    assert len(ids) == n and len(set(ids)) == n
    assert sorted(ds[i]["index"] for i in range(len(ds))) == list(range(n))


def test_deterministic_failure_is_reported_and_bounded(cluster, tmp_path, monkeypatch, capsys):
    from simgen.job import run

    common = [f"n={N}", f"shard_size={SHARD}", "runner=ray", "runner.max_retries=1", "runner.progress=false", *TINY]
    # max_failures=0: the job stops with a UserError naming the shard, the sample and the error.
    cfg = ray_scenes.make_config([*common, f"out={tmp_path / 'a'}"], fail_indices=[3])
    with pytest.raises(UserError) as err:
        run(cfg, log=lambda s: None)
    msg = str(err.value)
    assert "shard 1 (samples 2..3" in msg and "sample 3" in msg and "ray_faulty-0-00000003" in msg
    assert "injected fault" in msg and "runner.max_failures=0" in msg
    # ...which the CLI prints as one line, exiting with status 2 (the scene is test-only, so the
    # CLI is handed the composed config instead of composing it from conf/).
    import simgen.config
    from simgen import cli

    monkeypatch.setattr(simgen.config, "load_config", lambda overrides: cfg)
    capsys.readouterr()
    assert cli.main(["n=6"]) == 2
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("simgen: error:")]
    assert len(err_lines) == 1 and "shard 1" in err_lines[0], err_lines
    monkeypatch.undo()

    # max_failures=1: the other shards complete; the failing one is reported and missing.
    out = tmp_path / "b"
    cfg = ray_scenes.make_config([*common, f"out={out}", "runner.max_failures=1"], fail_indices=[3])
    logs: list[str] = []
    summary = run(cfg, log=logs.append)
    assert summary["videos_written"] == N - SHARD and summary["videos_present"] == N - SHARD
    failed = [line for line in logs if "FAILED" in line]
    assert len(failed) == 1 and "shard 1" in failed[0] and "injected fault" in failed[0], logs
    assert sorted(f for f in _files(out) if f.startswith("shard-")) == ["shard-000000.parquet", "shard-000002.parquet"]
    ds = open_dataset(str(out), columns=["index"], decode_video=False)
    assert sorted(ds[i]["index"] for i in range(len(ds))) == [0, 1, 4, 5]


def test_ray_job_submit_runs_the_example(cluster, tmp_path):
    out = tmp_path / "submitted"
    ray_bin = str(Path(sys.executable).parent / "ray")
    cmd = [
        ray_bin, "job", "submit", "--address", cluster.dashboard, "--working-dir", str(REPO),
        "--runtime-env", str(REPO / "examples" / "ray_job" / "runtime_env.yaml"), "--",
        "python", "-m", "simgen", "scene=freefall", "n=4", "shard_size=2", f"out={out}", "runner=ray",
        "runner.progress=false", *TINY,
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=cluster.env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "succeeded" in proc.stdout
    ds = open_dataset(str(out), columns=["sample_id"], decode_video=False)
    assert len({ds[i]["sample_id"] for i in range(len(ds))}) == 4


def test_ray_data_reads_every_row(cluster, ray_dataset):
    # read tasks reserve no CPU: after the job-submit test the 2-CPU test cluster can still have
    # its CPUs reserved by that job's leftover workers, and Ray Data would wait for them forever
    ray.data.DataContext.get_current().execution_no_progress_timeout_s = 300  # fail in 5 min, not 30
    ds = ray.data.read_parquet(ray_dataset, file_extensions=["parquet"], num_cpus=0)
    rows = ds.take_all()
    assert len(rows) == N
    assert sorted(r["index"] for r in rows) == list(range(N))
    assert len({r["sample_id"] for r in rows}) == N
    assert all(len(r["video"]) > 0 for r in rows)


def test_progress_bar_counts_samples_not_shards(cluster, tmp_path, capsys, monkeypatch):
    """One shard of 3 slow samples: the driver's bar shows 1/3 or 2/3 before the shard is done."""
    import simgen.runners.local
    from simgen.job import run

    monkeypatch.setattr(simgen.runners.local, "NON_TTY_INTERVAL_S", 0.1)  # redraw as on a terminal

    cfg = ray_scenes.make_config(["n=3", "shard_size=3", f"out={tmp_path / 'ds'}", "runner=ray", "workers=1",
                                  "runner.progress=true", *TINY], sleep_s=0.8)
    capsys.readouterr()
    run(cfg, log=lambda s: None)
    err = capsys.readouterr().err
    assert "3/3" in err
    assert "1/3" in err or "2/3" in err, err[-2000:]


# A job of the test-only scene through the CLI entry point, as its own process (it can be signalled).
DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import ray_scenes, simgen.config
from simgen import cli
cfg = ray_scenes.make_config(json.loads(sys.argv[2]), **json.loads(sys.argv[3]))
simgen.config.load_config = lambda overrides: cfg
sys.exit(cli.main(["n=1"]))
"""


def _alive(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_or_interrupted_driver_leaves_no_task_running(cluster, tmp_path, sig):
    """kill -9 of the driver: Ray ends the job and kills its task workers; Ctrl-C: the driver cancels
    its tasks itself and exits 130. Either way no shard is written afterwards."""
    import json

    from ray.util.state import list_tasks

    out = tmp_path / "ds"
    overrides = ["n=8", "shard_size=2", f"out={out}", "runner=ray", f"runner.address={cluster.address}",
                 "runner.max_retries=0", "runner.progress=false", *TINY]
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(TESTS), json.dumps(overrides), json.dumps({"sleep_s": 1.0})],
                            env=cluster.env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.time() + 180
        pids: list[int] = []
        while time.time() < deadline and proc.poll() is None:
            running = list_tasks(filters=[("name", "=", "simgen_shard"), ("state", "=", "RUNNING")], detail=True)
            pids = [t.worker_pid for t in running if t.worker_pid and _alive(t.worker_pid)]
            if pids and len([f for f in _files(out) if f.startswith(TMP_PREFIX)]) >= len(pids):
                break
            time.sleep(0.2)
        assert pids, "no running shard task" + (proc.communicate()[1] if proc.poll() is not None else "")
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130, err
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1 and "stopped by SIGINT" in lines[0], err
        deadline = time.time() + 60
        while time.time() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.5)
        assert not any(_alive(p) for p in pids), f"task workers {pids} outlived their driver"
        shards = sorted(f for f in _files(out) if f.startswith("shard-"))
        time.sleep(3)
        assert sorted(f for f in _files(out) if f.startswith("shard-")) == shards, "a shard appeared after the driver ended"
        assert len(shards) < 4
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
