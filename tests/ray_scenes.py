"""Test-only scene family for tests/test_ray.py: freefall, plus injected faults and slowness.

``ray_faulty`` behaves exactly like ``freefall`` except that sampling raises for the indices in
``fail_indices`` (a deterministic fault, like a bad asset) and sleeps ``sleep_s`` seconds per sample
(a window in which the test can kill a worker mid-shard). Ray workers import this module by name,
so ``tests/`` must be on their ``PYTHONPATH`` (the test's cluster is started with it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from omegaconf import OmegaConf

from simgen import scenes_registry
from simgen.scenes import freefall

NAME = "ray_faulty"


@dataclass
class Config(freefall.Config):
    name: str = NAME
    fail_indices: list = field(default_factory=list)
    sleep_s: float = 0.0


def sample(cfg: Config, rng, ctx):
    if ctx.index in cfg.fail_indices:
        raise RuntimeError(f"injected fault: asset for sample {ctx.index} is unreadable")
    if cfg.sleep_s:
        time.sleep(cfg.sleep_s)
    spec = freefall.sample(cfg, rng, ctx)
    spec.family = cfg.name
    return spec


def register() -> None:
    scenes_registry.register(NAME, __name__)


def make_config(overrides: list[str], **scene):
    """A resolved, read-only simgen config for ``ray_faulty`` with the given scene parameters."""
    from simgen.config import load_config

    register()
    base = OmegaConf.to_container(load_config(["scene=freefall", *overrides]))
    base["scene"] = {"name": NAME, **scene}
    scene_obj = scenes_registry.scene_config(base["scene"])
    base["scene"] = OmegaConf.to_container(OmegaConf.structured(scene_obj))
    cfg = OmegaConf.create(base)
    OmegaConf.set_readonly(cfg, True)
    return cfg
