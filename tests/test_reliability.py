"""Reliability: corrupt bytes are caught, one writer per folder, Ctrl-C / SIGTERM stop a job in seconds,
a dead worker or main process leaves nothing running, the first failing shard stops the job, foreign
folders and files are left alone, and every mistake a user can make is one line (issue 13).

Jobs that must run long enough to be interrupted use the test-only scene ``ray_faulty``
(tests/ray_scenes.py: freefall plus a sleep per sample and injected faults), started through
``simgen.cli.main`` in a new session so that the whole process group can be signalled, listed and,
whatever happens, killed at teardown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ray_scenes
from conftest import run_simgen
from simgen.data import open_dataset
from simgen.errors import CorruptShardError, UserError

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TINY = ["render.width=64", "render.height=64", "render.frames=8"]

# A job of the test-only scene, run through the CLI entry point (exit status, one-line messages).
DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import ray_scenes, simgen.config
from simgen import cli
cfg = ray_scenes.make_config(json.loads(sys.argv[2]), **json.loads(sys.argv[3]))
simgen.config.load_config = lambda overrides: cfg
sys.exit(cli.main(["n=1"]))
"""


def session_pids(sid: int) -> list[int]:
    """Live processes of a session (the job and everything it started), zombies excluded."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(d))
    return pids


def children(pid: int, marker: str = "spawn_main") -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
            cmd = open(f"/proc/{d}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid and marker in cmd:
            out.append(int(d))
    return out


def wait_for(cond, timeout: float, step: float = 0.1, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or cond}")


class Jobs:
    """Start jobs in their own sessions; whatever a test does, kill their groups at teardown."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, overrides: list[str], **scene) -> subprocess.Popen:
        args = [sys.executable, "-c", DRIVER, str(TESTS), json.dumps(overrides + ["runner.progress=false"]),
                json.dumps(scene)]
        return self._popen(args)

    def cli(self, *args: str) -> subprocess.Popen:
        return self._popen([sys.executable, "-m", "simgen", *args, "runner.progress=false"])

    def _popen(self, args) -> subprocess.Popen:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        p = subprocess.Popen(args, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            for pid in session_pids(p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def jobs():
    j = Jobs()
    try:
        yield j
    finally:
        j.close()


def shard_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("shard-*.parquet"))


def temp_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob(".tmp-*"))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


# -- 1. corruption inside a shard ---------------------------------------------------------------------

def _pristine(tmp_path_factory, *extra) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "ds"
    run_simgen("n=4", "shard_size=2", "workers=1", "seed=11", f"out={out}", *TINY, *extra)
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """2 shards of 2 videos (row groups of 1 video), written once; tests corrupt copies."""
    return _pristine(tmp_path_factory)


@pytest.fixture(scope="module")
def pristine_raw(tmp_path_factory) -> Path:
    """The same, uncompressed (output.compression=none): a flipped byte is a flipped value."""
    return _pristine(tmp_path_factory, "output.compression=none")


def _chunk_span(path: Path, column: str, row_group: int = 0) -> tuple[int, int]:
    md = pq.ParquetFile(path).metadata
    rg = md.row_group(row_group)
    for c in range(rg.num_columns):
        col = rg.column(c)
        if col.path_in_schema.split(".")[0] == column:
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            return start, start + col.total_compressed_size
    raise KeyError(column)


def _flip(path: Path, pos: int, width: int = 4) -> None:
    data = bytearray(path.read_bytes())
    data[pos:pos + width] = bytes(b ^ 0x5A for b in data[pos:pos + width])
    path.write_bytes(bytes(data))


def _rows(path, **kw) -> list[dict]:
    ds = open_dataset(str(path), decode_video=False, **kw)
    return [ds[i] for i in range(len(ds))]


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b or (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b))


@pytest.mark.parametrize("compressed", [True, False])
@pytest.mark.parametrize("column", ["positions", "depth", "video", "caption", "masks", "mass", "scene"])
def test_flipped_bytes_in_a_column_are_an_error_naming_the_file(pristine, pristine_raw, tmp_path, column, compressed):
    """The issue's case: 4 bytes flipped in the middle of a column's data read back as wrong values."""
    pristine = pristine if compressed else pristine_raw
    out = tmp_path / "ds"
    shutil.copytree(pristine, out)
    shard = out / "shard-000001.parquet"
    a, b = _chunk_span(shard, column)
    _flip(shard, (a + b) // 2 if b - a > 40 else b - 4)
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        _rows(out)
    ds = open_dataset(str(out), columns=[column], decode_video=False)
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        ds[2]
    assert _equal(ds[0], open_dataset(str(pristine), columns=[column], decode_video=False)[0])  # others read


def test_corrupt_shard_is_an_error_in_torch_and_is_regenerated_on_resume(pristine, tmp_path):
    torch_mod = pytest.importorskip("simgen.torch")
    out = tmp_path / "ds"
    shutil.copytree(pristine, out)
    shard = out / "shard-000001.parquet"
    a, b = _chunk_span(shard, "positions", 1)
    _flip(shard, (a + b) // 2)
    tds = torch_mod.SimgenTorchDataset(str(out), columns=["positions", "caption"])
    tds[0]
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        tds[3]
    it = torch_mod.SimgenIterableDataset(str(out), columns=["positions"], shuffle=False)
    with pytest.raises(CorruptShardError, match="shard-000001.parquet"):
        list(it)
    res = run_simgen("n=4", "shard_size=2", "workers=1", "seed=11", f"out={out}", *TINY)
    assert "shard-000001.parquet is corrupt" in res.stdout and "1 of 2 shard(s) already complete" in res.stdout
    assert (out / "shard-000000.parquet").read_bytes() == (pristine / "shard-000000.parquet").read_bytes()  # kept
    _same_tables(out, pristine)  # the damaged one regenerated: the same values (the footer names its own out=)


def _same_tables(a: Path, b: Path) -> None:
    assert shard_files(a) == shard_files(b)
    assert _equal(_rows(a), _rows(b))


def test_every_flipped_byte_is_caught_on_read_or_changes_nothing_and_always_on_resume(pristine, tmp_path):
    """Flip 4 bytes at ~400 positions spread over a whole shard (pages, page headers, dictionaries,
    nested columns, footer, metadata): the reader either raises CorruptShardError or returns exactly
    the pristine values, and the resume check rejects every one."""
    from simgen.integrity import file_sha256

    src = pristine / "shard-000000.parquet"
    data = src.read_bytes()
    manifest = json.loads((pristine / "_simgen.json").read_text())
    recorded = manifest["shards"]["shard-000000.parquet"]
    want = _rows(src)
    work = tmp_path / "shard-000000.parquet"
    positions = sorted(set(np.linspace(4, len(data) - 9, 400).astype(int).tolist()))
    caught = same = 0
    import pyarrow.fs as pafs

    for pos in positions:
        work.write_bytes(data)
        _flip(work, pos)
        try:
            got = _rows(work)
        except CorruptShardError:
            caught += 1
        else:
            assert _equal(got, want), f"flip at byte {pos} of {len(data)} read back different values without an error"
            same += 1
        sha, size = file_sha256(pafs.LocalFileSystem(), str(work))
        assert sha != recorded["sha256"] and size == recorded["bytes"]
    assert caught > 0.8 * len(positions), (caught, same)


# -- 2. one writer per folder --------------------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_running_job(jobs, tmp_path):
    out = tmp_path / "ds"
    a = jobs.start(["n=20", "shard_size=2", "workers=1", "seed=0", f"out={out}", *TINY], sleep_s=0.5)
    wait_for(lambda: temp_files(out) or shard_files(out), 240, what="job A to start writing")  # 10 s of work left
    # another seed, overwrite=true: before the lock, this deleted A's shards and both "succeeded"
    b = subprocess.run([sys.executable, "-m", "simgen", "n=2", "shard_size=2", "seed=5", "overwrite=true", f"out={out}",
                        "runner.progress=false", *TINY], capture_output=True, text=True, timeout=120)
    assert b.returncode == 2, b.stdout + b.stderr
    lines = error_lines(b.stderr)
    assert len(lines) == 1 and "Traceback" not in b.stderr, b.stderr
    assert "being written by another simgen job" in lines[0] and f"pid {a.pid}" in lines[0], lines[0]
    assert "started" in lines[0] and "-c" in lines[0]  # since when, and A's command line
    stdout, stderr = a.communicate(timeout=300)
    assert a.returncode == 0, stdout + stderr
    ds = open_dataset(str(out), columns=["run_seed", "scene"], decode_video=False)
    assert len(ds) == 20 and {ds[i]["run_seed"] for i in range(20)} == {0}
    assert {ds[i]["scene"] for i in range(20)} == {"ray_faulty"}


def test_temporaries_are_removed_only_when_their_writer_is_dead(tmp_path):
    from simgen.lock import Writer, process_start
    from simgen.shards import OutputFolder

    folder = OutputFolder(str(tmp_path))
    me = Writer.current()
    sleeper = subprocess.Popen(["sleep", "60"])
    zombie = subprocess.Popen(["sleep", "60"])
    try:
        dead = Writer(me.host, sleeper.pid, process_start(sleeper.pid) or 0)
        # killed and not reaped: what a writer killed with its parent stays in a container whose
        # pid 1 does not reap orphans (its /proc entry and start time remain)
        undead = Writer(me.host, zombie.pid, process_start(zombie.pid) or 0)
        assert undead.alive() is True
        zombie.kill()
        deadline = time.time() + 10
        while time.time() < deadline and undead.alive():
            time.sleep(0.01)
        assert undead.alive() is False
    finally:
        sleeper.kill()
        sleeper.wait()
    names = {
        "live": f".tmp-{me.tag}_0123abcd-shard-000001.parquet",
        "dead": f".tmp-{dead.tag}_0123abcd-shard-000002.parquet",
        "zombie": f".tmp-{undead.tag}_0123abcd-shard-000006.parquet",
        "recycled_pid": f".tmp-{Writer(me.host, me.pid, me.start + 1).tag}_0123abcd-shard-000003.parquet",
        "other_host": ".tmp-elsewhere.example_4242_17_0123abcd-shard-000004.parquet",
        "old_version": ".tmp-" + "ab" * 16 + "-shard-000005.parquet",
    }
    for n in names.values():
        (tmp_path / n).write_bytes(b"x")
    try:
        assert folder.remove_temporaries() == 4
    finally:
        zombie.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names["live"], names["other_host"]])


def test_object_store_lease_refuses_a_live_holder_and_expires(tmp_path):
    """Where flock is impossible (s3://, gs://: not a LocalFileSystem) the lock is a renewed lease."""
    import pyarrow.fs as pafs

    from simgen.errors import FolderLockedError
    from simgen.lock import LEASE_TTL_S, FolderLock
    from simgen.shards import OutputFolder

    def folder():
        f = OutputFolder(str(tmp_path))
        f.fs, f.root = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem()), ""
        assert not f.is_local
        return f

    lease = tmp_path / ".simgen.lock"
    with FolderLock(folder(), command="job A"):
        assert json.loads(lease.read_text())["command"] == "job A"
        with pytest.raises(FolderLockedError, match="command: job A"):
            FolderLock(folder(), command="job B").acquire()
    assert not lease.exists()  # released
    # a lease not renewed for longer than the TTL is taken over, even from a host we cannot check
    lease.write_text(json.dumps({"host": "elsewhere.example", "pid": 1, "start": 1, "since": 0,
                                 "renewed": time.time() - LEASE_TTL_S - 1, "command": "old"}))
    with FolderLock(folder(), command="job C"):
        assert json.loads(lease.read_text())["command"] == "job C"
    # a fresh lease of a dead process on this host is taken over at once
    from simgen.lock import Writer

    dead = subprocess.Popen(["true"])
    dead.wait()
    lease.write_text(json.dumps({**Writer(Writer.current().host, dead.pid, 1).__dict__, "since": 0,
                                 "renewed": time.time(), "command": "dead"}))
    with FolderLock(folder(), command="job D"):
        pass


# -- 3. Ctrl-C and SIGTERM ------------------------------------------------------------------------------

@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_job_within_seconds(jobs, tmp_path, sig, status):
    """SIGINT to the whole group (Ctrl-C), SIGTERM to the main process (a scheduler's stop)."""
    from simgen.integrity import verify_file

    out = tmp_path / "ds"
    n = 40
    job = jobs.start([f"n={n}", "shard_size=2", "workers=2", f"out={out}", *TINY], sleep_s=0.5)
    wait_for(lambda: shard_files(out), 240, what="the first shard")
    t0 = time.monotonic()
    if sig == signal.SIGINT:
        os.killpg(job.pid, sig)
    else:
        os.kill(job.pid, sig)
    stdout, stderr = job.communicate(timeout=60)
    stopped_in = time.monotonic() - t0
    assert job.returncode == status, stdout + stderr
    assert stopped_in < 15, f"took {stopped_in:.1f} s to stop"  # the rest of the job needs > 10 s more
    lines = error_lines(stderr)
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"stopped by {signal.Signals(sig).name}" in lines[0] and "Rerun the same command to resume" in lines[0]
    done = shard_files(out)
    assert 1 <= len(done) < n // 2
    assert re.search(rf"{len(done)} of {n // 2} shard\(s\) are finished and kept", lines[0]), lines[0]
    assert not temp_files(out), "the ended workers' temporaries are removed"
    wait_for(lambda: not session_pids(job.pid), 10, what="every process of the job to end")
    import pyarrow.fs as pafs

    for name in done:  # what is kept is whole
        assert verify_file(pafs.LocalFileSystem(), str(out / name))["rows"] == 2


# -- 4. dead workers, dead main process --------------------------------------------------------------

def test_a_killed_worker_ends_the_job_in_one_line_and_leaves_nothing_running(jobs, tmp_path):
    out = tmp_path / "ds"
    job = jobs.start(["n=20", "shard_size=2", "workers=2", f"out={out}", *TINY], sleep_s=0.5)
    workers = wait_for(lambda: len(children(job.pid)) == 2 and temp_files(out) and children(job.pid), 240,
                       what="two workers, one writing a shard")
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == 2, stdout + stderr
    lines = error_lines(stderr)
    assert len(lines) == 1 and "Traceback" not in stderr and "BrokenProcessPool" not in stderr, stderr
    assert f"worker process {victim} died (killed by SIGKILL" in lines[0] and re.search(r"shard \d+ \(samples", lines[0]), lines[0]
    wait_for(lambda: not session_pids(job.pid), 10, what="every process of the job to end")
    assert not temp_files(out)


def test_workers_die_with_a_killed_main_process_and_release_the_folder(jobs, tmp_path):
    from simgen.lock import FolderLock
    from simgen.shards import OutputFolder

    out = tmp_path / "ds"
    job = jobs.start(["n=40", "shard_size=2", "workers=2", f"out={out}", *TINY], sleep_s=0.3)
    wait_for(lambda: shard_files(out) and len(children(job.pid)) == 2, 240, what="the first shard")
    workers = children(job.pid)
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=30)
    wait_for(lambda: not any(os.path.exists(f"/proc/{w}") and open(f"/proc/{w}/stat").read().split(") ")[1][0] != "Z"
                             for w in workers), 10, what="the workers to die with their parent")
    after = shard_files(out)
    time.sleep(2)
    assert shard_files(out) == after, "no shard is written after the main process died"
    with FolderLock(OutputFolder(str(out))):  # the kernel released the lock with the process
        pass


# -- 5. fail fast ------------------------------------------------------------------------------------

def test_the_first_failing_shard_stops_the_local_runner(tmp_path):
    from simgen.job import run

    out = tmp_path / "ds"
    cfg = ray_scenes.make_config(["n=10", "shard_size=1", "workers=1", f"out={out}", "runner.progress=false", *TINY],
                                 fail_indices=[1])
    with pytest.raises(UserError) as err:
        run(cfg, log=lambda s: None)
    msg = str(err.value)
    assert "shard 1 (samples 1..1; failed at sample 1, sample_id ray_faulty-0-00000001)" in msg
    assert "injected fault" in msg and "runner.max_failures=0" in msg
    assert shard_files(out) == ["shard-000000.parquet"], "shards after the failing one were never started"
    assert not temp_files(out)

    # runner.max_failures=1 works locally too: the rest is written, the failing shard is missing
    out2 = tmp_path / "ds2"
    cfg = ray_scenes.make_config(["n=4", "shard_size=1", "workers=1", f"out={out2}", "runner.progress=false",
                                  "runner.max_failures=1", *TINY], fail_indices=[1])
    logs: list[str] = []
    summary = run(cfg, log=logs.append)
    assert summary["videos_present"] == 3 and shard_files(out2) == [f"shard-00000{k}.parquet" for k in (0, 2, 3)]
    assert any("FAILED" in line and "shard 1" in line for line in logs), logs


# -- 6. foreign folders and files ----------------------------------------------------------------------

def test_a_folder_that_is_not_a_simgen_dataset_is_refused_and_untouched(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# my project\n")
    (project / "notes.txt").write_text("keep me\n")
    before = {p.name: p.read_bytes() for p in project.iterdir()}
    res = run_simgen("n=1", f"out={project}", *TINY, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    lines = error_lines(res.stderr)
    assert len(lines) == 1 and "is not empty and is not a simgen dataset" in lines[0] and "README.md" in lines[0]
    assert {p.name: p.read_bytes() for p in project.iterdir()} == before, "nothing written, nothing replaced"


def test_empty_out_is_an_error(tmp_path):
    res = run_simgen("n=1", "out=", *TINY, check=False, cwd=tmp_path)
    assert res.returncode == 2 and "out= is empty" in res.stderr and len(error_lines(res.stderr)) == 1
    assert not list(tmp_path.iterdir())


def test_a_readme_simgen_did_not_write_is_never_replaced(pristine, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(pristine, out)
    assert "# simgen dataset" in (out / "README.md").read_text()
    (out / "README.md").write_text("# Physics drops\nMy own card for the Hub.\n")
    res = run_simgen("n=6", "shard_size=2", "workers=1", "seed=11", f"out={out}", *TINY)
    assert (out / "README.md").read_text() == "# Physics drops\nMy own card for the Hub.\n"
    assert "left as it is" in res.stdout
    assert len(open_dataset(str(out))) == 6


# -- 7. errors that were tracebacks, hangs or late ------------------------------------------------------

def test_ray_address_where_nothing_listens_fails_fast_in_one_line(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "ds"
    res = run_simgen("n=1", "runner=ray", "runner.address=127.0.0.1:1", f"out={out}", *TINY, check=False, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = error_lines(res.stderr)
    assert len(lines) == 1 and "Cannot connect to a Ray cluster at runner.address='127.0.0.1:1'" in lines[0], res.stderr
    assert not out.exists()


def test_memory_that_cannot_fit_is_refused_up_front_with_the_figure(tmp_path):
    out = tmp_path / "ds"
    res = run_simgen("render.frames=100000", "render.width=1024", "render.height=1024", "workers=1", f"out={out}",
                     check=False, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = error_lines(res.stderr)
    assert len(lines) == 1 and "Not enough memory" in lines[0] and re.search(r"needs about [\d.]+ GB per worker", lines[0])
    assert not out.exists()


def test_absurd_n_is_planned_lazily(tmp_path):
    """n=10**12: planning must not build a list of 10**10 shards (run with a 4 GB address-space cap)."""
    code = (
        "import sys, resource, itertools; sys.path.insert(0, %r)\n"
        "from simgen.config import load_config\nfrom simgen.job import prepare\n"
        "cfg = load_config(['n=1000000000000', 'out=%s'])\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "plan = prepare(cfg, log=lambda *a: None)\n"
        "first = [s.k for s in itertools.islice(plan.pending, 3)]\n"
        "print(plan.shard_size, len(plan.shards), len(plan.pending), first, plan.shards[-1].stop)\n"
    ) % (str(TESTS), tmp_path / "ds")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["100", "10000000000", "10000000000", "[0,", "1,", "2]", "1000000000000"]


def _mount_ns_command(script: str) -> list[str] | None:
    """A command that runs ``script`` (sh) in a private mount namespace where it may mount a tmpfs."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for cmd in ([unshare, "-m"], [unshare, "-rm"]):
        probe = subprocess.run([*cmd, "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"],
                               capture_output=True)
        if probe.returncode == 0:
            return [*cmd, "sh", "-c", script]
    return None


def test_disk_full_is_one_line_with_the_space_needed(tmp_path):
    out = tmp_path / "small"
    out.mkdir()
    check = ("import json, os, sys, pyarrow.fs as pafs\nfrom simgen.integrity import verify_file\n"
             "d = sys.argv[1]; names = sorted(os.listdir(d))\n"
             "ok = [verify_file(pafs.LocalFileSystem(), os.path.join(d, n))['rows'] for n in names if n.startswith('shard-')]\n"
             "print(json.dumps({'names': names, 'rows': ok}))\n")
    (tmp_path / "check.py").write_text(check)
    args = " ".join(["n=60", "shard_size=2", "workers=1", f"out={out}", "runner.progress=false", *TINY])
    script = (f"mount -t tmpfs -o size=300k tmpfs {out} || exit 99; "
              f"{sys.executable} -m simgen {args} 2>{tmp_path}/err; echo rc=$?; {sys.executable} {tmp_path}/check.py {out}")
    cmd = _mount_ns_command(script)
    if cmd is None:
        pytest.skip("cannot mount a small tmpfs here (no unshare / mount namespaces)")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))
    err = (tmp_path / "err").read_text()
    assert "rc=2" in res.stdout, res.stdout + err
    lines = error_lines(err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(r"Disk full: .* \([\d.]+ MB free\); the job needs about [\d.]+ MB more for the \d+ video", lines[0])
    state = json.loads(res.stdout.strip().splitlines()[-1])
    assert state["rows"] and all(r == 2 for r in state["rows"]), state  # every shard there is whole
    assert not [n for n in state["names"] if n.startswith(".tmp-")], state


def test_a_broken_manifest_is_rebuilt_from_the_shards(pristine, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(pristine, out)
    (out / "_simgen.json").write_text('{"config_hash": "abc", truncated')
    args = ["n=4", "shard_size=2", "workers=1", "seed=11", f"out={out}", *TINY]
    res = run_simgen(*args, check=False)
    assert res.returncode == 2 and len(error_lines(res.stderr)) == 1
    assert f"python -m simgen.repair {out}" in res.stderr and "remove it" not in res.stderr
    a, b = _chunk_span(out / "shard-000001.parquet", "depth", 1)
    _flip(out / "shard-000001.parquet", (a + b) // 2)  # and one shard is damaged too
    rep = subprocess.run([sys.executable, "-m", "simgen.repair", str(out)], capture_output=True, text=True, timeout=120)
    assert rep.returncode == 0, rep.stderr
    assert "1 intact shard(s)" in rep.stdout and "shard-000001.parquet is damaged" in rep.stdout
    res = run_simgen(*args)
    assert "resuming: 1 of 2 shard(s) already complete" in res.stdout
    _same_tables(out, pristine)


# -- 8. readers ---------------------------------------------------------------------------------------

def test_open_dataset_says_what_a_foreign_parquet_folder_is_not(tmp_path, pristine):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    pq.write_table(pa.table({"a": [1, 2, 3, 4], "b": ["w", "x", "y", "z"]}), foreign / "part-0.parquet")
    with pytest.raises(UserError) as err:
        open_dataset(str(foreign))
    assert not isinstance(err.value, CorruptShardError)
    assert "is not a simgen dataset" in str(err.value) and "no simgen metadata" in str(err.value)
    with pytest.raises(UserError) as err:
        open_dataset(str(pristine / "_simgen.json"))
    assert "is not a Parquet shard" in str(err.value) and "Delete" not in str(err.value)


# -- 9. first-run polish -----------------------------------------------------------------------------

def test_small_n_gets_small_shards_and_resume_keeps_the_layout(tmp_path):
    from simgen.config import load_config
    from simgen.job import prepare
    from simgen.show import summary_text

    out = tmp_path / "ds"
    res = run_simgen("n=8", "workers=2", f"out={out}", *TINY)
    assert "8 video(s) in 8 shard(s) on 2 worker process(es)" in res.stdout
    assert len(shard_files(out)) == 8
    # a rerun with a larger n keeps the folder's shard size (n=640 alone would give 10 per shard)
    plan = prepare(load_config(["n=640", f"out={out}", *TINY]), log=lambda *a: None)
    assert plan.shard_size == 1 and len(plan.complete) == 8 and len(plan.pending) == 632
    text = summary_text(open_dataset(str(out)))
    for name in ("mass", "friction", "restitution"):
        assert len(re.findall(rf"^\s+{name}\s", text, flags=re.M)) == 1, text


def test_ramp_captions_never_say_pushed_at_zero():
    from simgen.config import load_config
    from simgen.scenes_registry import make_scene

    slow = {"ramp_down": ["scene.push_prob=1.0"],  # push speeds uniform in [0, 0.8]: ~1 in 8 below 0.1
            "ramp_up": ["scene.speed.lo=0.01", "scene.speed.ood_lo=0.005", "scene.speed.hi=0.5"]}
    for scene, key in (("ramp_down", "push_speed"), ("ramp_up", "launch_speed")):
        cfg = load_config([f"scene={scene}", "n=120", *slow[scene]])
        for i in range(120):
            spec, _ = make_scene(cfg, i)
            v = spec.params[key]
            m = re.search(r"pushed at ([\d.e-]+) m/s", spec.caption)
            if v > 0:
                assert m and float(m.group(1)) > 0 and abs(float(m.group(1)) - v) <= 0.05 + 0.1 * v, spec.caption
            else:
                assert not m and "released" in spec.caption


def test_every_packaged_data_folder_is_listed():
    """setuptools warns for every shipped folder missing from `packages` (setup printed ~400 lines)."""
    import tomllib

    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert isinstance(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"], str)
    listed = set(tool["packages"])
    for pkg, folder in tool["package-dir"].items():
        for d in (REPO / folder).rglob("*"):
            if d.is_dir() and d.name != "__pycache__" and any(f.is_file() for f in d.iterdir()):
                name = pkg + "." + ".".join(d.relative_to(REPO / folder).parts)
                assert name in listed, f"{name} ({d}) is shipped but not in [tool.setuptools] packages"
