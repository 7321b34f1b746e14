"""The camera of a sample after simulation: framing (:mod:`~simgen.camera.framing`) from the known
trajectory, camera motion (:mod:`~simgen.camera.motion`) and the geometry both use
(:mod:`~simgen.camera.fit`). Configured by the ``camera`` group (``conf/camera/default.yaml``)."""

from __future__ import annotations


def frame_camera(spec, traj, camera_cfg, seed: int) -> None:
    """Frame ``spec.camera`` for ``traj`` under ``camera_cfg``, drawing from the camera stream of the
    per-sample ``seed`` (see :func:`simgen.camera.framing.frame_scene`)."""
    from simgen.camera.framing import frame_scene
    from simgen.scenes_registry import CAMERA_STREAM, stream_rng

    frame_scene(spec, traj, camera_cfg, stream_rng(seed, CAMERA_STREAM))
