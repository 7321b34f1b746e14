"""Runners map pending shards to workers. ``runner=local`` (default) or ``runner=ray``."""

from __future__ import annotations

import importlib

RUNNERS = {"local": "simgen.runners.local:run", "ray": "simgen.runners.ray:run"}


def get_runner(name: str):
    mod, fn = RUNNERS[name].split(":")
    return getattr(importlib.import_module(mod), fn)
