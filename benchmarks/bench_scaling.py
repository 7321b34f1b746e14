"""Scaling: videos/s with 1 and 2 workers, runner=local (the baseline) and runner=ray, in one run.

    python benchmarks/bench_scaling.py                      # n=24, 256x256x32, shard_size=3, 3 rounds
    python benchmarks/bench_scaling.py --n 16 --repeats 2 render.width=128 render.height=128

Every measured job is a fresh driver process (``python -c`` around ``simgen.job.run``), as a user runs
``python -m simgen``: the local runner spawns its worker processes, the Ray job connects to a running
cluster (started once here with ``ray start --head --num-cpus=2``, like a real cluster that outlives
its jobs) and gets fresh Ray workers. Figures are taken from the job's own summary (``wall_s``:
from planning to the last shard committed, connection to Ray included) and the outer wall time
(interpreter start and config loading included), and the CPU each job cost in all its processes
(driver, local workers, Ray workers, raylet and GCS while the job ran, sampled: robust to other load on a
shared machine, unlike wall time). The four variants run round-robin so that any
background load on the machine hits them alike; medians are printed. Ray's overhead is
``wall(ray) / wall(local) - 1`` at the same worker count (target: <= 10 % at 2 workers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DRIVER = r"""
import json, sys
from simgen.config import load_config
from simgen.job import run
s = run(load_config(sys.argv[1:]), log=lambda *a: None)
print("SUMMARY " + json.dumps({k: s[k] for k in ("videos_written", "wall_s", "cpu_s")}))
"""


def free_ports(k: int) -> list[int]:
    socks = [socket.socket() for _ in range(k)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_cluster(cpus: int, env: dict) -> tuple[subprocess.Popen, str, str]:
    temp = tempfile.mkdtemp(prefix="rb", dir="/tmp")  # short: Ray socket paths must fit in 107 bytes
    port, client, agent, agent_grpc, nm, om, metrics, renv = free_ports(8)
    ray_bin = str(Path(sys.executable).parent / "ray")
    cmd = [ray_bin, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
           f"--num-cpus={cpus}", "--num-gpus=0", "--include-dashboard=false", f"--ray-client-server-port={client}",
           f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={agent_grpc}",
           f"--node-manager-port={nm}", f"--object-manager-port={om}", f"--metrics-export-port={metrics}",
           f"--runtime-env-agent-port={renv}", f"--temp-dir={temp}", "--disable-usage-stats"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    for line in proc.stdout:  # --block prints its banner, then blocks
        if "will now block" in line:
            break
    else:
        raise RuntimeError(f"ray start exited with {proc.wait()}")
    return proc, f"127.0.0.1:{port}", temp


def stop_cluster(proc: subprocess.Popen, temp: str) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # ray start --block stops what it started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of this cluster's own session only
    except ProcessLookupError:
        pass
    shutil.rmtree(temp, ignore_errors=True)


def session_cpu(sid: int) -> dict[tuple[int, int], int]:
    """CPU clock ticks so far of every live process in one session, keyed by (pid, start time)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # fields[0] is stat field 3 (state)
        except OSError:
            continue
        if int(fields[3]) == sid:  # session id (field 6)
            out[(int(d), int(fields[19]))] = int(fields[11]) + int(fields[12])  # utime + stime
    return out


def run_job(args: list[str], env: dict, cluster_sid: int) -> dict:
    """Run one job; wall times and the CPU it cost: the driver process and its children (the local
    runner's workers, reaped by it), plus what the Ray cluster's processes (workers, raylet, GCS, ...)
    used meanwhile. Ray workers are neither in the driver's tree nor reaped with accounting by the
    raylet, so the cluster's session is sampled every 0.1 s while the job runs."""
    c0 = os.times()
    base = session_cpu(cluster_sid)
    seen = dict(base)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    box: dict = {}
    reader = threading.Thread(target=lambda: box.update(zip(("out", "err"), proc.communicate())))
    reader.start()
    while reader.is_alive():
        seen.update(session_cpu(cluster_sid))
        time.sleep(0.1)
    outer = time.perf_counter() - t0
    seen.update(session_cpu(cluster_sid))
    c1 = os.times()
    cluster_ticks = sum(v - base.get(k, 0) for k, v in seen.items())
    if proc.returncode != 0:
        raise RuntimeError(f"job {' '.join(args)} failed:\n{box['out'][-3000:]}\n{box['err'][-3000:]}")
    line = next(ln for ln in box["out"].splitlines() if ln.startswith("SUMMARY "))
    s = json.loads(line[len("SUMMARY "):])
    s["outer_s"] = outer
    s["driver_cpu_s"] = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
    s["cluster_cpu_s"] = cluster_ticks / os.sysconf("SC_CLK_TCK")
    s["total_cpu_s"] = s["driver_cpu_s"] + s["cluster_cpu_s"]
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=24, help="videos per job")
    ap.add_argument("--shard-size", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="rounds over the four variants")
    ap.add_argument("overrides", nargs="*", help="extra simgen overrides (e.g. render.width=128)")
    a = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("LP_NUM_THREADS", "0")
    env.setdefault("PYOPENGL_PLATFORM", "egl")
    env["RAY_AUTH_MODE"] = "disabled"  # loopback-only benchmark cluster
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.pop("RAY_ADDRESS", None)
    t0 = time.perf_counter()
    cluster, address, temp = start_cluster(2, env)
    cluster_start = time.perf_counter() - t0
    work = Path(tempfile.mkdtemp(prefix="simgen-bench-scaling-"))
    variants = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
    results: dict = {v: [] for v in variants}
    try:
        for r in range(a.repeats):
            for runner, w in variants:
                out = work / f"{runner}{w}-{r}"
                args = [f"n={a.n}", f"shard_size={a.shard_size}", f"workers={w}", f"out={out}", f"runner={runner}",
                        "runner.progress=false", "seed=0", *a.overrides]
                if runner == "ray":
                    args.append(f"runner.address={address}")
                s = run_job(args, env, cluster.pid)  # the cluster leads its own session
                assert s["videos_written"] == a.n, s
                results[(runner, w)].append(s)
                print(f"  round {r + 1}: {runner:5s} workers={w}: {a.n / s['wall_s']:.2f} videos/s "
                      f"(job {s['wall_s']:.1f} s, process {s['outer_s']:.1f} s; CPU {s['total_cpu_s']:.1f} s = driver "
                      f"{s['driver_cpu_s']:.1f} + cluster {s['cluster_cpu_s']:.1f})", flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        stop_cluster(cluster, temp)
        shutil.rmtree(work, ignore_errors=True)

    med = {v: statistics.median(s["wall_s"] for s in results[v]) for v in variants}
    med_outer = {v: statistics.median(s["outer_s"] for s in results[v]) for v in variants}
    cpu = {v: statistics.median(sum(s["cpu_s"].values()) for s in results[v]) / a.n for v in variants}
    tot = {v: statistics.median(s["total_cpu_s"] for s in results[v]) / a.n for v in variants}
    size = " ".join(a.overrides) or "render 256x256x32 (default)"
    print(f"\nbench_scaling: n={a.n} freefall videos, shard_size={a.shard_size}, {size}, {a.repeats} round(s), "
          f"median; {os.cpu_count()} CPU cores; Ray cluster start (not in the figures): {cluster_start:.1f} s")
    print(f"{'runner':8s}{'workers':>8s}{'videos/s':>10s}{'job s':>8s}{'process s':>11s}{'speedup':>9s}"
          f"{'stage CPU s/video':>19s}{'all CPU s/video':>17s}")
    for runner, w in variants:
        base = med[(runner, 1)]
        print(f"{runner:8s}{w:8d}{a.n / med[(runner, w)]:10.2f}{med[(runner, w)]:8.1f}{med_outer[(runner, w)]:11.1f}"
              f"{base / med[(runner, w)]:8.2f}x{cpu[(runner, w)]:19.3f}{tot[(runner, w)]:17.3f}")
    for w in (1, 2):
        over = med[("ray", w)] / med[("local", w)] - 1
        over_outer = med_outer[("ray", w)] / med_outer[("local", w)] - 1
        over_cpu = tot[("ray", w)] / tot[("local", w)] - 1
        tag = "  (target <= 10%)" if w == 2 else ""
        print(f"Ray overhead over local at {w} worker(s): {100 * over:+.1f}% job wall, "
              f"{100 * over_outer:+.1f}% process wall, {100 * over_cpu:+.1f}% total CPU{tag}")


if __name__ == "__main__":
    main()
