"""GPU resources of the batched renderer: shader programs, layered render targets and framebuffers.

Render targets are array textures with one layer per frame of a chunk (multisampled ones for the
colour passes). moderngl makes the colour arrays that are read back; the depth and multisampled
arrays, which moderngl does not wrap, are made with raw GL calls (:mod:`simgen.render.context`).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np

from simgen.render import context as C

SHADER_DIR = Path(__file__).resolve().parent / "shaders"
SCRATCH_UNIT = 31  # texture unit for binding while creating textures (passes use units 0-11)
HEADER = "#version 450 core\n#extension GL_ARB_shader_viewport_layer_array : require\n"


@cache
def _source(name: str) -> str:
    return (SHADER_DIR / name).read_text()


def stencil_export(ctx) -> bool:
    """Whether fragment shaders can write the stencil value (``ARB_shader_stencil_export``: Mesa and
    AMD have it, NVIDIA's driver does not). Without it the renderer copies the id pass's object ids
    into the stencil in a few extra passes (the same stencil, the same pixels).
    ``SIMGEN_GL_STENCIL_EXPORT=0`` takes that path on any driver (tests compare the two)."""
    if os.environ.get("SIMGEN_GL_STENCIL_EXPORT", "").strip() == "0":
        return False
    return "GL_ARB_shader_stencil_export" in ctx.extensions


def program(ctx, vertex: str, fragment: str, defines: tuple[str, ...] = ()):
    """Compile ``vertex`` + ``fragment`` (file names under shaders/), each prefixed with the common
    declarations (shaders/common.glsl) and ``#define``s (plus ``STENCIL_EXPORT`` in fragment shaders
    where :func:`stencil_export`)."""
    defs = "".join(f"#define {d}\n" for d in defines)
    common = _source("common.glsl") + "\n#line 1\n"
    export = "#extension GL_ARB_shader_stencil_export : require\n#define STENCIL_EXPORT\n" if stencil_export(ctx) else ""
    return ctx.program(vertex_shader=HEADER + defs + "#define VERTEX\n" + common + _source(vertex),
                       fragment_shader=HEADER + export + defs + "#define FRAGMENT\n" + common + _source(fragment))


def encode_uniforms(values: dict) -> list[tuple[str, bool, object]]:
    """Uniform values as (name, raw, payload): raw bytes to write (matrices column-major, arrays of
    vectors) or a value to assign; encoded once, set on many programs (:func:`apply_uniforms`)."""
    out = []
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            if value.ndim == 2 and value.shape[0] == value.shape[1]:
                out.append((name, True, np.ascontiguousarray(value.T, np.float32).tobytes()))  # column-major
            elif value.dtype.kind in "iu":
                out.append((name, False, tuple(int(v) for v in value.reshape(-1)) if value.size > 1
                            else int(value.reshape(-1)[0])))
            elif value.ndim == 2:  # an array of vectors
                out.append((name, True, np.ascontiguousarray(value, np.float32).tobytes()))
            else:
                out.append((name, False, tuple(float(v) for v in value)))
        else:
            out.append((name, False, value))
    return out


def apply_uniforms(prog, encoded: list[tuple[str, bool, object]]) -> None:
    """Set encoded uniforms on the program, those it uses (the compiler drops unused ones). Each
    program keeps its uniforms' handles and last values (every uniform write goes through here), so
    a uniform is looked up once and written only when its value changes."""
    state = prog.extra
    if state is None:
        state = prog.extra = {}
    for name, raw, payload in encoded:
        slot = state.get(name)
        if slot is None:
            u = prog.get(name, None)
            slot = state[name] = [u, u.array_length * u.dimension * 4 if u is not None else 0, None]
        u = slot[0]
        if u is None:
            continue
        if raw:  # float32 data; an array the compiler shortened (unused tail) takes its head
            payload = payload[:slot[1]]
        last = slot[2]
        if last is not None and last == payload and (raw or repr(last) == repr(payload)):  # repr: -0.0 is not 0.0
            continue
        if raw:
            u.write(payload)
        else:
            u.value = payload
        slot[2] = payload


def set_uniforms(prog, **values) -> None:
    """Set the uniforms the program uses (the compiler drops unused ones; those are skipped)."""
    apply_uniforms(prog, encode_uniforms(values))


class ArrayTarget:
    """A 2-D array texture (``layers`` x ``height`` x ``width``), optionally multisampled, made with raw
    GL: the depth and multisampled targets moderngl cannot make."""

    def __init__(self, gl: C.RawGL, fmt: int, width: int, height: int, layers: int, samples: int = 0,
                 compare: bool = False):
        self.gl, self.fmt = gl, fmt
        self.width, self.height, self.layers, self.samples = width, height, layers, samples
        self.target = C.TEXTURE_2D_MULTISAMPLE_ARRAY if samples else C.TEXTURE_2D_ARRAY
        self.glo = gl.gen_texture()
        gl.ActiveTexture(C.TEXTURE0 + SCRATCH_UNIT)  # leave the units the passes use alone
        gl.BindTexture(self.target, self.glo)
        if samples:
            gl.TexStorage3DMultisample(self.target, samples, fmt, width, height, layers, 1)
        else:
            gl.TexStorage3D(self.target, 1, fmt, width, height, layers)
            filt = C.LINEAR if compare else C.NEAREST
            gl.TexParameteri(self.target, C.TEXTURE_MIN_FILTER, filt)
            gl.TexParameteri(self.target, C.TEXTURE_MAG_FILTER, filt)
            gl.TexParameteri(self.target, C.TEXTURE_WRAP_S, C.CLAMP_TO_EDGE)
            gl.TexParameteri(self.target, C.TEXTURE_WRAP_T, C.CLAMP_TO_EDGE)
            if compare:
                gl.TexParameteri(self.target, C.TEXTURE_COMPARE_MODE, C.COMPARE_REF_TO_TEXTURE)
                gl.TexParameteri(self.target, C.TEXTURE_COMPARE_FUNC, C.LEQUAL)
        gl.BindTexture(self.target, 0)
        gl.check(f"array texture {width}x{height}x{layers} samples={samples}")

    def use(self, unit: int) -> None:
        self.gl.ActiveTexture(C.TEXTURE0 + unit)
        self.gl.BindTexture(self.target, self.glo)

    def release(self) -> None:
        if self.glo:
            self.gl.delete_texture(self.glo)
            self.glo = 0


class Framebuffer:
    """A layered framebuffer over array textures (every attachment has the same layers)."""

    def __init__(self, gl: C.RawGL, colors: list[int], depth: int | None = None, stencil: bool = False):
        """``depth``: a depth texture, or a depth-stencil one (``stencil=True``)."""
        self.gl = gl
        self.glo = gl.gen_framebuffer()
        self.n_colors = len(colors)
        gl.BindFramebuffer(C.FRAMEBUFFER, self.glo)
        for i, tex in enumerate(colors):
            gl.FramebufferTexture(C.FRAMEBUFFER, C.COLOR_ATTACHMENT0 + i, tex, 0)
        if depth is not None:
            gl.FramebufferTexture(C.FRAMEBUFFER, C.DEPTH_STENCIL_ATTACHMENT if stencil else C.DEPTH_ATTACHMENT, depth, 0)
        gl.draw_buffers(len(colors))
        status = gl.CheckFramebufferStatus(C.FRAMEBUFFER)
        gl.BindFramebuffer(C.FRAMEBUFFER, 0)
        if status != C.FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"incomplete framebuffer (status 0x{status:04x})")

    def use(self, width: int, height: int) -> None:
        self.gl.BindFramebuffer(C.FRAMEBUFFER, self.glo)
        self.gl.Viewport(0, 0, width, height)

    def release(self) -> None:
        if self.glo:
            self.gl.delete_framebuffer(self.glo)
            self.glo = 0


def copy_layers(gl: C.RawGL, src: int, dst: int, n: int, width: int, height: int, per_layer: bool) -> None:
    """Fill layers 0..n-1 of array texture ``dst`` from ``src`` (same format; plain memory copies):
    layer i from layer i (``per_layer``), else every layer from layer 0, doubling the copied block
    (1 + log2(n) calls)."""
    A = C.TEXTURE_2D_ARRAY
    if per_layer:
        gl.CopyImageSubData(src, A, 0, 0, 0, 0, dst, A, 0, 0, 0, 0, width, height, n)
        return
    gl.CopyImageSubData(src, A, 0, 0, 0, 0, dst, A, 0, 0, 0, 0, width, height, 1)
    k = 1
    while k < n:
        c = min(k, n - k)
        gl.CopyImageSubData(dst, A, 0, 0, 0, 0, dst, A, 0, 0, 0, k, width, height, c)
        k += c


def _halve(a: np.ndarray) -> np.ndarray:
    """2x2 sums of an [h, w] array (odd tails dropped; a side of 1 counts twice)."""
    a = a[0: a.shape[0] // 2 * 2: 2] + a[1::2][: a.shape[0] // 2] if a.shape[0] > 1 else a * 2
    return a[:, 0: a.shape[1] // 2 * 2: 2] + a[:, 1::2][:, : a.shape[1] // 2] if a.shape[1] > 1 else a * 2


def mip_levels(image: np.ndarray) -> list[np.ndarray]:
    """Mip levels 1.. of a uint8 [h, w, c] image: 2x2 box filter, rounded half up (integer arithmetic,
    so the same on every machine; Mesa's glGenerateMipmap gave levels that differed by one grey level
    from process to process). Four channels are filtered two at a time, as 16-bit lanes of 32-bit
    words (the sum of four bytes fits; a third of the work of one uint16 per channel)."""
    levels = []
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4:
        x = np.ascontiguousarray(image).view(np.uint32)[..., 0]
        lanes = [x & 0x00FF00FF, (x >> 8) & 0x00FF00FF]  # channels 0 and 2, 1 and 3
        while lanes[0].shape[0] > 1 or lanes[0].shape[1] > 1:
            lanes = [((_halve(a) + 0x00020002) >> 2) & 0x00FF00FF for a in lanes]
            levels.append((lanes[0] | (lanes[1] << 8)).view(np.uint8).reshape(*lanes[0].shape, 4))
        return levels
    cur = np.asarray(image, np.uint16)
    while cur.shape[0] > 1 or cur.shape[1] > 1:
        if cur.shape[0] > 1:
            cur = cur[: cur.shape[0] // 2 * 2]
            cur = cur[0::2] + cur[1::2]
        else:
            cur = cur * 2
        if cur.shape[1] > 1:
            cur = cur[:, : cur.shape[1] // 2 * 2]
            cur = cur[:, 0::2] + cur[:, 1::2]
        else:
            cur = cur * 2
        cur = (cur + 2) >> 2
        levels.append(cur.astype(np.uint8))
    return levels


def mipmapped_texture(ctx, gl: C.RawGL, image: np.ndarray, repeat: bool = True, anisotropy: float = 1.0,
                      components: int = 4, flip: bool = False):
    """An RGB texture with its mip levels computed by :func:`mip_levels`. Row 0 of ``image`` is
    texture row 0 (t = 0), or its last row with ``flip`` (as pyrender uploads images)."""
    import moderngl

    rgb = np.asarray(image, np.uint8)[..., :3]
    if flip:
        rgb = rgb[::-1]
    h, w = rgb.shape[:2]
    img = np.empty((h, w, components), np.uint8)  # RGBA: llvmpipe samples 3-byte texels slowly
    if components == 4:  # each texel's 3 bytes copied as one item: ~half the time of a per-channel copy
        img.view([("rgb", "V3"), ("a", "u1")])["rgb"][..., 0] = rgb.view("V3")[..., 0]
    else:
        img[..., :3] = rgb
    img[..., 3:] = 255
    tex = ctx.texture((w, h), components, img, alignment=1)
    # levels 1.. defined from our own images (not glGenerateMipmap, which would also cost a pass)
    gl.ActiveTexture(C.TEXTURE0 + SCRATCH_UNIT)
    gl.BindTexture(C.TEXTURE_2D, tex.glo)
    fmt = {3: C.RGB, 4: C.RGBA}[components]
    for level, data in enumerate(mip_levels(img), start=1):
        data = np.ascontiguousarray(data)
        gl.TexImage2D(C.TEXTURE_2D, level, {3: 0x8051, 4: C.RGBA8}[components], data.shape[1], data.shape[0], 0,
                      fmt, C.UNSIGNED_BYTE, data.ctypes.data)
    gl.BindTexture(C.TEXTURE_2D, 0)
    tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
    tex.repeat_x = tex.repeat_y = repeat
    if anisotropy > 1.0:
        tex.anisotropy = anisotropy
    return tex
