"""Errors a user can fix. The CLI prints these as one paragraph, without a traceback."""


class UserError(Exception):
    """Bad input: a config value, an output folder, a corrupt shard. The message says what is wrong
    and what is allowed."""


class ConfigError(UserError):
    """A configuration value is out of its allowed set or range."""


class CorruptShardError(UserError):
    """A shard file cannot be read (truncated, not Parquet, or not a simgen shard)."""
