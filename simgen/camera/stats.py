"""How well a configuration frames its objects, measured on rendered masks: the share of
object-frames that show no pixel of the object, and the heights of the objects' mask boxes.

Used by ``benchmarks/bench_framing.py`` (the README's figures) and ``tests/test_framing.py``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FramingStats:
    videos: int
    object_frames: int
    empty: int  # object-frames with no visible pixel (out of view or hidden)
    heights: np.ndarray  # mask box heights (px) of the visible object-frames, scaled to a 256-px frame

    @property
    def empty_share(self) -> float:
        return self.empty / max(self.object_frames, 1)

    def percentiles(self, q=(10, 50, 90)) -> np.ndarray:
        return np.percentile(self.heights, q) if len(self.heights) else np.full(len(q), np.nan)


def measure_framing(overrides: list[str], n: int, start: int = 0) -> FramingStats:
    """Generate samples ``start .. start + n - 1`` of the config given by ``overrides`` (rendering
    masks only; no encoding) and count empty object-frames and box heights."""
    from simgen.config import load_config
    from simgen.generate import Pipeline, mask_stats

    cfg = load_config(list(overrides))
    pipe = Pipeline(cfg)
    empty = total = 0
    heights = []
    try:
        for i in range(start, start + n):
            spec, traj, _ = pipe.simulate(i)
            frames = pipe.renderer.render(spec, traj, masks=True, depth=False)
            counts, boxes = mask_stats(frames.masks, len(spec.objects))
            empty += int((counts == 0).sum())
            total += counts.size
            seen = counts > 0
            heights.append((boxes[..., 3] - boxes[..., 1] + 1)[seen] * (256.0 / spec.camera.height))
    finally:
        pipe.close()
    return FramingStats(n, total, empty, np.concatenate(heights) if heights else np.zeros(0))
