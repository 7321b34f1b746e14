"""Video cells -> files, without re-encoding where the frames allow it (PyAV).

* :func:`remux` copies the H.264 stream of a cell into a new MP4 packet for packet (``av`` stream
  copy): the decoded frames are the dataset's, bit for bit, at no encoding cost.
* ``frames=n`` keeps the first ``n`` frames. The stream is copied without the packets of the later
  frames; x264's B-frames may refer to a later frame, so the copy is decoded and compared with the
  dataset's first ``n`` frames, and where it differs the ``n`` decoded frames are re-encoded
  **losslessly** (x264 ``qp=0``, same yuv420p samples: the decoded frames are still the dataset's
  exactly; the file is larger and uses H.264's High 4:4:4 Predictive profile).
* :func:`first_frame_png` and :func:`jpeg_frames` give still images of the decoded frames.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Iterator

import numpy as np

from simgen.codecs import decode_video
from simgen.errors import UserError

COPY = "copy"  # stream copied whole
TRIM_COPY = "trim-copy"  # stream copied without the packets of the dropped frames
TRIM_LOSSLESS = "trim-lossless"  # first n frames re-encoded losslessly


def largest_4k1(n: int) -> int:
    """The largest count of the form 4k + 1 that is <= n (the frame counts Wan/HunyuanVideo take)."""
    if n < 1:
        raise ValueError(n)
    return 4 * ((n - 1) // 4) + 1


def _open(data: bytes):
    import av

    try:
        return av.open(io.BytesIO(data), mode="r")
    except av.error.FFmpegError as exc:
        raise UserError(f"cannot read a video cell: {exc}") from None


def _copy(data: bytes, frames: int | None) -> bytes:
    import av

    with _open(data) as src:
        ist = src.streams.video[0]
        packets = [p for p in src.demux(ist) if p.dts is not None]
        if frames is not None:
            order = sorted(p.pts for p in packets)
            if frames < len(order):
                cut = order[frames]
                packets = [p for p in packets if p.pts < cut]
        buf = io.BytesIO()
        with av.open(buf, mode="w", format="mp4") as dst:
            ost = dst.add_stream_from_template(ist)
            for p in packets:
                p.stream = ost
                dst.mux(p)
    return buf.getvalue()


def _lossless(data: bytes, frames: int) -> bytes:
    """The first ``frames`` decoded frames (their yuv420p samples, untouched) as lossless H.264."""
    import av

    with _open(data) as src:
        ist = src.streams.video[0]
        rate = ist.average_rate or Fraction(16)
        buf = io.BytesIO()
        with av.open(buf, mode="w", format="mp4") as dst:
            ost = dst.add_stream("libx264", rate=rate)
            ost.width, ost.height, ost.pix_fmt = ist.codec_context.width, ist.codec_context.height, "yuv420p"
            ost.codec_context.thread_count = 1
            ost.options = {"qp": "0", "preset": "veryfast", "threads": "1"}
            for i, frame in enumerate(src.decode(ist)):
                if i >= frames:
                    break
                frame.pts, frame.time_base = i, 1 / Fraction(rate)
                for p in ost.encode(frame):
                    dst.mux(p)
            for p in ost.encode():
                dst.mux(p)
    return buf.getvalue()


def remux(data: bytes, frames: int | None = None) -> tuple[bytes, str]:
    """An MP4 file of the cell's first ``frames`` frames (all when None) and how it was made
    (:data:`COPY`, :data:`TRIM_COPY` or :data:`TRIM_LOSSLESS`). The result decodes to exactly the
    dataset's frames."""
    total = stream_frames(data)
    if frames is None or frames >= total:
        return _copy(data, None), COPY
    if frames < 1:
        raise ValueError(frames)
    want = decode_video(data)[:frames]
    out = _copy(data, frames)
    try:
        got = decode_video(out)
    except UserError:
        got = None
    if got is not None and got.shape == want.shape and np.array_equal(got, want):
        return out, TRIM_COPY
    out = _lossless(data, frames)
    if not np.array_equal(decode_video(out), want):  # pragma: no cover - an FFmpeg build that is not lossless
        raise RuntimeError("lossless re-encoding did not reproduce the frames")
    return out, TRIM_LOSSLESS


def stream_frames(data: bytes) -> int:
    """Frames in the cell's video stream (counted from its packets, nothing decoded)."""
    with _open(data) as src:
        ist = src.streams.video[0]
        return sum(1 for p in src.demux(ist) if p.dts is not None)


def decoded_frames(data: bytes) -> Iterator[np.ndarray]:
    """uint8 [H, W, 3] RGB frames, one at a time (as :func:`simgen.codecs.decode_video` converts them)."""
    with _open(data) as src:
        for frame in src.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def _image(rgb: np.ndarray, fmt: str, **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **kw)
    return buf.getvalue()


def png(rgb: np.ndarray) -> bytes:
    return _image(rgb, "PNG")


def jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    # 4:4:4 chroma: no subsampling on top of the video's own
    return _image(rgb, "JPEG", quality=quality, subsampling=0)


def first_frame_png(data: bytes) -> bytes:
    """Frame 0, decoded, as a PNG (lossless: the dataset's first frame exactly)."""
    frames = decoded_frames(data)
    try:
        return png(next(frames))
    finally:
        frames.close()
