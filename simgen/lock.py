"""One writer per output folder, and who a writer is.

A job holds ``<out>/.simgen.lock`` from planning to its last write. On a local folder (and ``file://``)
the lock is an exclusive ``fcntl.flock`` on that file: the kernel drops it when the process ends,
however it ends (``kill -9`` included), so a killed job never leaves the folder locked. The file's
content (host, pid, start, command) only says who holds it. On NFS, Linux maps ``flock`` to POSIX
record locks, which NFSv4 servers honour.

Object stores (``s3://``, ``gs://``, ...) and filesystems without ``flock`` have no locks: there the
file is a lease, rewritten every :data:`LEASE_RENEW_S` seconds by the holder and considered abandoned
after :data:`LEASE_TTL_S` without a renewal (or at once when its holder ran on this host and is dead).
It is check-then-write, so two jobs started within the same second can both pass: advisory, not a
guarantee.

:class:`Writer` names a process by host, pid and start time (clock ticks after boot, from
``/proc/<pid>/stat``), so a recycled pid is not mistaken for the writer that died; temporaries carry
their writer's tag so that only those of dead writers are removed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass

from simgen.errors import FolderLockedError

LOCK_NAME = ".simgen.lock"
LEASE_TTL_S = 120.0
LEASE_RENEW_S = 30.0


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"


def process_start(pid: int) -> int | None:
    """Start time of a running process in clock ticks after boot (Linux), or None where unknown or
    where the process has ended: a zombie (killed, not yet reaped: an orphan in a container whose
    pid 1 does not reap) still has its ``/proc`` entry, with its start time, but writes nothing more."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X", "x"):  # zombie or dead
            return None
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Writer:
    """Identity of a process: host, pid and start time (0 where the platform does not say)."""

    host: str
    pid: int
    start: int

    @classmethod
    def current(cls) -> "Writer":
        return cls(_host(), os.getpid(), process_start(os.getpid()) or 0)

    @property
    def tag(self) -> str:
        return f"{self.host}_{self.pid}_{self.start}"

    _TAG = re.compile(r"^(?P<host>[A-Za-z0-9.-]+)_(?P<pid>\d+)_(?P<start>\d+)$")

    @classmethod
    def parse(cls, tag: str) -> "Writer | None":
        m = cls._TAG.match(tag)
        return cls(m["host"], int(m["pid"]), int(m["start"])) if m else None

    def alive(self) -> bool | None:
        """True or False for a process on this host; None when it ran on another host."""
        if self.host != _host():
            return None
        if self.start and os.path.exists("/proc/self/stat"):
            return process_start(self.pid) == self.start
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def command_line() -> str:
    """How this process was started, as a user would type it (``python -m simgen ...``)."""
    argv = list(sys.argv)
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and argv:
        name = spec.name[: -len(".__main__")] if spec.name.endswith(".__main__") else spec.name
        argv = ["python", "-m", name, *argv[1:]]
    return shlex.join(argv) if argv else "python"


def _describe(info: dict, uri: str) -> str:
    since = info.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, (int, float)) else "?"
    ago = f", {time.time() - since:.0f} s ago" if isinstance(since, (int, float)) else ""
    return (f"out={uri!r} is being written by another simgen job: pid {info.get('pid', '?')} on host "
            f"{info.get('host', '?')}, started {when}{ago}, command: {info.get('command', '?')}. "
            "One job writes a folder at a time: wait for it to finish or stop it (its finished shards are kept and "
            "a rerun resumes), or choose another out=.")


class FolderLock:
    """Exclusive right to write one output folder (:class:`simgen.shards.OutputFolder`)."""

    def __init__(self, folder, command: str | None = None):
        self.folder = folder
        self.path = folder.path(LOCK_NAME)
        self.info = {**Writer.current().__dict__, "since": time.time(), "command": command or command_line()}
        self._fd: int | None = None
        self._stop: threading.Event | None = None

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        if self.folder.is_local and self._acquire_flock():
            return
        self._acquire_lease()

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None
        if self._stop is not None:
            self._stop.set()
            self._stop = None
            try:
                if self._read_lease().get("since") == self.info["since"]:
                    self.folder.fs.delete_file(self.path)
            except OSError:
                pass

    # -- local folders: flock --------------------------------------------------------------------
    def _acquire_flock(self) -> bool:
        """True when locked; False where the filesystem has no flock (then a lease is used)."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = json.loads(os.pread(fd, 65536, 0).decode() or "{}")
            except ValueError:
                holder = {}
            os.close(fd)
            raise FolderLockedError(_describe(holder, self.folder.uri)) from None
        except OSError:  # ENOLCK, EOPNOTSUPP: some network and FUSE filesystems
            os.close(fd)
            return False
        data = json.dumps(self.info).encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        self._fd = fd
        return True

    # -- object stores: a lease ------------------------------------------------------------------
    def _read_lease(self) -> dict:
        try:
            with self.folder.fs.open_input_stream(self.path) as f:
                return json.loads(f.read().decode() or "{}")
        except (OSError, ValueError):
            return {}

    def _write_lease(self) -> None:
        self.folder.write_atomic(LOCK_NAME, json.dumps({**self.info, "renewed": time.time()}).encode())

    def _acquire_lease(self) -> None:
        holder = self._read_lease()
        if holder:
            w = Writer(str(holder.get("host")), int(holder.get("pid", 0) or 0), int(holder.get("start", 0) or 0))
            fresh = time.time() - float(holder.get("renewed", 0) or 0) < LEASE_TTL_S
            if fresh and w.alive() is not False:
                raise FolderLockedError(_describe(holder, self.folder.uri))
        self._write_lease()
        self._stop = stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_RENEW_S):
                try:
                    self._write_lease()
                except OSError:
                    pass

        threading.Thread(target=renew, name="simgen-lease", daemon=True).start()
