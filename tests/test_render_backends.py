"""The batched renderer (render.backend=gl) against the pyrender reference, on every scene family.

Both backends draw the same meshes with the same vertex arithmetic, so masks and unoccluded
silhouettes must be identical pixel for pixel; depth agrees to the reference's 24-bit depth buffer;
colour (shadows off, default materials) agrees where the two shade alike.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from simgen.scenes.common import look_at

from simgen.config import load_config
from simgen.generate import Pipeline
from simgen.render.batched import BatchedRenderer
from simgen.render.pyrender_renderer import Renderer
from simgen.spec import MaterialSpec

W, H, T = 96, 96, 10
FAMILIES = ["freefall", "bounce", "collide", "throw_horizontal", "throw_parabolic", "ramp_down", "ramp_up",
            "uniform_motion", "parabola", "two_ball_collision"]


@pytest.fixture(scope="module")
def gl():
    r = BatchedRenderer(W, H, depth_dtype="float32", shadows=False)
    yield r
    r.close()


@pytest.fixture(scope="module")
def ref():
    r = Renderer(W, H)
    yield r
    r.close()


def _scenes(family: str, n: int, size=(W, H), frames=T, seed=11):
    cfg = load_config([f"scene={family}", f"seed={seed}", f"render.width={size[0]}", f"render.height={size[1]}",
                       f"render.frames={frames}"])
    pipe = Pipeline(cfg, render=False)
    out = [pipe.simulate(i)[:2] for i in range(n)]
    pipe.close()
    return out


def _block_means(img: np.ndarray, b: int = 16) -> np.ndarray:
    h, w = img.shape[0] // b * b, img.shape[1] // b * b
    return img[:h, :w].reshape(h // b, b, w // b, b, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("family", FAMILIES)
def test_masks_identical_to_the_pyrender_reference(family, gl, ref):
    for spec, traj in _scenes(family, 4):
        # the looks both backends draw alike (the reference approximates the others): plain colours
        # (it draws patterns per vertex, coarsely), a flat backdrop and a uniform ambient light
        for o in spec.objects:
            o.material = MaterialSpec(pattern="plain")
        spec.environment = None
        a = gl.render(spec, traj, silhouettes=True)
        b = ref.render(spec, traj, silhouettes=True)
        np.testing.assert_array_equal(a.masks, b.masks, err_msg=family)
        np.testing.assert_array_equal(a.unoccluded, b.unoccluded, err_msg=family)
        # depth: exact metric depth from the shader vs the reference's linearised 24-bit buffer
        surf = b.depth > 0
        np.testing.assert_array_equal(a.depth > 0, surf)
        rel = np.abs(a.depth[surf] - b.depth[surf]) / b.depth[surf]
        assert rel.max() < 2e-3, (family, rel.max())
        # colour: each object's mean over its inner pixels below the tone curve's knee (the reference
        # clips brighter values, the batched renderer compresses them), the background's block means
        m = np.asarray(a.masks)
        ca, cb = np.asarray(a.rgb, np.float64), np.asarray(b.rgb, np.float64)
        inner = (m > 0) & (np.roll(m, 1, 1) == m) & (np.roll(m, -1, 1) == m) & (np.roll(m, 1, 2) == m) & (np.roll(m, -1, 2) == m)
        inner &= cb.max(axis=-1) < 200
        for k in range(len(spec.objects)):
            sel = inner & (m == k + 1)
            if sel.sum() > 20:
                assert np.abs(ca[sel].mean(axis=0) - cb[sel].mean(axis=0)).max() < 8, (family, k)
        for t in (0, T - 1):
            ma, mb = _block_means(ca[t]), _block_means(cb[t])
            below = mb.max(axis=-1) < 190  # below the knee
            if below.any():
                assert np.abs(ma - mb)[below].max() < 20, family


def test_background_plate_of_a_scene_without_objects(gl, ref):
    """The evaluator renders a scene's static part alone: objects=[] and a trajectory of N=0."""
    spec, traj = _scenes("ramp_down", 1)[0]
    plate_spec = copy.copy(spec)
    plate_spec.objects = []
    plate = copy.copy(traj)
    for k in ("positions", "linear_velocity", "angular_velocity"):
        setattr(plate, k, np.zeros((T, 0, 3)))
    plate.quaternions = np.zeros((T, 0, 4))
    plate.mass = plate.friction = plate.restitution = np.zeros(0)
    shadowed = BatchedRenderer(W, H, depth_dtype="float32")
    try:
        for r in (gl, ref, shadowed):
            f = r.render(plate_spec, plate, silhouettes=True)
            assert f.rgb.shape == (T, H, W, 3) and f.unoccluded.shape == (T, 0)
            assert not f.masks.any()
            assert np.array_equal(f.rgb[0], f.rgb[-1])  # a static camera: every frame the same
        full = shadowed.render(spec, traj)
        bg = shadowed.render(plate_spec, plate)
        # where no object is (nor next to one: anti-aliased edges), a frame is its plate, darkened
        # where shadows and occlusion fall, and nowhere brighter; depth is the plate's
        m = np.asarray(full.masks) > 0
        near = m | np.roll(m, 1, 1) | np.roll(m, -1, 1) | np.roll(m, 1, 2) | np.roll(m, -1, 2)
        a, b = np.asarray(full.rgb, np.int16)[~near], np.asarray(bg.rgb, np.int16)[~near]
        assert (a <= b).all()
        changed = (a != b).any(axis=-1).mean()
        assert 0.0 < changed < 0.2, changed
        np.testing.assert_array_equal(full.depth[~near], bg.depth[~near])
    finally:
        shadowed.close()


def test_chunks_of_frames_give_the_same_video(gl, monkeypatch):
    """Long or large videos are drawn in chunks of frames (the 16384-px and memory limits): the
    output does not depend on the chunking."""
    from simgen.render import batched

    (spec, traj), = _scenes("collide", 1, frames=13)
    r = BatchedRenderer(W, H, depth_dtype="float32", flow=True)
    try:
        whole = r.render(spec, traj, silhouettes=True)
        monkeypatch.setattr(batched, "CHUNK_PIXELS", W * H * 4)  # chunks of 4, 4, 4 and 1 frames
        parts = r.render(spec, traj, silhouettes=True)
    finally:
        r.close()
    for key in ("rgb", "yuv420", "masks", "depth", "unoccluded", "flow"):
        np.testing.assert_array_equal(getattr(whole, key), getattr(parts, key), err_msg=key)


def test_wide_video_and_moving_camera_masks_identical(ref):
    """A non-square size (the 832x480 aspect) and a camera on a trajectory: still identical masks."""
    w, h = 208, 120
    (spec, traj), = _scenes("freefall", 1, size=(w, h), frames=6, seed=5)
    c2w = spec.camera.cam_to_world
    eye, target = c2w[:3, 3], c2w[:3, 3] + 3.0 * c2w[:3, 2]
    path = []
    for t in range(6):
        a = 0.05 * t
        rot = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        path.append(look_at(target + rot @ (eye - target) + [0.0, 0.0, 0.02 * t], target))
    spec.camera.trajectory = np.stack(path)
    gl_wide = BatchedRenderer(w, h, depth_dtype="float32")
    ref_wide = Renderer(w, h)
    try:
        a = gl_wide.render(spec, traj, silhouettes=True)
        b = ref_wide.render(spec, traj, silhouettes=True)
    finally:
        gl_wide.close()
        ref_wide.close()
    assert (a.masks > 0).sum() > 100
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_array_equal(a.unoccluded, b.unoccluded)
    assert not np.array_equal(a.rgb[0], a.rgb[-1])  # the background moved with the camera


def test_yuv_planes_match_the_rgb_frames():
    """The I420 planes the encoder takes are the BT.601 limited-range conversion of the RGB frames,
    also where the chroma planes do not fill whole rows (H / 2 and W / 2 odd); the encoded video
    decodes to the frames."""
    from simgen.codecs import decode_video, encode_video

    w, h = 98, 94
    (spec, traj), = _scenes("bounce", 1, size=(w, h))
    r = BatchedRenderer(w, h, depth_dtype="float32")
    try:
        f = r.render(spec, traj)
    finally:
        r.close()
    rgb = np.asarray(f.rgb, np.float64) / 255.0
    y = 16 + 219 * (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])
    flat = f.yuv420.reshape(T, -1).astype(np.float64)
    n, q = w * h, w * h // 4
    assert np.abs(flat[:, :n].reshape(T, h, w) - y).max() <= 1.0
    blocks = rgb.reshape(T, h // 2, 2, w // 2, 2, 3).mean(axis=(2, 4))
    u = 128 + 224 * (-0.168736 * blocks[..., 0] - 0.331264 * blocks[..., 1] + 0.5 * blocks[..., 2])
    v = 128 + 224 * (0.5 * blocks[..., 0] - 0.418688 * blocks[..., 1] - 0.081312 * blocks[..., 2])
    assert np.abs(flat[:, n:n + q].reshape(T, h // 2, w // 2) - u).max() <= 1.0
    assert np.abs(flat[:, n + q:].reshape(T, h // 2, w // 2) - v).max() <= 1.0
    # encoded from the planes or from RGB (swscale's conversion): the same video, up to rounding
    from_planes = decode_video(encode_video(None, spec.fps, crf=10, yuv420=f.yuv420)).astype(np.float64)
    from_rgb = decode_video(encode_video(f.rgb, spec.fps, crf=10)).astype(np.float64)
    assert from_planes.shape == f.rgb.shape
    assert np.abs(from_planes - from_rgb).mean() < 1.5
    assert np.abs(from_planes - f.rgb).mean() <= np.abs(from_rgb - f.rgb).mean() + 0.5
