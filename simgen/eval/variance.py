"""Physical variance: a second take of every GT sample, re-simulated with a tiny perturbation.

Like Physics-IQ's two real takes of each scenario, this is the score a perfect simulator gets when the
world is not exactly repeatable: rigid bodies with several contacts are chaotic, so a 1 mm change of a
start position can change where things end up. The take is:

1. the sample's SceneSpec rebuilt from its shard's config and ``index`` (:func:`simgen.eval.plate.scene_from_row`,
   with the GT camera);
2. every object's start position moved by **1 mm** in a horizontal direction drawn from
   ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(VARIANCE_KEY,)))`` (``seed`` = the row's per-sample
   seed), so the take is deterministic;
3. simulated by the dataset's engine with its config (``simgen.generate.Pipeline``), rendered with the
   dataset's renderer and encoded with its H.264 settings, then decoded.

It is scored exactly like a prediction (same fps and size as the GT).
"""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from simgen.codecs import decode_video, encode_video
from simgen.eval.plate import Renderers, render_rgb, scene_from_row

PERTURBATION_M = 1e-3
VARIANCE_KEY = 0x5A41  # spawn key of the perturbation's generator


def perturbation(seed: int, n: int) -> np.ndarray:
    """Offsets [n, 3] (metres): PERTURBATION_M in a random horizontal direction per object."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(VARIANCE_KEY,)))
    ang = rng.uniform(0.0, 2.0 * np.pi, n)
    return PERTURBATION_M * np.stack([np.cos(ang), np.sin(ang), np.zeros(n)], axis=1)


class VarianceTakes:
    """Makes second takes; keeps one engine per config (via simgen's generation Pipeline)."""

    def __init__(self, renderers: Renderers):
        self.renderers = renderers
        self._pipes: dict[str, object] = {}

    def _pipeline(self, cfg: DictConfig):
        from simgen.generate import Pipeline

        key = repr(cfg)
        p = self._pipes.get(key)
        if p is None:
            p = self._pipes[key] = Pipeline(cfg, render=False)
        return p

    def take(self, cfg: DictConfig, row: dict) -> np.ndarray:
        """uint8 [T, H, W, 3]: the perturbed take, H.264-encoded and decoded like the GT video."""
        spec = scene_from_row(cfg, row)
        for obj, off in zip(spec.objects, perturbation(row["seed"], len(spec.objects))):
            obj.position = np.asarray(obj.position, np.float64) + off
        traj = self._pipeline(cfg).engine.simulate(spec)
        rgb = render_rgb(self.renderers.get(cfg.render), spec, traj)
        return decode_video(encode_video(rgb, spec.fps, crf=cfg.render.crf, preset=cfg.render.preset, x264_params=cfg.render.x264_params))

    def close(self) -> None:
        for p in self._pipes.values():
            p.close()
        self._pipes.clear()
