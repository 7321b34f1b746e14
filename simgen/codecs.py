"""Array <-> bytes for the shard columns: H.264 MP4 video (PyAV), raw little-endian arrays for masks
and depth (Parquet's zstd page compression makes them small; masks are lossless, depth is float16 or
float32 as configured)."""

from __future__ import annotations

import io

import re

import numpy as np

from simgen.errors import ConfigError, UserError

# x264's ultrafast preset with B-frames and CABAC back: on the default 256x256x32 videos about 2.2x
# cheaper in CPU than veryfast for about 1.4x the bytes at the same crf, and no lower PSNR
# (benchmarks/bench_encode.py measures it)
PRESET = "ultrafast"
X264_PARAMS = "bframes=3:b-adapt=0:cabac=1"
_PARAM = re.compile(r"^[A-Za-z0-9_-]+=[A-Za-z0-9_.,/+-]+$")


def _x264_params(extra: str) -> str:
    # mbtree last: x264's macroblock-tree rate control made ~1 in 4 encodes of identical YUV frames
    # differ between processes (alignment-dependent float sums); without it the bytes are
    # reproducible, whatever the user's options say
    return ":".join([p for p in str(extra or "").split(":") if p] + ["mbtree=0"])


def check_x264_params(params: str, preset: str = PRESET) -> None:
    """Raise ConfigError unless ``params`` is a ``key=value:key=value`` list that libx264 accepts
    (checked by opening an encoder on a 16x16 frame)."""
    items = [p for p in str(params or "").split(":") if p]
    bad = [p for p in items if not _PARAM.match(p)]
    if bad:
        raise ConfigError(f"render.x264_params={params!r}: {bad[0]!r} is not key=value; give x264 options as "
                          f"key=value pairs joined by ':' (e.g. bframes=3:cabac=1), or '' for the preset alone.")
    if not items:
        return
    import av.logging

    level = av.logging.get_level()
    av.logging.set_level(av.logging.WARNING)  # libx264 only warns about an option it cannot parse
    try:
        with av.logging.Capture() as logs:
            encode_video(np.zeros((2, 16, 16, 3), np.uint8), 16, preset=preset, x264_params=params)
    finally:
        av.logging.set_level(level)
    errors = [msg.strip() for _, _, msg in logs if "rror" in msg]
    if errors:
        raise ConfigError(f"render.x264_params={params!r} is not accepted by libx264 ({errors[0]}); give options "
                          f"x264 knows (see `x264 --fullhelp`), e.g. bframes=3:cabac=1, or '' for the preset alone.")


def encode_video(frames: np.ndarray | None, fps: float, crf: int = 18, preset: str = PRESET,
                 yuv420: np.ndarray | None = None, x264_params: str = X264_PARAMS) -> bytes:
    """uint8 [T, H, W, 3] RGB -> H.264 (yuv420p, BT.601 limited range) in an MP4 container.

    ``yuv420`` (uint8 [T, H * 3 // 2, W], I420 planes as the batched renderer writes them) is
    encoded as is, instead of ``frames``: no RGB->YUV conversion here (it cost about as much as the
    encoding itself: swscale's RGB path is not vectorised for this case).

    Deterministic: the same frames give the same bytes, in any process (one encoder thread and
    x264's mbtree off; see tests/test_determinism_resume.py)."""
    import av
    from fractions import Fraction

    if yuv420 is not None:
        T, H3, W = yuv420.shape
        H = H3 * 2 // 3
    else:
        T, H, W, _ = frames.shape
    if H % 2 or W % 2:
        raise ValueError(f"H.264 with yuv420p needs even width and height, got {W}x{H}")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"crf": str(int(crf)), "preset": preset, "threads": "1",
                          "x264-params": _x264_params(x264_params)}
        for t in range(T):
            if yuv420 is not None:
                frame = _i420_frame(av, yuv420[t], W, H)
            else:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[t]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def _i420_frame(av, planes: np.ndarray, W: int, H: int):
    """A yuv420p VideoFrame filled from I420 planes [H * 3 // 2, W] with one array copy per plane
    (VideoFrame.from_ndarray copies row by row: ~8 ms per 256x256x32 video)."""
    frame = av.VideoFrame(W, H, "yuv420p")
    flat = planes.reshape(-1)
    q = H * W // 4
    for plane, data, (h, w) in zip(frame.planes, (flat[:H * W], flat[H * W:H * W + q], flat[H * W + q:]),
                                   ((H, W), (H // 2, W // 2), (H // 2, W // 2))):
        np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w] = data.reshape(h, w)
    return frame


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images or videos of one shape (inf when equal):
    how close a decoded video is to the frames it was encoded from."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def decode_video(data: bytes, frames: slice | None = None) -> np.ndarray:
    """MP4 bytes -> uint8 [T, H, W, 3] RGB."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            out = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except av.error.FFmpegError as exc:
        raise UserError(f"cannot decode a video cell: {exc}") from None
    arr = np.stack(out) if out else np.zeros((0, 0, 0, 3), np.uint8)
    return arr[frames] if frames is not None else arr


def pack(arr: np.ndarray, dtype) -> bytes:
    """``arr`` as little-endian ``dtype`` in C order, as bytes (one copy: ``tobytes`` gathers a
    strided array itself)."""
    return np.asarray(arr, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def unpack(data: bytes, dtype, shape) -> np.ndarray:
    return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
