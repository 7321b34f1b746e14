"""The OpenGL context of the batched renderer: moderngl over EGL (headless), plus the few raw GL
entry points moderngl does not wrap (layered depth and multisample array textures, framebuffers
over them, image copies and texture clears).

Device selection: ``EGL_DEVICE_ID=<n>`` picks the n-th EGL device (the same variable pyrender
reads); without it the first device is used — the GPU on a machine with an EGL-capable driver,
Mesa's llvmpipe (CPU) otherwise. Nothing here assumes a CPU rasteriser.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

# GL enums used by the raw calls (values from the OpenGL registry)
TEXTURE_2D = 0x0DE1
TEXTURE_2D_ARRAY = 0x8C1A
TEXTURE_2D_MULTISAMPLE_ARRAY = 0x9102
FRAMEBUFFER = 0x8D40
READ_FRAMEBUFFER = 0x8CA8
DRAW_FRAMEBUFFER = 0x8CA9
COLOR_ATTACHMENT0 = 0x8CE0
DEPTH_ATTACHMENT = 0x8D00
DEPTH_STENCIL_ATTACHMENT = 0x821A
DEPTH24_STENCIL8 = 0x88F0
STENCIL_TEST = 0x0B90
STENCIL = 0x1802
ALWAYS = 0x0207
EQUAL = 0x0202
KEEP = 0x1E00
REPLACE = 0x1E01
FRAMEBUFFER_COMPLETE = 0x8CD5
DEPTH_COMPONENT = 0x1902
DEPTH_COMPONENT24 = 0x81A6
DEPTH_COMPONENT32F = 0x8CAC
RGBA8 = 0x8058
FLOAT = 0x1406
RGBA = 0x1908
RGB = 0x1907
UNSIGNED_BYTE = 0x1401
TEXTURE_MIN_FILTER = 0x2801
TEXTURE_MAG_FILTER = 0x2800
TEXTURE_WRAP_S = 0x2802
TEXTURE_WRAP_T = 0x2803
NEAREST = 0x2600
LINEAR = 0x2601
CLAMP_TO_EDGE = 0x812F
TEXTURE_COMPARE_MODE = 0x884C
TEXTURE_COMPARE_FUNC = 0x884D
COMPARE_REF_TO_TEXTURE = 0x884E
LEQUAL = 0x0203
NONE = 0
TEXTURE0 = 0x84C0
COLOR_BUFFER_BIT = 0x4000
DEPTH_BUFFER_BIT = 0x0100
SHADER_IMAGE_ACCESS_BARRIER_BIT = 0x20
SHADER_STORAGE_BARRIER_BIT = 0x2000
TEXTURE_FETCH_BARRIER_BIT = 0x8
FRAMEBUFFER_BARRIER_BIT = 0x400
ALL_BARRIER_BITS = 0xFFFFFFFF

_u = ctypes.c_uint
_i = ctypes.c_int
_p = ctypes.c_void_p
_f = ctypes.c_float

# name: (restype, argtypes)
_SIGNATURES = {
    "glGenTextures": (None, [_i, ctypes.POINTER(_u)]),
    "glDeleteTextures": (None, [_i, ctypes.POINTER(_u)]),
    "glBindTexture": (None, [_u, _u]),
    "glActiveTexture": (None, [_u]),
    "glTexStorage3D": (None, [_u, _i, _u, _i, _i, _i]),
    "glTexStorage3DMultisample": (None, [_u, _i, _u, _i, _i, _i, ctypes.c_ubyte]),
    "glTexParameteri": (None, [_u, _u, _i]),
    "glTexImage2D": (None, [_u, _i, _i, _i, _i, _i, _u, _u, _p]),
    "glGenFramebuffers": (None, [_i, ctypes.POINTER(_u)]),
    "glDeleteFramebuffers": (None, [_i, ctypes.POINTER(_u)]),
    "glBindFramebuffer": (None, [_u, _u]),
    "glFramebufferTexture": (None, [_u, _u, _u, _i]),
    "glFramebufferTextureLayer": (None, [_u, _u, _u, _i, _i]),
    "glCheckFramebufferStatus": (_u, [_u]),
    "glDrawBuffers": (None, [_i, ctypes.POINTER(_u)]),
    "glViewport": (None, [_i, _i, _i, _i]),
    "glClearBufferfv": (None, [_u, _i, ctypes.POINTER(_f)]),
    "glClearBufferuiv": (None, [_u, _i, ctypes.POINTER(_u)]),
    "glClearTexImage": (None, [_u, _i, _u, _u, _p]),
    "glClearTexSubImage": (None, [_u, _i, _i, _i, _i, _i, _i, _i, _u, _u, _p]),
    "glCopyImageSubData": (None, [_u, _u, _i, _i, _i, _i, _u, _u, _i, _i, _i, _i, _i, _i, _i]),
    "glBlitFramebuffer": (None, [_i, _i, _i, _i, _i, _i, _i, _i, _u, _u]),
    "glMemoryBarrier": (None, [_u]),
    "glBlendEquationSeparate": (None, [_u, _u]),
    "glEnable": (None, [_u]),
    "glDepthMask": (None, [ctypes.c_ubyte]),
    "glColorMask": (None, [ctypes.c_ubyte, ctypes.c_ubyte, ctypes.c_ubyte, ctypes.c_ubyte]),
    "glDisable": (None, [_u]),
    "glStencilFunc": (None, [_u, _i, _u]),
    "glStencilOp": (None, [_u, _u, _u]),
    "glStencilMask": (None, [_u]),
    "glClearBufferiv": (None, [_u, _i, ctypes.POINTER(_i)]),
    "glClearBufferfi": (None, [_u, _i, _f, _i]),
    "glBlendFuncSeparate": (None, [_u, _u, _u, _u]),
    "glGetError": (_u, []),
    "glFinish": (None, []),
}


class RawGL:
    """ctypes bindings of the raw GL calls, resolved through eglGetProcAddress in the current context."""

    def __init__(self):
        path = ctypes.util.find_library("EGL")
        egl = ctypes.CDLL(path or "libEGL.so.1")
        egl.eglGetProcAddress.restype = _p
        egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
        for name, (res, args) in _SIGNATURES.items():
            addr = egl.eglGetProcAddress(name.encode())
            if not addr:
                raise RuntimeError(f"OpenGL entry point {name} is not available through EGL")
            fn = ctypes.CFUNCTYPE(res, *args)(addr)
            setattr(self, name[2:], fn)  # self.BindTexture(...)

    def gen_texture(self) -> int:
        t = _u(0)
        self.GenTextures(1, ctypes.byref(t))
        return int(t.value)

    def delete_texture(self, tex: int) -> None:
        self.DeleteTextures(1, ctypes.byref(_u(tex)))

    def gen_framebuffer(self) -> int:
        f = _u(0)
        self.GenFramebuffers(1, ctypes.byref(f))
        return int(f.value)

    def delete_framebuffer(self, fbo: int) -> None:
        self.DeleteFramebuffers(1, ctypes.byref(_u(fbo)))

    def draw_buffers(self, n: int) -> None:
        bufs = (_u * n)(*[COLOR_ATTACHMENT0 + i for i in range(n)])
        self.DrawBuffers(n, bufs)

    def check(self, what: str) -> None:
        err = self.GetError()
        if err:
            raise RuntimeError(f"OpenGL error 0x{err:04x} in {what}")


def check_egl() -> None:
    """Fail early, with what to install, when offscreen OpenGL is not available."""
    missing = [lib for lib in ("EGL", "GL") if ctypes.util.find_library(lib) is None]
    if missing:
        from simgen.errors import UserError

        raise UserError(
            f"Offscreen rendering needs the system libraries {', '.join('lib' + m for m in missing)}, which were not found. "
            "On Debian/Ubuntu install them with: apt-get install -y libegl1 libgl1-mesa-dri "
            "(a GPU driver's EGL works too). Then set PYOPENGL_PLATFORM=egl (simgen sets it by default)."
        )


def device_index() -> int:
    """The EGL device to render on: ``EGL_DEVICE_ID`` (default 0)."""
    value = os.environ.get("EGL_DEVICE_ID", "0").strip() or "0"
    try:
        return int(value)
    except ValueError:
        from simgen.errors import UserError

        raise UserError(f"EGL_DEVICE_ID={value!r} is not a device number (0, 1, ...).") from None


_CONTEXTS: dict[int, object] = {}


def shared_context():
    """The process's OpenGL context on the EGL device of :func:`device_index`, made on first use and
    kept until the process ends: renderers share it (and its compiled programs). Releasing a
    context terminates the EGL display, which would break every other EGL user of the process
    (the pyrender reference among them)."""
    dev = device_index()
    ctx = _CONTEXTS.get(dev)
    if ctx is None:
        ctx = _CONTEXTS[dev] = create_context()
    return ctx


def create_context():
    """A standalone OpenGL 4.5 core context on the EGL device chosen by :func:`device_index`."""
    check_egl()
    import moderngl

    dev = device_index()
    try:
        ctx = moderngl.create_standalone_context(backend="egl", require=450, device_index=dev)
    except Exception as exc:  # glcontext raises plain Exceptions
        from simgen.errors import UserError

        raise UserError(
            f"Cannot create an OpenGL 4.5 context on EGL device {dev} ({exc}). Offscreen rendering needs "
            "EGL with Mesa >= 20 (llvmpipe) or a GPU driver; EGL_DEVICE_ID selects the device."
        ) from None
    return ctx
