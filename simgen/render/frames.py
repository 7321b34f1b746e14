"""What a renderer returns for one video."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Frames:
    rgb: np.ndarray  # uint8 [T, H, W, 3]
    masks: np.ndarray | None  # uint8 [T, H, W]; 0 background/static, k = object k
    depth: np.ndarray | None  # float32 (or float16) [T, H, W]; metres along the optical axis, 0 = no surface
    unoccluded: np.ndarray | None = None  # int32 [T, N]; in-image pixels each object would cover alone
    flow: np.ndarray | None = None  # float16 [T, H, W, 2]; forward flow t -> t+1 in pixels (dx right, dy down)
    yuv420: np.ndarray | None = None  # uint8 [T, H * 3 // 2, W]: the video as I420 planes (BT.601 limited range)
