"""The pyrender reference backend (``render.backend=pyrender``): RGB, instance masks, metric depth.

The batched backend (:mod:`simgen.render.batched`) is the default; this one stays as the reference
the tests compare it with (the same meshes from :mod:`simgen.render.meshes`, so identical masks). It
accepts every SceneSpec field, approximately where pyrender has no equivalent: no shadows; objects
in their plain colour (round bodies two-tone by octant, as ``octants`` materials); the backdrop one
flat colour (a sky's horizon, an image's mean) and the ambient light the mean of the hemispheric
pair; a moving camera redraws the background every frame; flow is computed from depth, masks and
poses (:func:`simgen.render.flow.rigid_flow`).

Per frame it makes two passes over the same pyrender scene:

1. colour: lit, 4x MSAA, read back as RGB only;
2. segmentation: flat object ids without multisampling, read back as one 8-bit channel (the mask)
   plus the depth buffer of that same pass, so masks and depth agree pixel for pixel.

pyrender's stock ``Renderer`` reads depth *and* colour after every pass and linearises depth even
when it is not wanted; the subclass below reads back only what each pass needs (the read-back, not
the rasterising, is most of a frame's cost on a CPU). With ``render.shading=fast`` the PBR fragment
shader is replaced by a Blinn-Phong one (``shaders/mesh.frag``) with the same inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from simgen.render.camera import CV_TO_GL as _CV_TO_GL
from simgen.render.context import check_egl
from simgen.render.flow import rigid_flow
from simgen.render.frames import Frames
from simgen.render.materials import environment_of, flat_color, object_material, static_surface
from simgen.render.meshes import object_meshes, static_mesh
from simgen.spec import SceneSpec, Trajectory, pose_matrix

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

_SHADER_DIR = Path(__file__).resolve().parent / "shaders"

__all__ = ["Frames", "Renderer", "check_egl"]


def _import_pyrender():
    """pyrender, importable on machines without X libraries (GPU nodes, containers): its package
    imports its viewer, a pyglet window class, for which pyglet loads libX11/libXrender unless it is
    told it runs headless (on an H200 node: AttributeError from pyglet's xrender bindings)."""
    import sys

    if "pyrender" not in sys.modules and "pyglet.window" not in sys.modules:
        import pyglet

        pyglet.options["headless"] = True
    import pyrender

    return pyrender


def _make_classes():
    pyrender = _import_pyrender()
    from OpenGL import GL
    from pyrender.constants import ProgramFlags, RenderFlags
    from pyrender.shader_program import ShaderProgram, ShaderProgramCache

    class CachedProgram(ShaderProgram):
        """pyrender's ShaderProgram, with uniform locations looked up once.

        pyrender calls glGetUniformLocation on every set_uniform (a dozen per draw) and, for a
        uniform the shader does not have, raises and swallows an exception; that was about a
        quarter of the CPU of a frame."""

        def set_uniform(self, name, value, unsigned=False):
            locs = self.__dict__.setdefault("_simgen_locs", {})
            loc = locs.get(name)
            if loc is None:
                loc = locs[name] = GL.glGetUniformLocation(self._program_id, name)
            if loc == -1:
                return
            if isinstance(value, np.ndarray):
                if value.ndim == 1:
                    if np.issubdtype(value.dtype, np.unsignedinteger) or unsigned:
                        self._FUNC_MAP[(value.shape[0], "u")](loc, 1, value.astype(np.uint32))
                    elif np.issubdtype(value.dtype, np.integer):
                        self._FUNC_MAP[(value.shape[0], "i")](loc, 1, value.astype(np.int32))
                    else:
                        self._FUNC_MAP[(value.shape[0], "f")](loc, 1, value.astype(np.float32))
                else:
                    self._FUNC_MAP[(value.shape[0], value.shape[1])](loc, 1, GL.GL_TRUE, value)
            elif isinstance(value, (bool, np.bool_, int, np.integer)):
                (GL.glUniform1ui if unsigned else GL.glUniform1i)(loc, int(value))
            elif isinstance(value, (float, np.floating)):
                GL.glUniform1f(loc, float(value))

    class FastShaderCache(ShaderProgramCache):
        """pyrender's shader cache, with cached uniform locations and (``fast``) mesh.frag taken
        from simgen's shader folder."""

        def __init__(self, fast: bool = True):
            super().__init__()
            self.fast = fast

        def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
            if self.fast and fragment_shader == "mesh.frag":
                fragment_shader = str(_SHADER_DIR / "pyrender_fast.frag")
            program = super().get_program(vertex_shader, fragment_shader, geometry_shader, defines)
            if type(program) is ShaderProgram:
                program.__class__ = CachedProgram
            return program

    def _renderbuffer_fbo(w, h, samples):
        """An FBO with an RGBA8 colour and a 24-bit depth renderbuffer (multisampled if samples)."""
        cb, db = GL.glGenRenderbuffers(2)
        for rb, fmt in ((cb, GL.GL_RGBA8), (db, GL.GL_DEPTH_COMPONENT24)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            if samples:
                GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, samples, fmt, w, h)
            else:
                GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, w, h)
        fb = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fb)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, cb)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, db)
        return fb, (cb, db)

    class LeanRenderer(pyrender.Renderer):
        """pyrender's Renderer with a frame loop made for fixed-camera videos.

        pyrender redraws and reads back everything on every call. Here, per video, the static
        geometry (floor, ramps) is drawn once into saved background buffers (a 4x MSAA colour+depth
        pair and a single-sample depth); per frame the background is copied in (a blit, much
        cheaper than re-rasterising a textured floor) and only the moving objects are drawn:

        - colour pass: lit objects into the 4x MSAA buffer, resolved, read back as RGB;
        - id pass: objects with flat 8-bit ids into the single-sample buffer (sampled at pixel
          centres, no blending), read back as the mask and the depth of the same pass.
        """

        _bg = None  # (ms_fbo, ss_fbo, renderbuffers)

        def _ensure_fbos(self):
            self._configure_main_framebuffer()  # pyrender's main MSAA + resolve buffers
            if self._bg is None:
                w, h = self.viewport_width, self.viewport_height
                ms, ms_rb = _renderbuffer_fbo(w, h, 4)
                ss, ss_rb = _renderbuffer_fbo(w, h, 0)
                self._bg = (ms, ss, ms_rb + ss_rb)

        def delete(self):
            if self._bg is not None:
                GL.glDeleteFramebuffers(2, list(self._bg[:2]))
                GL.glDeleteRenderbuffers(len(self._bg[2]), list(self._bg[2]))
                self._bg = None
            super().delete()

        def _draw(self, scene, nodes, flags, seg_colors=None):
            V, P = self._get_camera_matrices(scene)
            cam_pos = scene.get_pose(scene.main_camera_node)[:3, 3]
            program = None
            for node in nodes:
                for primitive in node.mesh.primitives:
                    program = self._get_primitive_program(primitive, flags, ProgramFlags.USE_MATERIAL)
                    program._bind()
                    program.set_uniform("V", V)
                    program.set_uniform("P", P)
                    program.set_uniform("cam_pos", cam_pos)
                    if seg_colors is not None:
                        program.set_uniform("color", seg_colors[node])
                    else:
                        self._bind_lighting(scene, program, node, flags)
                    self._bind_and_draw_primitive(primitive=primitive, pose=scene.get_pose(node), program=program,
                                                  flags=flags)
                    self._reset_active_textures()
            if program is not None:
                program._unbind()

        def _depth_state(self):
            GL.glViewport(0, 0, self.viewport_width, self.viewport_height)
            GL.glEnable(GL.GL_DEPTH_TEST)
            GL.glDepthMask(GL.GL_TRUE)
            GL.glDepthFunc(GL.GL_LESS)
            GL.glDepthRange(0.0, 1.0)

        def _blit(self, src, dst, bits, filt=None):
            w, h = self.viewport_width, self.viewport_height
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, src)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, dst)
            GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, bits, filt if filt is not None else GL.GL_NEAREST)

        def _replace_mipmaps(self, static_nodes):
            """Overwrite the mip levels of the statics' textures with box-filtered levels computed
            in numpy. Mesa's glGenerateMipmap gave levels that differed by one grey level from run
            to run (address-dependent), which made the floor's pixels non-reproducible."""
            for node in static_nodes:
                for prim in node.mesh.primitives:
                    tex = getattr(prim.material, "baseColorTexture", None)
                    if tex is None or tex.source is None or getattr(tex, "_simgen_mips", False):
                        continue
                    img = np.flip(np.asarray(tex.source), axis=0).astype(np.float32)
                    GL.glBindTexture(GL.GL_TEXTURE_2D, tex._texid)
                    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
                    level = 0
                    while img.shape[0] > 1 or img.shape[1] > 1:
                        h2, w2 = max(img.shape[0] // 2, 1), max(img.shape[1] // 2, 1)
                        img = img[: h2 * 2 if img.shape[0] > 1 else 1, : w2 * 2 if img.shape[1] > 1 else 1]
                        img = img.reshape(h2, -1, w2, img.shape[1] // w2, img.shape[2]).mean(axis=(1, 3))
                        level += 1
                        data = np.ascontiguousarray(np.round(img).astype(np.uint8))
                        GL.glTexImage2D(GL.GL_TEXTURE_2D, level, GL.GL_RGB, w2, h2, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, data)
                    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
                    tex._simgen_mips = True

        def begin_video(self, scene, static_nodes, static_seg):
            """Upload this scene's meshes and draw the static background once."""
            self._update_context(scene, RenderFlags.NONE)
            self._replace_mipmaps(static_nodes)
            self._ensure_fbos()
            bg_ms, bg_ss, _ = self._bg
            both = GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT
            # lit background, multisampled
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb_ms)
            self._depth_state()
            GL.glClearColor(*scene.bg_color)
            GL.glClear(both)
            GL.glEnable(GL.GL_MULTISAMPLE)
            self._draw(scene, static_nodes, RenderFlags.NONE)
            self._blit(self._main_fb_ms, bg_ms, both)
            # depth of the background at pixel centres, for the id pass
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb)
            self._depth_state()
            GL.glClearColor(0.0, 0.0, 0.0, 1.0)
            GL.glClear(both)
            GL.glDisable(GL.GL_MULTISAMPLE)
            self._draw(scene, static_nodes, RenderFlags.SEG, static_seg)
            self._blit(self._main_fb, bg_ss, both)

        def frame(self, scene, object_nodes, seg_colors, rgb_out, seg_out, zbuf_out):
            """Render one frame into the given arrays (None to skip masks / depth)."""
            w, h = self.viewport_width, self.viewport_height
            bg_ms, bg_ss, _ = self._bg
            both = GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT
            GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
            # colour pass
            self._blit(bg_ms, self._main_fb_ms, both)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb_ms)
            self._depth_state()
            GL.glEnable(GL.GL_MULTISAMPLE)
            self._draw(scene, object_nodes, RenderFlags.NONE)
            self._blit(self._main_fb_ms, self._main_fb, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._main_fb)
            buf = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
            rgb_out[...] = np.frombuffer(buf, np.uint8).reshape(h, w, 3)[::-1]
            if seg_out is None and zbuf_out is None:
                return
            # id pass: background depth in, ids cleared to 0, objects drawn flat at pixel centres
            self._blit(bg_ss, self._main_fb, both)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb)
            self._depth_state()
            GL.glClearColor(0.0, 0.0, 0.0, 1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)
            GL.glDisable(GL.GL_MULTISAMPLE)
            self._draw(scene, object_nodes, RenderFlags.SEG, seg_colors)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._main_fb)
            if seg_out is not None:
                buf = GL.glReadPixels(0, 0, w, h, GL.GL_RED, GL.GL_UNSIGNED_BYTE)
                seg_out[...] = np.frombuffer(buf, np.uint8).reshape(h, w)[::-1]
            if zbuf_out is not None:
                buf = GL.glReadPixels(0, 0, w, h, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT)
                zbuf_out[...] = np.frombuffer(buf, np.float32).reshape(h, w)[::-1]

        def silhouettes(self, scene, object_nodes, bit_colors, n_objects, out):
            """Per-object unoccluded silhouettes in one pass: every object is drawn flat, without depth
            test, with colour logic-op OR of its own bit (object k: channel k // 8, bit k % 8), so a pixel
            holds the set of objects covering it. ``out[k]`` = pixels with object k's bit set."""
            w, h = self.viewport_width, self.viewport_height
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb)
            GL.glViewport(0, 0, w, h)
            GL.glDisable(GL.GL_DEPTH_TEST)
            GL.glDisable(GL.GL_MULTISAMPLE)
            GL.glClearColor(0.0, 0.0, 0.0, 0.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)
            GL.glEnable(GL.GL_COLOR_LOGIC_OP)
            GL.glLogicOp(GL.GL_OR)
            try:
                self._draw(scene, object_nodes, RenderFlags.SEG, bit_colors)
            finally:
                GL.glDisable(GL.GL_COLOR_LOGIC_OP)
                GL.glEnable(GL.GL_DEPTH_TEST)
            channels = (n_objects + 7) // 8
            fmt = {1: GL.GL_RED, 2: GL.GL_RG, 3: GL.GL_RGB}[channels]
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._main_fb)
            GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
            buf = np.frombuffer(GL.glReadPixels(0, 0, w, h, fmt, GL.GL_UNSIGNED_BYTE), np.uint8).reshape(h * w, channels)
            for c in range(channels):
                counts = np.bincount(buf[:, c], minlength=256)  # pixels per bit pattern
                for b in range(min(8, n_objects - 8 * c)):
                    out[8 * c + b] = int(counts[(np.arange(256) >> b) & 1 == 1].sum())

    return pyrender, FastShaderCache, LeanRenderer


def _FLOOR_SAMPLER():
    """Repeat-wrapped, trilinear-filtered texture sampler with every parameter set explicitly.

    With pyrender's implicit defaults (filters left as None) Mesa produced floor pixels that
    differed by one grey level depending on which scenes the process had rendered before; with
    explicit filters the output depends only on the scene (tests/test_render_determinism.py)."""
    pr = _import_pyrender()

    GL_LINEAR, GL_LINEAR_MIPMAP_LINEAR, GL_REPEAT = 9729, 9987, 10497
    return pr.Sampler(magFilter=GL_LINEAR, minFilter=GL_LINEAR_MIPMAP_LINEAR, wrapS=GL_REPEAT, wrapT=GL_REPEAT)


class Renderer:
    """Renders SceneSpec + Trajectory into Frames. Create one per process and reuse it."""

    def __init__(self, width: int, height: int, shading: str = "fast", flow: bool = False,
                 depth_dtype: str = "float32"):
        check_egl()
        pyrender, FastShaderCache, LeanRenderer = _make_classes()
        self.pyrender = pyrender
        self.flow, self.depth_dtype = bool(flow), depth_dtype

        class OrderedScene(pyrender.Scene):
            """pyrender keeps lights in a set of nodes hashed by address, so their order in the shader
            (and the rounding of the lit sum) changed from process to process: one pixel in a few
            thousand, then up to 28 grey levels after H.264. Lights are named light-000, ...; here
            they are always taken in that order."""

            @property
            def light_nodes(self):
                return sorted(super().light_nodes, key=lambda n: n.name)

        self._scene_class = OrderedScene
        self.width, self.height = int(width), int(height)
        self._offscreen = pyrender.OffscreenRenderer(self.width, self.height)
        # pyrender has no hook for a Renderer subclass: re-class the one it made (no extra state)
        self._offscreen._renderer.__class__ = LeanRenderer
        self._offscreen._renderer._program_cache = FastShaderCache(fast=shading == "fast")
        self._lean = self._offscreen._renderer

    def close(self) -> None:
        """Free the GL objects and the context. Not pyrender's ``delete()`` (which its ``__del__``
        methods also call): it terminates the EGL display, which every other EGL context of the
        process (another renderer, the batched backend) shares and would lose."""
        off = self._offscreen
        if off is None:
            return
        from OpenGL.EGL import eglDestroyContext

        platform = off._platform
        platform.make_current()
        off._renderer.delete()
        platform.make_uncurrent()
        if platform._egl_context is not None:
            eglDestroyContext(platform._egl_display, platform._egl_context)
        platform._egl_context = platform._egl_display = None  # nothing left for the __del__ methods
        off._platform = off._renderer = None
        self._offscreen = None

    # -- scene construction -------------------------------------------------------------------
    def _object_mesh(self, obj, mesh):
        pr = self.pyrender
        rgb = np.asarray(obj.color, dtype=np.float32)[:3]
        mat_spec = object_material(obj)
        mat = pr.MetallicRoughnessMaterial(baseColorFactor=np.ones(4, np.float32), metallicFactor=0.0,
                                           roughnessFactor=float(mat_spec.roughness))
        if mat_spec.pattern == "octants":
            # two tones by octant of the vertex, so that rotation shows
            v = mesh.positions
            c2 = np.asarray(mat_spec.color2 if mat_spec.color2 is not None else rgb * 0.72, np.float32)[:3]
            second = np.sign(v[:, 0]) * np.sign(v[:, 1]) * np.sign(v[:, 2]) < 0
            cols = np.where(second[:, None], c2[None], rgb[None])
        else:
            cols = np.repeat(rgb[None], len(mesh.positions), axis=0)
        cols = np.concatenate([cols, np.ones((len(cols), 1), np.float32)], axis=1).astype(np.float32)
        prim = pr.Primitive(positions=mesh.positions, normals=mesh.normals, color_0=cols, indices=mesh.faces,
                            material=mat)
        return pr.Mesh(primitives=[prim])

    def _static_mesh(self, st):
        pr = self.pyrender
        m = static_mesh(st)
        rough = float(static_surface(st)[0])
        if st.texture is not None:
            tex = pr.Texture(source=st.texture, source_channels="RGB", sampler=_FLOOR_SAMPLER())
            # note: pyrender needs float factors; a list of ints silently zeroes the colour
            mat = pr.MetallicRoughnessMaterial(baseColorTexture=tex, baseColorFactor=np.ones(4, np.float32),
                                               metallicFactor=0.0, roughnessFactor=rough, doubleSided=True)
            prim = pr.Primitive(positions=m.positions, normals=m.normals, indices=m.faces, texcoord_0=m.uv, material=mat)
        else:
            mat = pr.MetallicRoughnessMaterial(baseColorFactor=np.append(np.asarray(st.color, np.float32)[:3], 1.0),
                                               metallicFactor=0.0, roughnessFactor=rough, doubleSided=True)
            prim = pr.Primitive(positions=m.positions, normals=m.normals, indices=m.faces, material=mat)
        return pr.Mesh(primitives=[prim])

    def _build(self, spec: SceneSpec, traj: Trajectory):
        pr = self.pyrender
        env = environment_of(spec)
        ambient = 0.5 * (np.asarray(env.ambient_sky, float)[:3] + np.asarray(env.ambient_ground, float)[:3])
        scene = self._scene_class(bg_color=[*flat_color(env).tolist(), 1.0], ambient_light=ambient)
        self._static_nodes = [
            scene.add(self._static_mesh(st), pose=pose_matrix(st.position, st.quaternion)) for st in spec.statics if st.visible
        ]
        meshes = object_meshes(spec, traj)
        nodes = [scene.add(self._object_mesh(o, m), pose=np.eye(4)) for o, m in zip(spec.objects, meshes)]
        cam = spec.camera
        if cam.projection == "orthographic":
            ymag = cam.ortho_height / 2.0
            camera = pr.OrthographicCamera(xmag=ymag * cam.width / cam.height, ymag=ymag, znear=cam.znear, zfar=cam.zfar)
        else:
            camera = pr.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.width / cam.height, znear=cam.znear, zfar=cam.zfar)
        self._camera_node = scene.add(camera, pose=cam.poses(traj.positions.shape[0])[0] @ _CV_TO_GL)
        for i, light in enumerate(spec.lights):
            d = np.asarray(light.direction, dtype=np.float64)
            d = d / np.linalg.norm(d)
            # pyrender lights shine along their local -z axis
            z = -d
            x = np.cross([0.0, 0.0, 1.0], z) if abs(z[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
            x /= np.linalg.norm(x)
            pose = np.eye(4)
            pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
            scene.add(pr.DirectionalLight(color=np.asarray(light.color, float), intensity=float(light.intensity)), pose=pose,
                      name=f"light-{i:03d}")
        return scene, nodes

    # -- rendering -------------------------------------------------------------------------------
    def _linear_depth(self, zbuf: np.ndarray, cam) -> np.ndarray:
        bg = zbuf >= 1.0
        ndc = 2.0 * zbuf - 1.0  # float32: ample for depth stored as float16 (or float32)
        n, f = cam.znear, cam.zfar
        if cam.projection == "orthographic":
            depth = (ndc * (f - n) + (f + n)) / 2.0
        else:
            depth = 2.0 * n * f / (f + n - ndc * (f - n))
        depth[bg] = 0.0
        return depth.astype(np.float32)

    def render(self, spec: SceneSpec, traj: Trajectory, masks: bool = True, depth: bool = True,
               silhouettes: bool = False, flow: bool | None = None, rgb: bool = True) -> Frames:
        """``silhouettes=True`` also counts, per frame and object, the in-image pixels the object would
        cover with nothing in front of it (``Frames.unoccluded``; at most 24 objects, else -1): one extra
        flat pass per frame, read back as 1 byte per pixel for up to 8 objects. ``flow`` (default: the
        renderer's setting) adds optical flow computed from depth, masks and poses. RGB is always
        returned (``rgb`` is accepted for the batched renderer's signature)."""
        flow = self.flow if flow is None else bool(flow)
        if (spec.camera.width, spec.camera.height) != (self.width, self.height):
            raise ValueError("camera size does not match the renderer size")
        if len(spec.objects) > 255:
            raise ValueError("at most 255 objects per scene (masks are uint8)")
        scene, nodes = self._build(spec, traj)
        seg_colors = {node: np.full(3, (i + 1) / 255.0) for i, node in enumerate(nodes)}
        static_seg = {node: np.zeros(3) for node in self._static_nodes}
        T = traj.positions.shape[0]
        H, W = self.height, self.width
        rgb = np.empty((T, H, W, 3), np.uint8)
        seg = np.empty((T, H, W), np.uint8) if (masks or flow) else None
        zbuf = np.empty((T, H, W), np.float32) if (depth or flow) else None
        cam_poses = spec.camera.poses(T)
        moving = spec.camera.trajectory is not None
        N = len(nodes)
        sil = np.full((T, N), -1, np.int32) if silhouettes else None
        do_sil = silhouettes and 0 < N <= 24
        if do_sil:
            bit_colors = {}
            for i, node in enumerate(nodes):
                col = np.zeros(3)
                col[i // 8] = (1 << (i % 8)) / 255.0
                bit_colors[node] = col
        poses = pose_matrix(traj.positions, traj.quaternions)  # [T, N, 4, 4]
        off, lean = self._offscreen, self._lean
        off._platform.make_current()
        try:
            lean.begin_video(scene, self._static_nodes, static_seg)
            for t in range(T):
                if moving and t > 0:  # the background is drawn once per camera pose
                    scene.set_pose(self._camera_node, cam_poses[t] @ _CV_TO_GL)
                    lean.begin_video(scene, self._static_nodes, static_seg)
                for i, node in enumerate(nodes):
                    scene.set_pose(node, poses[t, i])
                lean.frame(scene, nodes, seg_colors, rgb[t], seg[t] if seg is not None else None,
                           zbuf[t] if zbuf is not None else None)
                if do_sil:
                    lean.silhouettes(scene, nodes, bit_colors, N, sil[t])
        finally:
            off._platform.make_uncurrent()
        lin = self._linear_depth(zbuf, spec.camera) if zbuf is not None else None
        fl = rigid_flow(lin, seg, poses, spec.camera).astype(np.float16) if flow else None
        if self.depth_dtype == "float16" and lin is not None:
            lin = lin.astype(np.float16)
        # GL buffers of this scene's meshes are freed by pyrender when the next scene is uploaded
        return Frames(rgb=rgb, masks=seg if masks else None, depth=lin if depth else None, unoccluded=sil, flow=fl)
