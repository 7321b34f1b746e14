"""Simulate cost of two versions of simgen on the same scenes, alternated video by video in one run.

    python benchmarks/bench_ab.py OLD [NEW] [--scene freefall] [--engine pybullet] [--n 24] [--rounds 4]
        [--seed 0]

``OLD`` and ``NEW`` are git revisions of this repository (``NEW``: the working tree when left out).
Each revision is checked out into a temporary worktree; one worker process per version imports simgen
from it (``PYTHONPATH``) and simulates the same ``n`` SceneSpecs of ``--scene`` (its defaults) in
``--engine``. The two workers take turns video by video (which one goes first alternates), so both
see the same load of a shared machine; each reports the CPU time (``time.process_time``) of
``Engine.simulate`` alone. Every worker simulates one scene before the first timed one (imports,
first-call caches).

Printed: per round, old and new CPU-ms per video and their ratio; at the end the ratio of the totals
(new / old), the median of the per-video ratios (robust to a burst of load on one video), and
whether the two versions gave the same trajectories byte for byte (positions, quaternions,
velocities, contact events: a change meant to save time only should say "identical"). On a shared
machine, run it in both orders (``OLD NEW`` and ``NEW OLD``): a ratio and its reverse should agree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the worker: reads scene indices on stdin, answers "<cpu seconds> <digest of the trajectory>"
WORKER = r"""
import hashlib, pickle, sys, time
from simgen.config import load_config
from simgen.engines import make_engine
from simgen.scenes_registry import make_scene

scene, engine, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cfg = load_config([f"scene={scene}", f"engine={engine}", f"seed={seed}"])
eng = make_engine(engine)
specs = [make_scene(cfg, i)[0] for i in range(n + 1)]
eng.simulate(specs[n])  # warm-up: imports, first-call caches (not timed, not compared)
print("ready", flush=True)
for line in sys.stdin:
    i = int(line)
    t = time.process_time()
    tr = eng.simulate(specs[i])
    t = time.process_time() - t
    h = hashlib.sha256()
    for a in (tr.positions, tr.quaternions, tr.linear_velocity, tr.angular_velocity):
        h.update(a.tobytes())
    h.update(pickle.dumps(tr.contacts))
    print(t, h.hexdigest(), flush=True)
"""


def checkout(rev: str, into: Path) -> Path:
    """A worktree of ``rev`` under ``into`` (detached, removed by :func:`remove`)."""
    path = into / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev],
                   check=True, capture_output=True, text=True)
    return path


def remove(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True)


class Worker:
    def __init__(self, tree: Path, args):
        env = dict(os.environ, PYTHONPATH=str(tree))
        self.p = subprocess.Popen([sys.executable, "-c", WORKER, args.scene, args.engine, str(args.seed), str(args.n)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(tree))
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"bench_ab: the worker for {tree} did not start (see its error above)")

    def run(self, i: int) -> tuple[float, str]:
        self.p.stdin.write(f"{i}\n")
        self.p.stdin.flush()
        t, digest = self.p.stdout.readline().split()
        return float(t), digest

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="git revision of the old version")
    ap.add_argument("new", nargs="?", default=None, help="git revision of the new version (default: the working tree)")
    ap.add_argument("--scene", default="freefall")
    ap.add_argument("--engine", default="pybullet", choices=("pybullet", "mujoco"))
    ap.add_argument("--n", type=int, default=24, help="scenes per round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.n <= 0 or args.rounds <= 0:
        raise SystemExit("bench_ab: --n and --rounds must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="simgen-ab-"))
    trees, made = {}, []
    try:
        for role, rev in (("old", args.old), ("new", args.new)):
            if rev is None:
                trees[role] = ROOT
            else:
                try:
                    trees[role] = checkout(rev, tmp / role)
                except subprocess.CalledProcessError as exc:
                    raise SystemExit(f"bench_ab: cannot check out {rev!r}: {exc.stderr.strip()}") from None
                made.append(trees[role])
        print(f"# {args.scene} / {args.engine}: {args.n} scenes x {args.rounds} rounds, seed {args.seed}; "
              f"old = {args.old}, new = {args.new or 'the working tree'}; CPU-ms per video of Engine.simulate")
        old, new = Worker(trees["old"], args), Worker(trees["new"], args)
        ratios, tot_old, tot_new, same = [], 0.0, 0.0, True
        try:
            for r in range(args.rounds):
                ro = rn = 0.0
                for i in range(args.n):
                    if (i + r) % 2:
                        tn, dn = new.run(i)
                        to, do = old.run(i)
                    else:
                        to, do = old.run(i)
                        tn, dn = new.run(i)
                    ro, rn = ro + to, rn + tn
                    ratios.append(tn / to if to > 0 else float("nan"))
                    same = same and do == dn
                tot_old, tot_new = tot_old + ro, tot_new + rn
                print(f"round {r + 1}: old {ro / args.n * 1e3:.2f}, new {rn / args.n * 1e3:.2f} CPU-ms per video, "
                      f"ratio {rn / ro:.3f}", flush=True)
        finally:
            old.close()
            new.close()
        median = statistics.median(ratios)
        print(f"new / old: {tot_new / tot_old:.3f} in total, {median:.3f} median per video "
              f"({args.n * args.rounds} pairs); trajectories {'identical' if same else 'DIFFERENT'}")
        return {"total": tot_new / tot_old, "median": median, "identical": same}
    finally:
        for path in made:
            remove(path)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
