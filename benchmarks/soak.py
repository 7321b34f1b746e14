"""Soak test: a long local run under random ``kill -9`` of workers and of the main process, rerun until
it finishes, then checked against an uninterrupted run sample by sample.

    python benchmarks/soak.py                         # 2000 videos, 64x64x8, shard_size=10, 2 workers, 30 kills
    python benchmarks/soak.py --n 400 --kills 10      # a shorter one

What it does:

1. generates the reference dataset without interruption (same command, another folder);
2. runs the same command again and again into the soak folder; each run is killed with SIGKILL at a
   random moment (uniform in ``[--min-s, --max-s]`` seconds after it starts), either the main process
   or one of its worker processes (chosen at random), until ``--kills`` kills have landed; then one last
   run finishes the dataset;
3. after each kill it checks: a killed worker makes the job exit by itself with status 2 and one error
   line (no hang, no traceback); a killed main process takes its workers with it (none alive 3 s later)
   and no shard appears after that; the folder lock is free again;
4. at the end: the soak dataset has exactly ``n`` samples and no temporary files, and every sample's
   ground truth, masks, depth and video streams (byte for byte) equal the reference's; a control run
   (a second uninterrupted run, skipped with ``--no-control``) is compared with the reference too; it also times the resume check of the
   finished folder (SHA-256 path, and the full-decode path for shards without a recorded digest).

Prints one line per kill and a summary table; exits 1 if a sample was lost, doubled or has other ground truth
or another video stream, or a job hung, a worker survived or a temporary was left.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def session_pids(sid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            f = stat[stat.rindex(")") + 2:].split()
            if f[0] != "Z" and int(f[3]) == sid:
                out.append(int(d))
    return out


def workers_of(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
                cmd = open(f"/proc/{d}/cmdline", "rb").read()
            except OSError:
                continue
            f = stat[stat.rindex(")") + 2:].split()
            if f[0] != "Z" and int(f[1]) == pid and b"spawn_main" in cmd:
                out.append(int(d))
    return out


def same(a, b) -> bool:
    from simgen.data import values_equal

    return values_equal(a, b)


def compare(a: Path, b: Path) -> dict:
    """Samples of two datasets that differ: in any ground-truth column, masks or depth ("truth"), or
    in the video stream only ("video", with the largest decoded pixel difference)."""
    import numpy as np

    from simgen.data import open_dataset

    da, db = open_dataset(str(a), decode_video=False), open_dataset(str(b), decode_video=False)
    out: dict = {"truth": [], "video": [], "video_max_diff": 0}
    for i in range(len(da)):
        x, y = da[i], db[i]
        bad = [k for k in x if not same(x[k], y.get(k))]
        if bad == ["video"]:
            out["video"].append(i)
            va, vb = open_dataset(str(a))[i]["video"], open_dataset(str(b))[i]["video"]
            out["video_max_diff"] = max(out["video_max_diff"], int(np.abs(va.astype(int) - vb.astype(int)).max()))
        elif bad:
            out["truth"].append(i)
    return out


def alive(pid: int) -> bool:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def shards(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("shard-*.parquet")}


def start(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", LP_NUM_THREADS=os.environ.get("LP_NUM_THREADS", "0"))
    return subprocess.Popen([sys.executable, "-m", "simgen", *args], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_group(p: subprocess.Popen) -> None:
    for pid in [p.pid, *session_pids(p.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--shard-size", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kills", type=int, default=30, help="kills to land before the final run")
    ap.add_argument("--min-s", type=float, default=2.0, help="earliest kill, seconds after a run starts")
    ap.add_argument("--max-s", type=float, default=20.0, help="latest kill, seconds after a run starts")
    ap.add_argument("--seed", type=int, default=0, help="seeds the kill schedule (not the data)")
    ap.add_argument("--no-control", dest="control", action="store_false",
                    help="skip the second uninterrupted run that shows what differs without any kill")
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one, removed at the end)")
    ap.add_argument("overrides", nargs="*", default=["render.width=64", "render.height=64", "render.frames=8"],
                    help="simgen overrides (default: render.width=64 render.height=64 render.frames=8)")
    a = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # one line per kill, as it happens, also into a log file
    rnd = random.Random(a.seed)
    tmp = None if a.dir else tempfile.TemporaryDirectory(prefix="simgen-soak-")
    work = Path(a.dir or tmp.name)
    ref, soak = work / "reference", work / "soak"
    common = [f"n={a.n}", f"shard_size={a.shard_size}", f"workers={a.workers}", "runner.progress=false", *a.overrides]
    t_start = time.time()

    t0 = time.time()
    p = start([*common, f"out={ref}"])
    out, err = p.communicate()
    if p.returncode != 0:
        print(err, file=sys.stderr)
        return 1
    ref_wall = time.time() - t0
    print(f"soak: reference run: {a.n} videos in {ref_wall:.0f} s")
    control = work / "control"
    if a.control:
        p = start([*common, f"out={control}"])
        out, err = p.communicate()
        if p.returncode != 0:
            print(err, file=sys.stderr)
            return 1
        print("soak: control run (uninterrupted, again) done")

    events: list[dict] = []
    problems: list[str] = []
    runs = 0
    t_soak = time.time()
    while len(events) < a.kills:
        runs += 1
        p = start([*common, f"out={soak}"])
        delay = rnd.uniform(a.min_s, a.max_s)
        target = rnd.choice(["main", "worker"])
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        if p.poll() is not None:  # finished before the kill: start over with a fresh folder? no: done early
            out, err = p.communicate()
            if p.returncode == 0:
                print(f"soak: run {runs} finished before its kill at {delay:.1f} s")
                break
            problems.append(f"run {runs} exited {p.returncode} without a kill: {err.strip()[-300:]}")
            continue
        ev = {"run": runs, "at_s": round(delay, 1), "target": target, "shards_before": len(shards(soak))}
        if target == "worker":
            ws = workers_of(p.pid)
            if not ws:
                ev["target"] = target = "main"  # still starting: no worker yet
            else:
                victim = rnd.choice(ws)
                os.kill(victim, signal.SIGKILL)
                ev["pid"] = victim
                try:
                    out, err = p.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    problems.append(f"run {runs}: job hung after its worker {victim} was killed")
                    kill_group(p)
                    out, err = p.communicate()
                lines = [line for line in err.splitlines() if line.strip()]
                ev["exit"] = p.returncode
                if p.returncode == 0:
                    ev["note"] = "worker killed after its last shard"
                elif p.returncode != 2 or len(lines) != 1 or "Traceback" in err:
                    problems.append(f"run {runs}: killed worker gave exit {p.returncode}, stderr: {err.strip()[-500:]}")
                else:
                    ev["message"] = lines[0][:160]
        if target == "main":
            ws = workers_of(p.pid)
            os.kill(p.pid, signal.SIGKILL)
            p.communicate()
            ev["exit"] = p.returncode
            time.sleep(3.0)
            survivors = [w for w in ws if alive(w)]
            ev["workers_alive_after_3s"] = len(survivors)
            if survivors:
                problems.append(f"run {runs}: {len(survivors)} worker(s) outlived the killed main process")
                for w in survivors:
                    os.kill(w, signal.SIGKILL)
            before = shards(soak)
            time.sleep(1.0)
            if shards(soak) - before:
                problems.append(f"run {runs}: shards appeared after the main process was killed")
        deadline = time.monotonic() + 5  # multiprocessing's resource tracker exits a moment after its parent
        while session_pids(p.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = session_pids(p.pid)
        if left:
            cmds = [open(f"/proc/{q}/cmdline", "rb").read().replace(b"\0", b" ")[:80].decode(errors="replace")
                    for q in left if os.path.exists(f"/proc/{q}")]
            problems.append(f"run {runs}: {len(left)} process(es) left running 5 s after the job ended: {cmds}")
            kill_group(p)
        ev["shards_after"] = len(shards(soak))
        events.append(ev)
        print(f"soak: kill {len(events)}/{a.kills}: {json.dumps(ev)}")
    # the final run: no kill
    runs += 1
    p = start([*common, f"out={soak}"])
    out, err = p.communicate()
    if p.returncode != 0:
        problems.append(f"final run exited {p.returncode}: {err.strip()[-500:]}")
    soak_wall = time.time() - t_soak

    # checks
    sys.path.insert(0, str(REPO))
    from simgen.data import open_dataset

    ref_files, soak_files = sorted(shards(ref)), sorted(shards(soak))
    extra = sorted(set(soak_files) - set(ref_files))
    temps = sorted(p.name for p in soak.glob(".tmp-*"))
    ds_soak = open_dataset(str(soak), decode_video=False)
    idx = [int(i) for i in ds_soak.metadata_table(["index"]).column("index").to_pylist()]
    lost = a.n - len(set(idx))
    dup = len(idx) - len(set(idx))
    missing = [f for f in ref_files if f not in soak_files]
    soak_diff = compare(ref, soak) if not (lost or dup or missing) else {"truth": list(range(a.n)), "video": []}
    ctrl_diff = compare(ref, control) if a.control else None

    # resume check cost on the finished folder
    from simgen.config import load_config
    from simgen.job import prepare

    cfg = load_config([*common, f"out={soak}"])
    mb = sum((soak / f).stat().st_size for f in soak_files) / 1e6
    c0, w0 = time.process_time(), time.time()
    prepare(cfg, log=lambda *x: None)
    sha_cpu, sha_wall = time.process_time() - c0, time.time() - w0
    manifest = json.loads((soak / "_simgen.json").read_text())
    manifest["shards"] = {}
    (soak / "_simgen.json").write_text(json.dumps(manifest))
    c0, w0 = time.process_time(), time.time()
    prepare(cfg, log=lambda *x: None)
    full_cpu, full_wall = time.process_time() - c0, time.time() - w0

    kinds = {t: sum(1 for e in events if e["target"] == t) for t in ("main", "worker")}
    print()
    print(f"soak: n={a.n} videos ({' '.join(a.overrides)}), shard_size={a.shard_size}, workers={a.workers}, "
          f"kill schedule seed {a.seed}, kills {a.min_s:g}-{a.max_s:g} s after each start")
    print("| | |")
    print("|---|---|")
    print(f"| kills survived | {len(events)} ({kinds['main']} of the main process, {kinds['worker']} of a worker) |")
    print(f"| runs until done | {runs} (soak {soak_wall:.0f} s wall; uninterrupted reference {ref_wall:.0f} s) |")
    print(f"| samples | {len(idx)} of {a.n}, {lost} lost, {dup} duplicated |")
    print(f"| samples whose ground truth, masks or depth differ from the reference | {len(soak_diff['truth'])} of {a.n}"
          f"{'' if not extra else f'; {len(extra)} extra shard(s)'} |")
    print(f"| samples whose video stream differs from the reference | {len(soak_diff['video'])} of {a.n} (decoded: at "
          f"most {soak_diff['video_max_diff']}/255) |")
    if ctrl_diff is not None:
        print(f"| the same, uninterrupted run against the reference (control) | ground truth {len(ctrl_diff['truth'])}, "
              f"video {len(ctrl_diff['video'])} of {a.n} (decoded: at most {ctrl_diff['video_max_diff']}/255) |")
    print(f"| temporaries left | {len(temps)} |")
    print(f"| hangs, surviving workers, tracebacks | {len(problems)} |")
    print(f"| resume check, {len(soak_files)} shards ({mb:.1f} MB) | SHA-256: {1e3 * sha_cpu / len(soak_files):.1f} "
          f"CPU-ms/shard ({sha_wall:.2f} s wall); full decode: {1e3 * full_cpu / len(soak_files):.1f} CPU-ms/shard "
          f"({full_wall:.2f} s wall) |")
    for pr in problems:
        print(f"soak: PROBLEM: {pr}")
    print(f"soak: total {time.time() - t_start:.0f} s")
    # the renderer is bit-exact (tests/test_render_determinism.py): a different video stream is a failure
    bad = bool(lost or dup or missing or soak_diff["truth"] or soak_diff["video"] or extra or temps or problems)
    if ctrl_diff is not None:
        bad = bad or bool(ctrl_diff["truth"] or ctrl_diff["video"])
    if tmp is not None:
        tmp.cleanup()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
