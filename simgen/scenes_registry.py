"""Scene families: name -> sampler module.

A family is a module in ``scenes/`` (imported as ``simgen.scenes.<module>``) that defines

- ``Config``: a dataclass, the schema of ``conf/scene/<name>.yaml`` (its ``name`` field included);
- ``sample(cfg, rng, ctx) -> SceneSpec``: the only place randomness is drawn for a sample.

``scenes/__init__.py`` maps family names to modules (several families may share one module).
Users add their own with :func:`register` (see ``examples/custom_scene.py``).
"""

from __future__ import annotations

import dataclasses
import importlib
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from simgen.errors import ConfigError

_EXTRA: dict[str, str] = {}
_CONF_DIRS: list[str] = []


@dataclass(frozen=True)
class SampleContext:
    """What a sampler may know besides its own config and rng."""

    index: int  # sample index in the run
    seed: int  # per-sample seed (the rng was made from it)
    split: str  # "id" or "ood"
    sampler: str  # "random" or "grid"
    width: int
    height: int
    fps: float
    frames: int
    physics_hz: float
    look: Any = None  # the sample's simgen.appearance.Look: colours, floors, lights, ... (appearance stream)


def register(name: str, module: str, conf_dir: str | None = None) -> None:
    """Register a scene family implemented by an importable module (e.g. ``mypkg.myscene``).

    The module needs ``Config`` and ``sample``. ``conf_dir`` is a folder with ``scene/<name>.yaml``
    (the family's defaults); it is added to Hydra's search path. Runners pass registrations on to
    their worker processes. See ``examples/custom_scene.py``."""
    _EXTRA[name] = module
    if conf_dir is not None:
        import os

        path = os.path.abspath(conf_dir)
        if path not in _CONF_DIRS:
            _CONF_DIRS.append(path)


def registrations() -> tuple[dict[str, str], list[str]]:
    """What :func:`register` recorded, to replay in worker processes."""
    return dict(_EXTRA), list(_CONF_DIRS)


def conf_search_path() -> list[str]:
    return list(_CONF_DIRS)


def _families() -> dict[str, str]:
    import simgen.scenes as pkg

    fams = {name: f"simgen.scenes.{mod}" for name, mod in pkg.FAMILIES.items()}
    fams.update(_EXTRA)
    return fams


def available_scenes() -> list[str]:
    return sorted(_families())


def scene_module(name: str) -> ModuleType:
    fams = _families()
    if name not in fams:
        raise ConfigError(f"Unknown scene {name!r}. Available scenes: {', '.join(sorted(fams))}.")
    return importlib.import_module(fams[name])


def scene_config(raw: DictConfig | dict | Any) -> Any:
    """Validate a composed ``scene`` group against its family's schema; return the dataclass."""
    from omegaconf.errors import OmegaConfBaseException

    from simgen.config import validate

    if dataclasses.is_dataclass(raw):
        return raw
    raw = OmegaConf.create(raw) if isinstance(raw, dict) else raw
    name = raw.get("name") if raw is not None else None
    if not name:
        raise ConfigError(f"The scene config has no 'name'. Available scenes: {', '.join(available_scenes())}.")
    mod = scene_module(str(name))
    try:
        merged = OmegaConf.merge(OmegaConf.structured(mod.Config), raw)
        obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        msg = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise ConfigError(f"Bad value in scene '{name}': {msg}") from None
    validate(obj, "scene.")
    check = getattr(obj, "check", None)
    if callable(check):
        check()
    return obj


def sample_rng(run_seed: int, index: int, family: str = "") -> tuple[int, np.random.Generator]:
    """The per-sample seed and generator for sample ``index`` of family ``family`` in a run with ``run_seed``.

    Derived with ``SeedSequence(run_seed, spawn_key=(crc32(family), index))``: independent streams per
    sample and per family (a mixed dataset made with one seed does not repeat sample i's draws in
    every family), nothing from the clock or the process. ``default_rng(seed)`` with the returned
    63-bit seed rebuilds the same generator, so a single sample can be reproduced from its ``seed`` column."""
    ss = np.random.SeedSequence(int(run_seed), spawn_key=(zlib.crc32(family.encode()), int(index)))
    seed = int(ss.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)
    return seed, np.random.default_rng(seed)


# Streams derived from a sample's seed besides its physics generator (``default_rng(seed)``).
LOOK_STREAM = 1  # appearance: colours, patterns, floors, lights, environment
CAMERA_STREAM = 2  # framing and camera motion (drawn after simulation)


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    """Generator of the sample's ``stream`` (:data:`LOOK_STREAM`, :data:`CAMERA_STREAM`):
    ``SeedSequence(seed, spawn_key=(stream,))`` of the per-sample ``seed``, independent of the physics
    generator, so drawing more or less appearance never moves a physics draw, and the ``seed`` column
    rebuilds every stream."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(stream),)))


def make_scene(cfg: DictConfig, index: int, scfg: Any = None):
    """Sample scene ``index`` of the run described by ``cfg``. Returns (SceneSpec, per-sample seed).

    ``scfg`` is the validated scene config (:func:`scene_config`), computed here when not given."""
    scfg = scfg if scfg is not None else scene_config(cfg.scene)
    mod = scene_module(scfg.name)
    from simgen.appearance import Look

    seed, rng = sample_rng(cfg.seed, index, scfg.name)
    look = Look(stream_rng(seed, LOOK_STREAM), appearance=str(getattr(scfg, "appearance", "all")),
                environment_dir=cfg.render.get("environment_dir"))
    ctx = SampleContext(
        index=int(index),
        seed=seed,
        split=str(cfg.split),
        sampler=str(cfg.sampler),
        width=int(cfg.render.width),
        height=int(cfg.render.height),
        fps=float(cfg.render.fps),
        frames=int(cfg.render.frames),
        physics_hz=float(cfg.engine.physics_hz),
        look=look,
    )
    spec = mod.sample(scfg, rng, ctx)
    spec.split = ctx.split
    return spec, seed
