"""Errors a user can fix, and how a job that was stopped says so. The CLI prints these as one
paragraph, without a traceback."""

from __future__ import annotations

import signal


class UserError(Exception):
    """Bad input: a config value, an output folder, a corrupt shard. The message says what is wrong
    and what is allowed."""


class ConfigError(UserError):
    """A configuration value is out of its allowed set or range."""


class CorruptShardError(UserError):
    """A shard file cannot be read (truncated, not Parquet, not a simgen shard, or its bytes do not
    match their checksums)."""


class FolderLockedError(UserError):
    """Another simgen job is writing into the output folder."""


class JobFailed(UserError):
    """A shard failed (its worker raised or died) and the job stopped; finished shards are kept."""


class Stopped(KeyboardInterrupt):
    """The job was stopped by a signal (SIGINT: Ctrl-C, SIGTERM: a scheduler). ``exit_status`` is
    128 + the signal number (130, 143), as a shell reports a process killed by that signal."""

    def __init__(self, signum: int = signal.SIGINT, message: str = ""):
        super().__init__(message)
        self.signum = int(signum)
        self.message = message

    @property
    def exit_status(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"
