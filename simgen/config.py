"""Typed, bounded configuration.

The YAML files in ``conf/`` hold the defaults; the dataclasses here are their schema. Hydra composes
the YAML with command-line overrides (``scene=bounce n=500 render.fps=24``); :func:`load_config` then
checks every value against its schema (type, bounds, allowed choices) before any work starts, so a bad
value fails with one message that names the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from omegaconf import DictConfig, OmegaConf

from simgen.errors import ConfigError
from simgen.paths import conf_dir


def bounded(default: Any, *, ge=None, gt=None, le=None, lt=None, choices=None, doc: str = ""):
    """A dataclass field with bounds checked by :func:`validate`."""
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "doc": doc}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda d=default: _copy(d), metadata=meta)
    return field(default=default, metadata=meta)


def _copy(value):
    import copy

    return copy.deepcopy(value)


@dataclass
class Range:
    """A scalar parameter drawn from ``[lo, hi]`` in distribution.

    Out of distribution (``split=ood``) it is drawn from the held-out bands ``[ood_lo, lo)`` and
    ``(hi, ood_hi]`` (whichever are given), weighted by their widths. ``log: true`` draws uniformly
    in log space (for masses, sizes). ``grid`` samplers take ``steps`` evenly spaced values."""

    lo: float = 0.0
    hi: float = 1.0
    ood_lo: Optional[float] = None
    ood_hi: Optional[float] = None
    log: bool = False

    def check(self, key: str, ge: Optional[float] = None, gt: float | None = None) -> None:
        vals = {"lo": self.lo, "hi": self.hi, "ood_lo": self.ood_lo, "ood_hi": self.ood_hi}
        for name, v in vals.items():
            if v is None:
                continue
            if not math.isfinite(v):
                raise ConfigError(f"{key}.{name}={v} is not a finite number.")
            if ge is not None and v < ge:
                raise ConfigError(f"{key}.{name}={v} is out of range: it must be >= {ge}.")
            if gt is not None and v <= gt:
                raise ConfigError(f"{key}.{name}={v} is out of range: it must be > {gt}.")
        if self.lo > self.hi:
            raise ConfigError(f"{key}: lo={self.lo} is greater than hi={self.hi}; a range needs lo <= hi.")
        if self.ood_lo is not None and self.ood_lo > self.lo:
            raise ConfigError(f"{key}.ood_lo={self.ood_lo} must be <= lo={self.lo} (the held-out band lies below the range).")
        if self.ood_hi is not None and self.ood_hi < self.hi:
            raise ConfigError(f"{key}.ood_hi={self.ood_hi} must be >= hi={self.hi} (the held-out band lies above the range).")
        if self.log and self.lo <= 0:
            raise ConfigError(f"{key}: log=true needs lo > 0, got lo={self.lo}.")

    def bands(self, split: str) -> list[tuple[float, float]]:
        if split == "ood":
            bands = []
            if self.ood_lo is not None and self.ood_lo < self.lo:
                bands.append((self.ood_lo, self.lo))
            if self.ood_hi is not None and self.ood_hi > self.hi:
                bands.append((self.hi, self.ood_hi))
            if not bands:  # no held-out band configured: OOD equals ID for this parameter
                bands.append((self.lo, self.hi))
            return bands
        return [(self.lo, self.hi)]

    def sample(self, rng: np.random.Generator, split: str = "id") -> float:
        bands = self.bands(split)
        if self.log:
            widths = np.array([math.log(b) - math.log(a) if a > 0 else 0.0 for a, b in bands])
        else:
            widths = np.array([b - a for a, b in bands])
        k = 0 if len(bands) == 1 or widths.sum() <= 0 else int(rng.choice(len(bands), p=widths / widths.sum()))
        a, b = bands[k]
        u = rng.random()
        if self.log and a > 0:
            return float(math.exp(math.log(a) + u * (math.log(b) - math.log(a))))
        return float(a + u * (b - a))

    def grid(self, steps: int, split: str = "id") -> np.ndarray:
        """``steps`` evenly spaced values over the split's bands (end points included)."""
        bands = self.bands(split)
        lo, hi = bands[0][0], bands[-1][1]
        if steps <= 1 or lo == hi:
            return np.array([0.5 * (lo + hi)])
        vals = np.geomspace(lo, hi, steps) if (self.log and lo > 0) else np.linspace(lo, hi, steps)
        if split == "ood" and len(bands) > 1:  # keep only values inside the held-out bands
            vals = np.array([v for v in vals if any(a <= v <= b for a, b in bands)])
        return vals


@dataclass
class RenderConfig:
    width: int = bounded(256, ge=16, le=4096, doc="image width, pixels (even: H.264 4:2:0)")
    height: int = bounded(256, ge=16, le=4096, doc="image height, pixels (even: H.264 4:2:0)")
    fps: float = bounded(16.0, gt=0, le=1000, doc="frames per second of the video and the ground truth")
    frames: int = bounded(32, ge=2, le=100000, doc="frames per video")
    backend: str = bounded("gl", choices=["gl", "pyrender"], doc="gl: batched renderer (moderngl); pyrender: the reference")
    shading: str = bounded("fast", choices=["fast", "pbr"], doc="fast: Blinn-Phong; pbr: GGX (pyrender: its PBR shader)")
    shadows: bool = bounded(True, doc="key-light shadows and contact occlusion (gl backend)")
    msaa: int = bounded(4, choices=[1, 2, 4, 8], doc="multisamples per pixel of the colour (gl backend)")
    shadow_map_size: int = bounded(256, choices=[64, 128, 256, 512, 1024], doc="most texels per side of an object shadow map (fitted to the image size of the objects)")
    flow: bool = bounded(False, doc="write forward optical flow (column flow)")
    masks: bool = bounded(True, doc="write instance masks")
    depth: bool = bounded(True, doc="write metric depth")
    depth_dtype: str = bounded("float16", choices=["float16", "float32"], doc="storage type of depth")
    crf: int = bounded(18, ge=0, le=51, doc="H.264 constant rate factor (0 = lossless)")
    preset: str = bounded(
        "ultrafast",
        choices=["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"],
        doc="x264 speed preset",
    )
    x264_params: str = bounded(
        "bframes=3:b-adapt=0:cabac=1",
        doc="x264 options over the preset (key=value:key=value; empty: the preset alone)",
    )
    environment_dir: Optional[str] = bounded(
        None, doc="folder of backdrop images (2:1 panoramas or plain pictures); default: procedural skies and backdrops"
    )


@dataclass
class CameraConfig:
    """Where the camera is: framed after simulation (``auto``) or the sampler's (``fixed``), and how it
    moves (``simgen/camera/``)."""

    framing: str = bounded("auto", choices=["auto", "fixed"], doc="auto: fit the camera to the recorded trajectory; fixed: the sampler's camera")
    motion: str = bounded("static", choices=["static", "orbit", "dolly", "pan"], doc="camera motion over the clip")
    margin: float = bounded(0.03, ge=0, lt=0.5, doc="auto framing: fraction of the image height kept free around every object")
    min_distance: float = bounded(1.0, ge=0, le=1000, doc="auto framing: metres from the camera to the objects' centre, at least")
    orbit_degrees: Range = bounded(Range(15.0, 40.0), ge=0, doc="orbit: degrees the camera circles over the clip")
    dolly_fraction: Range = bounded(Range(0.15, 0.35), ge=0, doc="dolly: travel along the optical axis, fraction of the distance")
    pan_degrees: Range = bounded(Range(8.0, 20.0), ge=0, doc="pan: degrees the camera turns over the clip")

    def check(self) -> None:
        for key, r, top in (("orbit_degrees", self.orbit_degrees, 180.0), ("dolly_fraction", self.dolly_fraction, 0.9),
                            ("pan_degrees", self.pan_degrees, 30.0)):
            if r.hi > top:
                raise ConfigError(f"camera.{key}.hi={r.hi} is out of range: it must be <= {top:g}.")


@dataclass
class EngineConfig:
    name: str = bounded("pybullet", choices=["pybullet", "mujoco"], doc="physics engine")
    physics_hz: float = bounded(240.0, gt=0, le=100000, doc="physics steps per second; a multiple of render.fps")
    solver_iterations: int = bounded(50, ge=1, le=10000, doc="constraint solver iterations per step")
    contact_gap_steps: int = bounded(
        10, ge=1, le=1000,
        doc="steps a pair must be apart before touching again is a new contact onset (and not a flicker of the same contact)",
    )
    restitution_threshold: float = bounded(
        0.2, ge=0, le=100, doc="m/s: impacts slower than this do not bounce (the engine's contact takes them), except between two bodies in flight"
    )
    contact_erp: float = bounded(
        0.2, ge=0, le=1, doc="pybullet: fraction of a resting contact's penetration removed per step"
    )
    contact_tau_steps: float = bounded(
        2.0, gt=0, le=100, doc="mujoco: contact spring time constant in physics steps (pybullet ignores it)"
    )
    contact_damping: float = bounded(
        1.0, gt=0, le=100, doc="mujoco: contact spring damping ratio, 1 = critical (pybullet ignores it)"
    )
    impedance: float = bounded(
        0.99, gt=0, lt=1, doc="mujoco: contact impedance (solimp), how hard the contact is (pybullet ignores it)"
    )


@dataclass
class RunnerConfig:
    name: str = bounded("local", choices=["local", "ray"], doc="local process pool or a Ray cluster")
    progress: bool = bounded(True, doc="show a progress bar")
    address: Optional[str] = bounded(None, doc="ray: cluster address ('auto', 'ray://host:10001'); empty starts a local one")
    max_failures: int = bounded(0, ge=0, doc="shards allowed to fail (ray: after retries) before the job stops")
    max_retries: int = bounded(3, ge=0, le=100, doc="ray: retries of a task whose worker died or raised")
    num_cpus: float = bounded(1.0, gt=0, doc="ray: CPUs reserved per task")
    num_gpus: float = bounded(0.0, ge=0, doc="ray: GPUs reserved per task")
    connect_timeout_s: float = bounded(15.0, gt=0, le=3600, doc="ray: seconds to wait for runner.address to answer")


@dataclass
class OutputConfig:
    compression: str = bounded("zstd", choices=["zstd", "snappy", "gzip", "lz4", "none"], doc="Parquet codec")
    compression_level: int = bounded(1, ge=1, le=22, doc="zstd level")
    row_group_size: int = bounded(1, ge=1, le=100000, doc="rows per Parquet row group (random access unit)")


@dataclass
class SimgenConfig:
    scene: Any = field(default_factory=dict)
    engine: EngineConfig = field(default_factory=EngineConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    n: int = bounded(100, ge=1, doc="number of videos")
    seed: int = bounded(0, ge=0, lt=2**63, doc="run seed; sample i depends only on (seed, i, config)")
    out: str = bounded("datasets/${scene.name}", doc="output folder or pyarrow filesystem URI")
    shard_size: int = bounded(0, ge=0, le=1000000, doc="videos per Parquet file; 0 = auto (ceil(n / 64), at most 100)")
    workers: int = bounded(0, ge=0, le=4096, doc="worker processes; 0 = all cores")
    overwrite: bool = bounded(False, doc="replace an output folder written with another config")
    split: str = bounded("id", choices=["id", "ood"], doc="draw parameters from in- or out-of-distribution bands")
    sampler: str = bounded("random", choices=["random", "grid"], doc="random draws or an exhaustive parameter grid")


def validate(obj: Any, prefix: str = "") -> None:
    """Check every bounded field of a dataclass instance (recursively); raise ConfigError."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        meta = f.metadata
        if dataclasses.is_dataclass(value):
            if isinstance(value, Range):
                value.check(key, ge=meta.get("ge"), gt=meta.get("gt"))
            else:
                validate(value, key + ".")
            continue
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of: {', '.join(map(str, choices))}.")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{key}={value} is not a finite number.")
            for op, bound, ok in (
                (">=", meta.get("ge"), lambda v, b: v >= b),
                (">", meta.get("gt"), lambda v, b: v > b),
                ("<=", meta.get("le"), lambda v, b: v <= b),
                ("<", meta.get("lt"), lambda v, b: v < b),
            ):
                if bound is not None and not ok(value, bound):
                    doc = f" ({meta['doc']})" if meta.get("doc") else ""
                    raise ConfigError(f"{key}={value} is out of range{doc}: it must be {op} {bound}.")


def _hydra_message(exc: Exception) -> str:
    """One line from a Hydra/OmegaConf error, rephrased for the common cases."""
    import re

    msg = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    m = re.search(r"Could not find '(\w+)/([^']*)'\s+Available options in '\w+':\s+(.*?)\s+Config search path", msg)
    if m:
        return f"{m.group(1)}={m.group(2)!r} is not allowed; choose one of: {', '.join(m.group(3).split())}."
    m = re.search(r"Value '([^']*)' is not a valid bool \(type \w+\)\s+full_key: (\S+)", msg)
    if m:
        return f"{m.group(2)}={m.group(1)!r} is not a valid bool; use true or false."
    m = re.search(r"Could not override '([^']+)'", msg)
    if m:
        return _unknown_key(m.group(1))
    m = re.search(r"Value '([^']*)' of type '(\w+)' could not be converted to (\w+)\s+full_key: (\S+)", msg)
    if m:
        return f"{m.group(4)}={m.group(1)!r} is not a valid {m.group(3).lower()}."
    m = re.search(r"Key '([^']+)' not in '(\w+)'\s+full_key: (\S+)", msg)
    if m:
        return _unknown_key(m.group(3))
    return msg


def _unknown_key(key: str) -> str:
    """The message for an override of a key the composed config does not have: when another option
    of the same group (``engine=mujoco``, ``runner=ray``) has it, say which."""
    group, _, leaf = key.partition(".")
    owners = []
    if leaf and "." not in leaf and group in ("engine", "runner", "render", "output"):
        for f in sorted((conf_dir() / group).glob("*.yaml")):
            if leaf in (OmegaConf.load(f) or {}):
                owners.append(f"{group}={f.stem}")
    if owners:
        return f"{key} applies only with {' or '.join(owners)}; choose {owners[0]} or drop {key}."
    return f"there is no config key {key!r} (check the spelling; `python -m simgen --cfg` prints every key)."


def _check_syntax(overrides: list[str]) -> None:
    """An override Hydra's grammar cannot parse (spaces after a special character, non-ASCII letters,
    parentheses, commas, '=' inside a value) gets one line saying how to quote it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for o in overrides:
        if o.startswith("hydra."):
            continue
        try:
            parser.parse_override(o)
        except HydraException:
            key, _, value = o.partition("=")
            quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
            raise ConfigError(
                f"{key}={value!r} cannot be read as a value: Hydra needs quotes around values with spaces, non-ASCII "
                "letters, parentheses, commas, brackets or '='. Quote it inside the argument, e.g. "
                f"{key}=\"{quoted}\" in a shell."
            ) from None


def compose(overrides: list[str]) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra override strings; raise ConfigError on bad input."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from simgen.scenes_registry import available_scenes, conf_search_path

    _check_syntax(overrides)
    extra = conf_search_path()
    if extra and not any(o.startswith("hydra.searchpath") for o in overrides):
        overrides = [*overrides, "hydra.searchpath=[" + ",".join(f"file://{d}" for d in extra) + "]"]
    for o in overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") == "scene" and value and value not in available_scenes():
            raise ConfigError(
                f"Unknown scene {value!r}. Available scenes: {', '.join(available_scenes())}."
            )
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"Bad configuration override: {_hydra_message(exc)}") from None
    finally:
        GlobalHydra.instance().clear()
    return cfg


def load_config(overrides: list[str] | None = None) -> DictConfig:
    """Compose, resolve and validate the configuration. Returns a resolved, read-only DictConfig."""
    from omegaconf.errors import OmegaConfBaseException

    from simgen.scenes_registry import scene_config

    cfg = compose(list(overrides or []))
    try:
        OmegaConf.resolve(cfg)
        scene_raw = cfg.scene
        OmegaConf.set_struct(cfg, False)
        cfg.scene = {}
        top = OmegaConf.merge(OmegaConf.structured(SimgenConfig), cfg)
        top_obj = OmegaConf.to_object(top)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"Bad configuration value: {_hydra_message(exc)}") from None
    validate(top_obj)
    scene_obj = scene_config(scene_raw)  # validates the scene group against its own schema
    eng, rnd = top_obj.engine, top_obj.render
    ratio = eng.physics_hz / rnd.fps
    if abs(ratio - round(ratio)) > 1e-9:
        raise ConfigError(
            f"engine.physics_hz={eng.physics_hz} is not a whole multiple of render.fps={rnd.fps}; "
            f"frames must fall on physics steps (for fps={rnd.fps:g}, e.g. physics_hz={rnd.fps * round(max(ratio, 1)):g})."
        )
    for key in ("width", "height"):
        v = getattr(rnd, key)
        if v % 2:
            raise ConfigError(
                f"render.{key}={v} is odd: H.264 video (yuv420p) needs an even width and height; "
                f"use render.{key}={v - 1} or {v + 1}."
            )
    from simgen.codecs import check_x264_params

    check_x264_params(rnd.x264_params, rnd.preset)
    if not str(top_obj.out).strip():
        raise ConfigError("out= is empty: give the output folder (e.g. out=datasets/demo) or a URI (s3://bucket/prefix).")
    _check_look(top_obj, scene_obj)
    top.scene = OmegaConf.structured(scene_obj)
    import os

    if "://" not in top.out:  # workers may run elsewhere: pin a local output folder to an absolute path
        top.out = os.path.abspath(os.path.expanduser(top.out))
    if top.render.environment_dir:
        top.render.environment_dir = os.path.abspath(os.path.expanduser(top.render.environment_dir))
    final = OmegaConf.create(OmegaConf.to_container(top, resolve=True))
    OmegaConf.set_readonly(final, True)
    return final


def _check_look(top_obj: SimgenConfig, scene_obj: Any) -> None:
    """Camera and environment settings that need the scene or the file system, checked before any work."""
    from simgen.appearance.environment import check_environment_dir
    from simgen.scenes_registry import scene_module

    top_obj.camera.check()
    if top_obj.camera.motion != "static" and getattr(scene_module(scene_obj.name), "ORTHOGRAPHIC", False):
        raise ConfigError(f"camera.motion={top_obj.camera.motion} does not apply to scene={scene_obj.name}, whose "
                          "orthographic side view is a 2-D measurement; use camera.motion=static.")
    check_environment_dir(top_obj.render.environment_dir, str(getattr(scene_obj, "appearance", "all")))


# Keys that do not change what a sample contains: they may differ between a run and its resume.
_RUN_ONLY_KEYS = ("n", "workers", "out", "overwrite", "runner")


def content_config(cfg: DictConfig) -> dict:
    """The part of the config that determines sample content (everything but run logistics)."""
    d = OmegaConf.to_container(cfg, resolve=True)
    for k in _RUN_ONLY_KEYS:
        d.pop(k, None)
    return d


def config_hash(cfg: DictConfig) -> str:
    blob = json.dumps(content_config(cfg), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
