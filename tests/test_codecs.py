"""The H.264 encoder settings: the default (x264 ultrafast with B-frames and CABAC) keeps every frame,
the quality of veryfast at the same crf, and reproducible bytes; user x264 options cannot switch
the reproducibility fix off."""

from __future__ import annotations

import numpy as np

from simgen.codecs import X264_PARAMS, _x264_params, decode_video, encode_video, psnr


def _clip(T: int = 24, H: int = 96, W: int = 128) -> np.ndarray:
    """A textured floor with a shaded ball falling and bouncing across it (footage-like content)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    base = 120 + 40 * np.sin(xx / 7.0) * np.cos(yy / 11.0) + rng.normal(0, 4, (H, W))
    frames = np.empty((T, H, W, 3), np.uint8)
    for t in range(T):
        cx, cy = 10 + 4.0 * t, H - 20 - abs(60 * np.cos(t / 5.0))
        r2 = (xx - cx) ** 2 + (yy - cy) ** 2
        img = np.stack([base, base * 0.9, base * 0.8], axis=-1)
        ball = r2 < 14 ** 2
        shade = 1.0 - np.sqrt(np.clip(r2, 0, 196)) / 28.0
        img[ball] = np.stack([230 * shade, 60 * shade, 40 * shade], axis=-1)[ball]
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def test_default_encoding_keeps_every_frame_and_veryfasts_quality():
    clip = _clip()
    fast = encode_video(clip, 16.0)
    ref = encode_video(clip, 16.0, preset="veryfast", x264_params="")
    out = decode_video(fast)
    assert out.shape == clip.shape  # B-frames reordered back: every frame, in order
    assert psnr(out, clip) >= psnr(decode_video(ref), clip) - 0.3
    assert encode_video(clip, 16.0) == fast  # the same frames give the same bytes


def test_user_options_cannot_switch_mbtree_back_on():
    assert _x264_params("mbtree=1:bframes=2").endswith(":mbtree=0")
    assert _x264_params("") == "mbtree=0"
    assert _x264_params(X264_PARAMS) == X264_PARAMS + ":mbtree=0"
