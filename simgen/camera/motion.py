"""Camera motion over a clip (``camera.motion=orbit|dolly|pan``), each as a pose per frame built
from a base pose (rotation ``R0``, eye ``e0``: the pose at the middle of the motion).

For framing, every motion is also an equivalent *static* problem: :meth:`Motion.relative` moves the
points of frame t so that, seen from the base pose, they sit where the moving camera sees them at t.
A static fit of those points (:func:`simgen.camera.fit.fit_eye`) then keeps every object in view in
every frame of the moving camera, exactly for orbit and dolly; pan turns about the eye itself, so
its fit is iterated (the framing module checks the result and backs off if needed).

- orbit: the camera circles a vertical axis through ``pivot`` by ``angles[t]`` (radians, about +z);
- dolly: the camera moves along its optical axis by ``offsets[t]`` metres (positive: forward);
- pan: the camera turns about the vertical axis through its eye by ``angles[t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simgen.camera.fit import pose


def rot_z(angles: np.ndarray) -> np.ndarray:
    """Rotations about +z, [T, 3, 3]."""
    c, s = np.cos(angles), np.sin(angles)
    out = np.zeros(np.shape(angles) + (3, 3))
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1], out[..., 2, 2] = c, -s, s, c, 1.0
    return out


def ramp(frames: int, total: float) -> np.ndarray:
    """``total`` spread linearly over the clip, centred: from -total/2 at the first frame to +total/2."""
    return total * (np.arange(frames) / max(frames - 1, 1) - 0.5)


@dataclass
class Motion:
    kind: str  # orbit | dolly | pan
    values: np.ndarray  # [T] angles (radians) or offsets (metres)
    pivot: np.ndarray | None = None  # orbit: a point on the vertical axis

    def relative(self, points: np.ndarray, rotation: np.ndarray, eye: np.ndarray) -> np.ndarray:
        """Points [T, K, 3] of each frame moved into the base pose's view (see the module docstring)."""
        p = np.asarray(points, np.float64)
        if self.kind == "dolly":
            return p - self.values[:, None, None] * rotation[:, 2][None, None, :]
        centre = self.pivot if self.kind == "orbit" else np.asarray(eye, np.float64)
        back = rot_z(-self.values)  # [T, 3, 3]
        return centre + np.einsum("tij,tkj->tki", back, p - centre)

    def poses(self, rotation: np.ndarray, eye: np.ndarray) -> np.ndarray:
        """cam_to_world [T, 4, 4] of the moving camera with base ``rotation`` and ``eye``."""
        T = len(self.values)
        if self.kind == "dolly":
            return pose(np.repeat(rotation[None], T, axis=0), eye[None] + self.values[:, None] * rotation[:, 2][None])
        turn = rot_z(self.values)
        rots = turn @ rotation
        if self.kind == "pan":
            return pose(rots, np.repeat(np.asarray(eye, np.float64)[None], T, axis=0))
        return pose(rots, self.pivot + np.einsum("tij,j->ti", turn, eye - self.pivot))
