"""The batched renderer (``render.backend=gl``, the default): a whole video in a few draw calls.

Every frame of a chunk is a layer of array textures; each pass draws all frames at once (instanced,
``gl_Layer`` = frame) and each output is read back in one call. Per video:

1. **Static shadow map** (shadows on and static casters present): the ramps seen from the key light.
2. **Background**, once for a static camera (per frame for a moving one): the environment and the
   static geometry lit by every light and the static shadows, 4x MSAA, resolved to 8-bit colour
   and its Y/U/V planes; kept apart for re-shading: the key light's term, the ambient term, the
   normal, the metric depth, and the depth buffer of the front faces at pixel centres.
3. Per chunk of frames:
   a. **object shadow maps**, one small map per object and frame (:mod:`simgen.render.shadows`);
   b. **ids** at pixel centres, no multisampling, over the background's depth buffer: object id
      (the masks), metric depth (written by the shader), optical flow, normal; the same fragments
      count each object's unoccluded silhouette. Drawn with pyrender's vertex arithmetic, so the
      masks match the pyrender reference pixel for pixel;
   c. **coverage**: inside the object tiles (:mod:`simgen.render.tiles`), the ids again with 4x
      MSAA (one id per sample);
   d. **shading**, once per pixel (deferred): every layer starts as a copy of the background;
      inside the tiles the background is re-shaded with the objects' shadows and occlusion, and
      the object pixels are shaded from the id pass (materials, lights, shadows);
   e. **resolve**: each sample takes the colour of what covers it; written as colour and Y, and U/V
      from 2x2 blocks — the planes the H.264 encoder takes;
   f. read-backs: colour, Y/U/V, ids, depth, flow.

Shading once per pixel instead of once per rasterised fragment matters on a CPU rasteriser: Mesa's
llvmpipe shades 4x4 blocks, so the small triangles of a tessellated body cost up to 16 shaded pixels
each; and it executes both sides of every branch, so optional work is compiled in or out (#defines).
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

from simgen.render import context as C
from simgen.render.camera import camera_records, gl_projection
from simgen.render.frames import Frames
from simgen.render.materials import (
    NOISE_PATTERNS,
    PATTERNS,
    environment_kind,
    environment_of,
    light_uniforms,
    material_records,
    object_material,
    static_surface,
)
from simgen.render.meshes import image_radius_px, is_convex, object_meshes, static_mesh
from simgen.render.resources import (
    ArrayTarget,
    Framebuffer,
    apply_uniforms,
    copy_layers,
    encode_uniforms,
    mipmapped_texture,
    program,
    set_uniforms,
    stencil_export,
)
from simgen.render.shadows import (
    AO_REACH,
    camera_clear_of_reach,
    object_light_matrices,
    reach_boxes,
    receiver_masks,
    static_light_matrix,
)
from simgen.render.tiles import OBJECT_PAD, frame_tiles, object_points, screen_rects, shadow_points
from simgen.shapes import volume
from simgen.spec import SceneSpec, Trajectory, pose_matrix

RGBA16F = 0x881A
_PROGRAMS: dict[int, dict] = {}  # per context: (vertex, fragment, defines) -> program
GL_COLOR, GL_DEPTH = 0x1800, 0x1801
CHUNK_PIXELS = 1 << 22  # at most this many pixels per chunk of frames (memory of the layered targets)
MAX_BITS = 32  # objects that cast shadows / have silhouettes counted (one bit each)

# texture units
UNITS = {"env_image": 0, "obj_shadow": 1, "static_shadow": 2, "bg_a": 3, "bg_key": 4, "bg_amb": 5, "bg_nrm": 6,
         "bg_z": 7, "bg_d": 8, "centre_a": 9, "sids": 10, "ms_ids": 12, "ids": 13, "gbuf": 14,
         "obj_shaded": 16, "rgba": 17, "tex": 18, "vis": 19, "bg_rgba": 20}


_LIT = (ctypes.c_ubyte * 4)(255, 255, 255, 255)  # the shadow mask's clear value: lit, unoccluded


def _f(*values) -> ctypes.Array:
    return (ctypes.c_float * len(values))(*values)


class _Layers:
    """The layered targets of one chunk size (frames x height x width), reused from video to video."""

    def __init__(self, r: BatchedRenderer, layers: int, bg_layers: int):
        ctx, gl, W, H, S = r.ctx, r.gl, r.width, r.height, r.msaa
        self.layers, self.bg_layers = layers, bg_layers
        zdt = "f2" if r.depth_dtype == "float16" else "f4"
        tex = []

        def arr(w, h, n, comps, dtype):
            t = ctx.texture_array((w, h, n), comps, dtype=dtype)
            t.filter = (0x2600, 0x2600)  # NEAREST: read with texelFetch
            tex.append(t)
            return t

        # per frame: ids pass
        self.ids = arr(W, H, layers, 1, "u1")
        self.z = arr(W, H, layers, 1, zdt)
        self.flow = arr(W, H, layers, 2, "f2")
        self.gbuf = arr(W, H, layers, 4, "f4")
        self.sil = arr(W, H, layers, 1, "u4")
        self.zbuf = ArrayTarget(gl, C.DEPTH24_STENCIL8, W, H, layers)  # stencil: the visible object's id
        # per frame: coverage, shading, output planes
        self.ms_ids = ArrayTarget(gl, 0x8232, W, H, layers, S)  # GL_R8UI
        self.ms_depth = ArrayTarget(gl, C.DEPTH_COMPONENT24, W, H, layers, S)
        self.vis = arr(W, H, layers, 4, "f1")  # shadow mask: r = key light visibility, a = occlusion
        self.obj_shaded = arr(W, H, layers, 4, "f1")
        self.rgba = arr(W, H, layers, 4, "f1")
        self.y = arr(W, H, layers, 1, "f1")
        self.u = arr(W // 2, H // 2, layers, 1, "f1")
        self.v = arr(W // 2, H // 2, layers, 1, "f1")
        # background: one layer (static camera) or one per frame (moving camera)
        B = bg_layers
        self.bg_centre = arr(W, H, B, 4, "f2")  # colour at pixel centres
        self.bg_a = arr(W, H, B, 4, "f2")  # anti-aliased colour, high range
        self.bg_rgba = arr(W, H, B, 4, "f1")
        self.bg_y = arr(W, H, B, 1, "f1")
        self.bg_u = arr(W // 2, H // 2, B, 1, "f1")
        self.bg_v = arr(W // 2, H // 2, B, 1, "f1")
        self.bg_key = arr(W, H, B, 4, "f2")
        self.bg_amb = arr(W, H, B, 4, "f2")
        self.bg_nrm = arr(W, H, B, 4, "f2")
        self.bg_z = arr(W, H, B, 1, zdt)
        self.bg_sid = arr(W, H, B, 1, "u1")
        self.bg_d = ArrayTarget(gl, C.DEPTH24_STENCIL8, W, H, B)
        self.ms_sid = ArrayTarget(gl, 0x8232, W, H, B, S)  # GL_R8UI
        self.ms_bg_depth = ArrayTarget(gl, C.DEPTH_COMPONENT24, W, H, B, S)
        # the background's depth at pixel centres in every sample: where the coverage pass starts
        # (copied into the objects' tiles frame by frame)
        self.ms_fill_depth = ArrayTarget(gl, C.DEPTH_COMPONENT24, W, H, B, S)
        self._textures = tex
        self.fb_ids = Framebuffer(gl, [self.ids.glo, self.z.glo, self.gbuf.glo, self.flow.glo], self.zbuf.glo, True)
        self.fb_ids_noflow = Framebuffer(gl, [self.ids.glo, self.z.glo, self.gbuf.glo], self.zbuf.glo, True)
        self.fb_flow = Framebuffer(gl, [self.flow.glo])
        self.fb_cover = Framebuffer(gl, [self.ms_ids.glo], self.ms_depth.glo)
        self.fb_vis = Framebuffer(gl, [self.vis.glo, self.rgba.glo, self.y.glo], self.zbuf.glo, True)
        # the shading passes test the id pass's stencil (the visible object at each pixel)
        self.fb_obj_shade = Framebuffer(gl, [self.obj_shaded.glo, self.rgba.glo, self.y.glo], self.zbuf.glo, True)
        self.fb_mark = Framebuffer(gl, [], self.zbuf.glo, True)
        self.fb_resolve = Framebuffer(gl, [self.rgba.glo, self.y.glo], self.zbuf.glo, True)
        self.fb_chroma = Framebuffer(gl, [self.u.glo, self.v.glo])
        self.fb_bg_sky = Framebuffer(gl, [self.bg_centre.glo, self.bg_rgba.glo, self.bg_y.glo], self.bg_d.glo, True)
        self.fb_bg_split = Framebuffer(gl, [self.bg_centre.glo, self.bg_rgba.glo, self.bg_y.glo, self.bg_key.glo,
                                            self.bg_amb.glo, self.bg_nrm.glo, self.bg_z.glo, self.bg_sid.glo],
                                       self.bg_d.glo, True)
        self.fb_bg_cover = Framebuffer(gl, [self.ms_sid.glo], self.ms_bg_depth.glo)
        self.fb_bg_fill = Framebuffer(gl, [], self.ms_fill_depth.glo)
        self.fb_bg_mark = Framebuffer(gl, [], self.bg_d.glo, True)
        self.fb_bg_resolve = Framebuffer(gl, [self.bg_a.glo, self.bg_rgba.glo, self.bg_y.glo], self.bg_d.glo, True)
        self.fb_bg_chroma = Framebuffer(gl, [self.bg_u.glo, self.bg_v.glo])

    def release(self) -> None:
        for obj in list(vars(self).values()):
            if hasattr(obj, "release"):
                obj.release()
        for t in self._textures:
            t.release()


class BatchedRenderer:
    """Renders SceneSpec + Trajectory into Frames; one per process (it holds the GL context)."""

    def __init__(self, width: int, height: int, *, shading: str = "fast", shadows: bool = True, msaa: int = 4,
                 shadow_map_size: int = 256, static_shadow_size: int = 1024, depth_dtype: str = "float32",
                 flow: bool = False):
        if width % 2 or height % 2:
            raise ValueError(f"the batched renderer needs an even width and height, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self.shading, self.shadows, self.flow = shading, bool(shadows), bool(flow)
        self.depth_dtype = depth_dtype
        self.shadow_map_size, self.static_shadow_size = int(shadow_map_size), int(static_shadow_size)
        self.ctx = C.shared_context()
        self.ctx.__enter__()
        self.gl = C.RawGL()
        max_samples = int(self.ctx.max_samples)
        if msaa > max_samples:
            from simgen.errors import UserError

            raise UserError(f"render.msaa={msaa} is more than this OpenGL device allows ({max_samples}); "
                            f"choose render.msaa<={max_samples}.")
        self.msaa = max(1, int(msaa))
        self._programs = _PROGRAMS.setdefault(id(self.ctx), {})  # compiled once per process
        self._quads: dict[int, object] = {}
        self._layers: _Layers | None = None
        self._obj_shadow: ArrayTarget | None = None
        self._obj_shadow_fb: Framebuffer | None = None
        ctx = self.ctx
        self._static_shadow = ctx.depth_texture((self.static_shadow_size,) * 2)
        self._static_shadow.compare_func = "<="
        self._static_shadow.filter = (0x2601, 0x2601)
        self._static_shadow.repeat_x = self._static_shadow.repeat_y = False
        self._static_fb = Framebuffer(self.gl, [], self._static_shadow.glo)
        self._dummy_rgb = ctx.texture((1, 1), 3, bytes(3))
        self._buffers: dict[int, object] = {}
        self._common: dict = {}
        self._common_encoded: tuple = (None, [])
        self.ctx.__exit__(None, None, None)

    # -- resources ------------------------------------------------------------------------------
    def close(self) -> None:
        """Free this renderer's textures and buffers (the shared context and programs stay)."""
        if self.ctx is None:
            return
        self.ctx.__enter__()
        if self._layers is not None:
            self._layers.release()
        for obj in (self._obj_shadow, self._obj_shadow_fb, self._static_fb, self._static_shadow, self._dummy_rgb,
                    *self._buffers.values(), *self._quads.values()):
            if obj is not None:
                obj.release()
        self.ctx.__exit__(None, None, None)
        self.ctx = None

    def _prog(self, vertex: str, fragment: str, *defines: str):
        """A program (compiled once), its samplers on their units and the video's common uniforms set."""
        key = (vertex, fragment, defines)
        p = self._programs.get(key)
        if p is None:
            p = self._programs[key] = program(self.ctx, vertex, fragment, defines)
            set_uniforms(p, inst_m=np.eye(4, dtype=np.float32), **UNITS)
            p._simgen_common = None
        if p._simgen_common is not self._common:  # uniforms of this video / chunk not yet set
            if self._common_encoded[0] is not self._common:
                self._common_encoded = (self._common, encode_uniforms(self._common))
            apply_uniforms(p, self._common_encoded[1])
            p._simgen_common = self._common
        return p

    def _quad(self, p, instances: int, tile0: int = 0, target: tuple[int, int] | None = None) -> None:
        """Draw ``instances`` tiles (rectangles from the tile buffer) with program p."""
        vao = self._quads.get(id(p))
        if vao is None:
            vao = self._quads[id(p)] = self.ctx.vertex_array(p, [])
        # encoded as set_uniforms would (ints, a tuple of ints), without the encoding per draw
        apply_uniforms(p, [("tile0", False, int(tile0)),
                           ("target", False, (int(target[0]), int(target[1])) if target else (self.width, self.height))])
        vao.render(mode=self.ctx.TRIANGLE_STRIP, vertices=4, instances=instances)

    def _full_tiles(self, frame0: int, layers: int) -> np.ndarray:
        """Tile records covering whole layers 0..layers-1, frames frame0.. (for the tile buffer)."""
        full = np.zeros((layers, 8), np.int32)
        full[:, 2], full[:, 3] = self.width, self.height
        full[:, 4], full[:, 5] = np.arange(layers), frame0 + np.arange(layers)
        return full

    def _ssbo(self, binding: int, data: np.ndarray) -> None:
        raw = np.ascontiguousarray(data).tobytes()
        buf = self._buffers.get(binding)
        if buf is None or buf.size < max(len(raw), 16):
            if buf is not None:
                buf.release()
            buf = self._buffers[binding] = self.ctx.buffer(reserve=max(len(raw), 16) * 2)
        if raw:
            buf.write(raw)
        buf.bind_to_storage_buffer(binding)

    def _layers_for(self, layers: int, bg_layers: int) -> _Layers:
        cur = self._layers
        if cur is None or cur.layers < layers or cur.bg_layers < bg_layers:
            if cur is not None:
                cur.release()
            self._layers = cur = _Layers(self, max(layers, cur.layers if cur else 0),
                                         max(bg_layers, cur.bg_layers if cur else 0))
        return cur

    def _shadow_layers(self, layers: int) -> ArrayTarget:
        if self._obj_shadow is None or self._obj_shadow.layers < layers:
            if self._obj_shadow is not None:
                self._obj_shadow.release()
                self._obj_shadow_fb.release()
            S = self.shadow_map_size
            self._obj_shadow = ArrayTarget(self.gl, 0x81A5, S, S, layers)  # GL_DEPTH_COMPONENT16: ample in 2.2 radii
            self._obj_shadow_fb = Framebuffer(self.gl, [], self._obj_shadow.glo)
        return self._obj_shadow

    def _stencil(self, mode: str | None, ref: int = 0) -> None:
        """None: off; "write": keep the fragment's exported value (ids pass); "mark": set 255;
        "equal": pass where the stencil equals ``ref`` (no writes)."""
        gl = self.gl
        if mode is None:
            gl.Disable(C.STENCIL_TEST)
            gl.StencilMask(0xFF)  # clears respect the write mask
            return
        gl.Enable(C.STENCIL_TEST)
        if mode == "equal":
            gl.StencilFunc(C.EQUAL, ref, 0xFF if ref == 255 else 0x7F)  # bit 7: the shadow volumes' mark
            gl.StencilOp(C.KEEP, C.KEEP, C.KEEP)
            gl.StencilMask(0)
        else:
            gl.StencilFunc(C.ALWAYS, 255 if mode == "mark" else 0, 0xFF)
            gl.StencilOp(C.KEEP, C.KEEP, C.REPLACE)
            gl.StencilMask(0xFF)

    def _use(self, **textures) -> None:
        """Bind textures (moderngl or raw array targets) to the units of their sampler names."""
        for name, tex in textures.items():
            tex.use(UNITS[name])

    # -- one video ------------------------------------------------------------------------------
    def render(self, spec: SceneSpec, traj: Trajectory, masks: bool = True, depth: bool = True,
               silhouettes: bool = False, flow: bool | None = None, rgb: bool = True) -> Frames:
        """Render every frame of ``traj``. ``silhouettes=True`` also counts, per frame and object, the
        in-image pixels the object would cover with nothing in front of it (``Frames.unoccluded``; -1
        for objects past the 32nd). ``flow`` (default: the renderer's setting) adds forward optical flow.
        The video always comes as I420 planes (``Frames.yuv420``, what the encoder takes);
        ``rgb=False`` skips the RGB copy (``Frames.rgb`` is None)."""
        cam = spec.camera
        W, H = self.width, self.height
        if (cam.width, cam.height) != (W, H):
            raise ValueError("camera size does not match the renderer size")
        if len(spec.objects) > 255:
            raise ValueError("at most 255 objects per scene (masks are uint8)")
        flow = self.flow if flow is None else bool(flow)
        T, N = traj.positions.shape[:2]
        poses = cam.poses(T)
        moving = cam.trajectory is not None
        models = pose_matrix(traj.positions, traj.quaternions)  # [T, N, 4, 4], as the pyrender backend
        w2c = np.linalg.inv(poses)
        meshes = object_meshes(spec, traj)
        radius = np.array([float(np.linalg.norm(m.positions, axis=1).max()) for m in meshes])
        occluder = np.array([(3.0 * volume(o.shape, o.size, o.mesh) / (4.0 * math.pi)) ** (1 / 3) for o in spec.objects])
        lights = light_uniforms(spec.lights)
        env = environment_of(spec)
        shadows = self.shadows and lights.key_light >= 0
        travel = -lights.light_dir[max(lights.key_light, 0)].astype(np.float64)
        statics = [st for st in spec.statics if st.visible]
        casters = [st for st in statics if st.kind != "plane"]
        static_shadow = shadows and bool(casters)
        self._patterns = [object_material(o).pattern for o in spec.objects]  # compiled in per object
        env_define = ("", "ENV_SKY", "ENV_EQUIRECT", "ENV_SCREEN")[environment_kind(env)]
        self._defines = tuple(d for d, on in (("SHADOWS", shadows), ("STATIC_SHADOW", static_shadow),
                                               ("PBR", self.shading == "pbr"),
                                               (env_define, bool(env_define))) if on)
        self._moving = moving
        self._lights_define = (f"N_LIGHTS {lights.n_lights}",)

        self.ctx.__enter__()
        try:
            # --- per-video data ---
            self._ssbo(0, models.astype(np.float32).transpose(0, 1, 3, 2))
            self._ssbo(1, camera_records(cam, poses))
            convex = self._convex = np.array([is_convex(o) for o in spec.objects], bool)
            self._ssbo(2, material_records(spec.objects, radius, occluder, convex) if N else np.zeros(16, np.float32))
            if N:
                lvp = object_light_matrices(travel, traj.positions, radius)
                self._ssbo(3, lvp.astype(np.float32).transpose(0, 1, 3, 2))
                sph = np.concatenate([traj.positions, np.broadcast_to(occluder[None, :, None], (T, N, 1))], axis=-1)
                self._ssbo(6, sph.astype(np.float32))
            k = cam.intrinsics()
            env_tex, env_lod = self._environment_texture(env, cam, k)
            # shadow-map texels about the size of the objects' pixels: a power of two >= 2 image radii
            px = float(image_radius_px(spec, traj).max()) if N else 0.0
            self._shadow_size = int(min(self.shadow_map_size, max(32, 2 ** math.ceil(math.log2(max(2.0 * px, 1.0))))))
            common = dict(
                P=gl_projection(cam), intr=np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2]], np.float32),
                ortho=int(cam.projection == "orthographic"), size=np.array([W, H], np.int32), n_objects=N,
                n_frames=T, moving=int(moving), n_lights=lights.n_lights, light_dir=lights.light_dir,
                key_dir=lights.light_dir[max(lights.key_light, 0)].astype(np.float32),
                light_rgb=lights.light_rgb, key_light=lights.key_light,
                amb_sky=np.asarray(env.ambient_sky, np.float32)[:3], amb_ground=np.asarray(env.ambient_ground, np.float32)[:3],
                env_zenith=np.asarray(env.zenith, np.float32)[:3],
                env_horizon=np.asarray(env.horizon, np.float32)[:3], env_ground=np.asarray(env.ground, np.float32)[:3],
                env_yaw=float(env.yaw), env_lod=float(env_lod), obj_shadow_size=float(self._shadow_size),
                obj_shadow_alloc=float(self.shadow_map_size), frame0=0,
            )
            if len(statics) > 254:
                raise ValueError("at most 254 visible statics per scene")
            static_draws = [self._static_draw(st, i) for i, st in enumerate(statics)]
            if static_shadow:
                corners = np.concatenate([d.world for d in static_draws if d.kind != "plane"])
                svp, span = static_light_matrix(travel, corners)
                common.update(static_vp=svp, static_texel=span / self.static_shadow_size)
            self._common = common
            self._use(env_image=env_tex or self._dummy_rgb, static_shadow=self._static_shadow)
            if static_shadow:
                self._draw_static_shadow(static_draws)
            objects = self._object_arrays(meshes) if N else None
            # shadow volumes (stencil-tested boxes) unless one reaches the camera (near plane) or the
            # object ids need the stencil's 8th bit
            zs = [d.world[:, 2].min() for d in static_draws]
            self._receivers_z = float(min(zs)) if zs else float((traj.positions[..., 2] - radius).min()) if N else 0.0
            self._receivers_top = float(max(d.world[:, 2].max() for d in static_draws)) if zs else self._receivers_z
            obj_pts = object_points(meshes, models) if N else None  # [T, N, K, 3] world
            if N:  # the volumes are as wide as the contact occlusion's reach only where it meets a static,
                # and as the shadow's where the object's outline seen from the light is narrower than its sphere
                reach = _ao_reach(traj.positions, occluder, static_draws)
                sil = np.minimum(_light_outline_radius(obj_pts, traj.positions, travel), radius)
                self._ssbo(7, np.stack([reach, sil], axis=-1).astype(np.float32))
            self._volumes = False
            self._receive = receiver_masks(traj.positions, radius, travel) if N else np.zeros((T, 0), np.uint32)
            if shadows and 0 < N <= 127:
                reach = (traj.positions, radius, occluder, travel, self._receivers_z, self._shadow_size)
                if cam.projection == "orthographic":
                    from simgen.render.camera import project

                    _, zc = project(reach_boxes(*reach, receivers_top=self._receivers_top).reshape(T, -1, 3), w2c, cam)
                    self._volumes = bool((zc > 2.0 * cam.znear).all())
                else:  # the near plane's corners lie within znear * |(tan x, tan y, 1)| of the camera
                    tx = max(k[0, 2], W - k[0, 2]) / k[0, 0]
                    ty = max(k[1, 2], H - k[1, 2]) / k[1, 1]
                    margin = 2.0 * cam.znear * math.sqrt(1.0 + tx * tx + ty * ty)
                    self._volumes = camera_clear_of_reach(*reach, poses[:, :3, 3], margin,
                                                          receivers_top=self._receivers_top)
            tiles = self._tiles(spec, traj, obj_pts, w2c, meshes, radius, occluder, convex, travel, static_draws, shadows)

            # --- chunks of frames ---
            Tc = max(1, min(T, CHUNK_PIXELS // (W * H)))
            L = self._layers_for(Tc, Tc if moving else 1)
            out = _Outputs(T, N, H, W, rgb, masks, depth, flow, silhouettes, self.depth_dtype)
            for f0 in range(0, T, Tc):
                f1 = min(T, f0 + Tc)
                n = f1 - f0
                self._common = dict(common, frame0=f0)
                if moving or f0 == 0:
                    self._background(L, static_draws, f0 if moving else 0, n if moving else 1)
                if shadows and N:
                    self._draw_object_shadows(objects, n, N)
                counts = self._ids(L, objects, f0, n, N, flow, silhouettes and N > 0)
                self._colour(L, objects, tiles, f0, f1, N, rgb)
                out.read(L, f0, f1, counts)
            if env_tex is not None:
                env_tex.release()
            for d in static_draws:
                d.release()
            if objects is not None:
                objects.release()
        finally:
            self.ctx.__exit__(None, None, None)
        return out.frames()

    # -- scene data -----------------------------------------------------------------------------------
    def _environment_texture(self, env, cam, k):
        if env.kind != "image":
            return None, 0.0
        tex = mipmapped_texture(self.ctx, self.gl, env.image, repeat=True)
        ih, iw = np.asarray(env.image).shape[:2]
        if env.mapping == "equirect" and cam.projection != "orthographic":
            texels_per_px = (iw / (2 * math.pi)) / k[1, 1]
        else:
            texels_per_px = max(iw / cam.width, ih / cam.height)
        return tex, max(0.0, math.log2(max(texels_per_px, 1e-6)))

    def _static_draw(self, st, index: int) -> _StaticDraw:
        return _StaticDraw(self, st, index)

    def _object_arrays(self, meshes) -> _ObjectArrays:
        return _ObjectArrays(self, meshes)

    def _tiles(self, spec, traj, obj_pts, w2c, meshes, radius, occluder, convex, travel, static_draws, shadows):
        """Tiles of the frames (:func:`simgen.render.tiles.frame_tiles`)."""
        cam = spec.camera
        N = len(meshes)
        if N == 0:
            empty = np.zeros((0, 8), np.int32)
            return {"obj": empty, "objm": empty, "all": empty, "cast": empty, "cast_obj": empty}
        obj_rects = screen_rects(obj_pts, w2c, cam, cam.znear, OBJECT_PAD)  # [T, N, 4]
        if not shadows:
            return frame_tiles(obj_rects, None, None, convex, cam.width, cam.height)
        sh_rects = np.zeros_like(obj_rects)
        sh_rects[..., :2] = 1  # empty
        if static_draws:
            boxes = [(d.world.min(axis=0), d.world.max(axis=0)) for d in static_draws]
            pts = shadow_points(traj.positions, radius, occluder, travel, boxes)
            sh_rects = screen_rects(pts, w2c, cam, cam.znear)
        recv = self._receive
        return frame_tiles(obj_rects, sh_rects, recv, convex, cam.width, cam.height, MAX_BITS)

    # -- passes -----------------------------------------------------------------------------------
    def _draw_static_shadow(self, static_draws) -> None:
        ctx = self.ctx
        S = self.static_shadow_size
        self._static_fb.use(S, S)
        self.gl.ClearBufferfv(GL_DEPTH, 0, _f(1.0))
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        ctx.cull_face = "front"  # back faces into the map: no self-shadowing acne on lit faces
        ctx.depth_func = "<"
        p = self._prog("shadow_statics.vert", "depth_only.frag")
        for d in static_draws:
            if d.kind != "plane":
                d.draw(p, 1)
        ctx.cull_face = "back"

    def _background(self, L: _Layers, static_draws, bg0: int, B: int) -> None:
        """The background layers 0..B-1 (the camera of frame bg0 + i, or of frame 0)."""
        ctx, gl, W, H = self.ctx, self.gl, self.width, self.height
        full = self._full_tiles(bg0, B)
        self._ssbo(4, full)
        # pixel centres: the statics, front faces only (pyrender's segmentation pass: the same depth
        # values), lit, with the terms the tile passes re-shade with, marking the stencil; then the
        # environment where no static is
        L.fb_bg_split.use(W, H)
        for i, v in ((3, 0.0), (4, 1.0), (5, 0.0), (6, 0.0)):
            gl.ClearBufferfv(GL_COLOR, i, _f(0.0, 0.0, 0.0, v))
        gl.ClearBufferuiv(GL_COLOR, 7, (ctypes.c_uint * 4)(0, 0, 0, 0))
        self._stencil(None)
        gl.ClearBufferfi(0x84F9, 0, 1.0, 0)  # GL_DEPTH_STENCIL: depth 1, stencil 0
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        ctx.cull_face = "back"
        ctx.depth_func = "<"
        gl.Enable(C.STENCIL_TEST)  # the statics' pixels: stencil 1
        gl.StencilFunc(C.ALWAYS, 1, 0xFF)
        gl.StencilOp(C.KEEP, C.KEEP, C.REPLACE)
        gl.StencilMask(0xFF)
        for d in static_draws:
            d.draw(self._prog("statics.vert", "statics.frag", *self._defines, *self._lights_define, *d.defines), B, bg0)
        ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        self._stencil("equal", 0)
        L.fb_bg_sky.use(W, H)
        self._quad(self._prog("quad.vert", "sky.frag", *self._defines), B)
        self._stencil(None)
        ctx.enable(ctx.DEPTH_TEST)
        # where the frames' coverage pass starts: every sample at the depth of its pixel centre
        ctx.disable(ctx.CULL_FACE)
        ctx.depth_func = "1"  # always
        self._use(bg_d=L.bg_d)
        L.fb_bg_fill.use(W, H)
        self._quad(self._prog("quad.vert", "ms_fill.frag"), B)
        ctx.depth_func = "<"
        # multisampled coverage (double-sided, as pyrender draws its colour pass), then the edges
        L.fb_bg_cover.use(W, H)
        gl.ClearBufferuiv(GL_COLOR, 0, (ctypes.c_uint * 4)(0, 0, 0, 0))
        gl.ClearBufferfv(GL_DEPTH, 0, _f(1.0))
        ctx.disable(ctx.CULL_FACE)
        for d in static_draws:
            d.draw(self._prog("statics.vert", "ms_static.frag"), B, bg0)
        ctx.disable(ctx.DEPTH_TEST)
        copy_layers(gl, L.bg_centre.glo, L.bg_a.glo, B, W, H, True)
        self._use(ms_ids=L.ms_sid, sids=L.bg_sid, centre_a=L.bg_centre, ids=L.bg_sid)
        L.fb_bg_mark.use(W, H)  # the pixels next to another static or the sky
        self._stencil("mark")
        self._quad(self._prog("quad.vert", "mark_edges.frag"), B)
        L.fb_bg_resolve.use(W, H)
        self._stencil("equal", 255)
        p = self._prog("quad.vert", "resolve_bg.frag", *self._defines)
        set_uniforms(p, samples=self.msaa)
        self._quad(p, B)
        self._stencil(None)
        L.fb_bg_mark.use(W, H)
        gl.ClearBufferiv(C.STENCIL, 0, (ctypes.c_int * 1)(0))  # the frames' stencil (copied from here) starts at 0
        half = full.copy()
        half[:, 2], half[:, 3] = W // 2, H // 2
        self._ssbo(4, half)
        self._use(rgba=L.bg_rgba)
        L.fb_bg_chroma.use(W // 2, H // 2)
        self._quad(self._prog("quad.vert", "chroma.frag"), B, target=(W // 2, H // 2))

    def _draw_object_shadows(self, objects: _ObjectArrays, n: int, N: int) -> None:
        ctx = self.ctx
        sm = self._shadow_layers(n * N)
        S = self._shadow_size  # this video's corner of each layer
        self._obj_shadow_fb.use(S, S)
        self.gl.ClearTexSubImage(sm.glo, 0, 0, 0, 0, S, S, n * N, C.DEPTH_COMPONENT, C.FLOAT, ctypes.byref(ctypes.c_float(1.0)))
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        ctx.cull_face = "front"  # back faces into the maps: no self-shadowing acne on lit faces
        ctx.depth_func = "<"
        objects.draw(self._prog("shadow_objects.vert", "depth_only.frag"), n)
        ctx.cull_face = "back"
        self._use(obj_shadow=sm)

    def _shadow_volumes(self, n: int, N: int) -> None:
        """The background's shadow mask drawn as each caster's reach (shaders/volume.vert), shaded
        only where the visible surface lies inside it: back faces behind the surface set stencil
        bit 7; front faces in front of it run the shader where the stencil is exactly 0x80, the
        background (the bit is left: the other stencil tests ignore it)."""
        ctx, gl = self.ctx, self.gl
        count = n * N
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        gl.DepthMask(0)
        gl.Enable(C.STENCIL_TEST)
        gl.ColorMask(0, 0, 0, 0)
        ctx.cull_face = "front"
        ctx.depth_func = ">"
        gl.StencilFunc(C.ALWAYS, 0x80, 0x80)
        gl.StencilOp(C.KEEP, C.KEEP, C.REPLACE)
        gl.StencilMask(0x80)
        self._volume(self._prog("volume.vert", "depth_only.frag"), count)
        gl.ColorMask(1, 1, 1, 1)
        ctx.cull_face = "back"
        ctx.depth_func = "<="
        gl.StencilMask(0)
        gl.StencilFunc(C.EQUAL, 0x80, 0xFF)  # the background
        self._volume(self._prog("volume.vert", "shadow_mask.frag", "RECEIVER_BG", *self._defines), count)
        gl.DepthMask(1)
        ctx.depth_func = "<"
        ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)

    def _volume(self, p, instances: int) -> None:
        vao = self._quads.get(id(p))
        if vao is None:
            vao = self._quads[id(p)] = self.ctx.vertex_array(p, [])
        set_uniforms(p, receivers_z=float(self._receivers_z), receivers_top=float(self._receivers_top))
        vao.render(mode=self.ctx.TRIANGLES, vertices=84, instances=instances)  # shaders/volume.vert: PRISM

    def _ids(self, L: _Layers, objects, f0: int, n: int, N: int, flow: bool, do_sil: bool) -> np.ndarray | None:
        ctx, gl, W, H = self.ctx, self.gl, self.width, self.height
        moving = self._moving
        copy_layers(gl, L.bg_d.glo, L.zbuf.glo, n, W, H, moving)
        copy_layers(gl, L.bg_z.glo, L.z.glo, n, W, H, moving)
        if flow and moving:
            self._ssbo(4, self._full_tiles(f0, n))
            ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)
            self._use(bg_z=L.bg_z)
            L.fb_flow.use(W, H)
            self._quad(self._prog("quad.vert", "bgflow.frag"), n)
        (L.fb_ids if flow else L.fb_ids_noflow).use(W, H)
        gl.ClearBufferuiv(GL_COLOR, 0, (ctypes.c_uint * 4)(0, 0, 0, 0))
        if flow and not moving:
            gl.ClearBufferfv(GL_COLOR, 3, _f(0.0, 0.0, 0.0, 0.0))
        if N == 0:
            return None
        bits = do_sil and not self._convex.all()  # the pixels' bits: only for objects that are not convex
        if bits:
            gl.ClearTexImage(L.sil.glo, 0, 0x8D94, 0x1405, None)  # GL_RED_INTEGER, GL_UNSIGNED_INT: zeros
            L.sil.bind_to_image(0, read=True, write=True)
        if do_sil:
            self._ssbo(5, np.zeros(n * N, np.uint32))
        p = self._prog("objects.vert", "ids.frag", *(("FLOW",) if flow else ()), *(("SIL_BITS",) if bits else ()))
        set_uniforms(p, silhouettes=int(do_sil))
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        ctx.cull_face = "back"
        ctx.depth_func = "<"
        self._stencil("write")
        objects.draw(p, n)
        self._stencil(None)
        if not stencil_export(ctx):
            self._stencil_from_ids(L, f0, n, N)
        if not do_sil:
            return None
        gl.MemoryBarrier(C.ALL_BARRIER_BITS)
        return np.frombuffer(self._buffers[5].read(n * N * 4), np.uint32).reshape(n, N).astype(np.int32)

    def _stencil_from_ids(self, L: _Layers, f0: int, n: int, N: int) -> None:
        """The stencil the id pass writes where the driver has ``ARB_shader_stencil_export``: each
        pixel's visible object id (k + 1), copied from the id target one bit per pass."""
        ctx, gl, W, H = self.ctx, self.gl, self.width, self.height
        self._ssbo(4, self._full_tiles(f0, n))
        ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        self._use(ids=L.ids)
        L.fb_mark.use(W, H)
        p = self._prog("quad.vert", "stencil_ids.frag")
        gl.Enable(C.STENCIL_TEST)
        gl.StencilFunc(C.ALWAYS, 0xFF, 0xFF)
        gl.StencilOp(C.KEEP, C.KEEP, C.REPLACE)
        for b in range(int(N).bit_length()):  # ids 1..N
            gl.StencilMask(1 << b)
            set_uniforms(p, bit=b)
            self._quad(p, n)
        self._stencil(None)
        ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)

    def _colour(self, L: _Layers, objects, tiles: dict, f0: int, f1: int, N: int, rgb: bool) -> None:
        ctx, gl, W, H = self.ctx, self.gl, self.width, self.height
        n = f1 - f0
        moving = self._moving
        sel_obj, sel_objm, sel_all, sel_cast, sel_cobj = (_chunk(tiles[k], f0, f1)
                                                          for k in ("obj", "objm", "all", "cast", "cast_obj"))
        n_obj, n_objm, n_all, n_cast, n_cobj = len(sel_obj), len(sel_objm), len(sel_all), len(sel_cast), len(sel_cobj)
        # every layer starts as the background: the output planes whole; the colour whole when it is
        # read back, else only inside the changed tiles (the chroma pass reads it nowhere else)
        if rgb:
            copy_layers(gl, L.bg_rgba.glo, L.rgba.glo, n, W, H, moving)
        else:
            A = C.TEXTURE_2D_ARRAY
            for x0, y0, x1, y1, layer in sel_all[:, :5].tolist():
                gl.CopyImageSubData(L.bg_rgba.glo, A, 0, x0, y0, layer if moving else 0,
                                    L.rgba.glo, A, 0, x0, y0, layer, x1 - x0, y1 - y0, 1)
        copy_layers(gl, L.bg_y.glo, L.y.glo, n, W, H, moving)
        copy_layers(gl, L.bg_u.glo, L.u.glo, n, W // 2, H // 2, moving)
        copy_layers(gl, L.bg_v.glo, L.v.glo, n, W // 2, H // 2, moving)
        if N == 0:
            return
        if n_all == 0:
            return
        half = sel_all.copy()
        half[:, :4] //= 2
        self._ssbo(4, np.concatenate([sel_obj, sel_objm, sel_all, half, sel_cast, sel_cobj]))
        o_obj, o_objm, o_all = 0, n_obj, n_obj + n_objm
        o_half, o_cast = o_all + n_all, o_all + 2 * n_all
        o_cobj = o_cast + n_cast
        self._use(bg_a=L.bg_a, bg_key=L.bg_key, bg_amb=L.bg_amb, bg_nrm=L.bg_nrm, bg_d=L.bg_d, ids=L.ids, gbuf=L.gbuf,
                  bg_rgba=L.bg_rgba)
        # coverage: object ids per sample over the background's depth
        if n_objm:
            # inside the tiles every sample starts as background (id 0) at the background's depth,
            # so that static geometry hides the objects behind it (plain copies and clears)
            MS = L.ms_depth.target
            for x0, y0, x1, y1, layer in sel_objm[:, :5].tolist():
                gl.CopyImageSubData(L.ms_fill_depth.glo, MS, 0, x0, y0, layer if moving else 0,
                                    L.ms_depth.glo, MS, 0, x0, y0, layer, x1 - x0, y1 - y0, 1)
                gl.ClearTexSubImage(L.ms_ids.glo, 0, x0, y0, layer, x1 - x0, y1 - y0, 1, 0x8D94, C.UNSIGNED_BYTE, None)
            L.fb_cover.use(W, H)
            ctx.enable(ctx.DEPTH_TEST | ctx.CULL_FACE)
            ctx.cull_face = "back"
            objects.draw(self._prog("objects.vert", "ms_ids.frag"), n)
        ctx.disable(ctx.DEPTH_TEST | ctx.CULL_FACE)
        if "SHADOWS" in self._defines:
            # shadows: visibility and occlusion for the objects (the mask, lit and unoccluded first),
            # and the background re-shaded in the colour and Y planes; each caster's tiles, blended
            # by minimum (the darkest caster wins; overlapping tiles change nothing)
            # (cleared inside the changed tiles, where the shading passes read it: memsets cost less
            # than drawing the tiles)
            for x0, y0, x1, y1, layer in sel_all[:, :5].tolist():
                gl.ClearTexSubImage(L.vis.glo, 0, x0, y0, layer, x1 - x0, y1 - y0, 1, C.RGBA, C.UNSIGNED_BYTE, _LIT)
            L.fb_vis.use(W, H)
            ctx.enable(ctx.BLEND)
            gl.BlendEquationSeparate(0x8007, 0x8007)  # GL_MIN
            if self._volumes:
                self._shadow_volumes(n, N)
            elif n_cast:  # rectangles, the stencil telling background and objects apart
                gl.Enable(C.STENCIL_TEST)
                gl.StencilMask(0)
                gl.StencilFunc(C.EQUAL, 0, 0x7F)
                self._quad(self._prog("cast.vert", "shadow_mask.frag", "RECEIVER_BG", *self._defines), n_cast,
                           tile0=o_cast)
            if n_cobj:
                # on the objects: each caster's tiles on the objects it may shadow, their pixels only
                # (rectangles in both cases: the boxes along the light cover much more screen than
                # the objects, and llvmpipe pays for each 4x4 block a triangle covers, stencil-
                # rejected or not)
                gl.Enable(C.STENCIL_TEST)
                gl.StencilMask(0)
                gl.draw_buffers(1)
                gl.StencilFunc(0x0205, 0, 0x7F)  # GL_NOTEQUAL: an object (bit 7: the volumes' mark)
                self._quad(self._prog("cast.vert", "shadow_mask.frag", "RECEIVER_OBJ", *self._defines), n_cobj,
                           tile0=o_cobj)
                gl.draw_buffers(3)
            self._stencil(None)

            gl.BlendEquationSeparate(0x8006, 0x8006)  # GL_FUNC_ADD
            ctx.disable(ctx.BLEND)
        self._use(vis=L.vis)
        if n_obj:
            # each object, once per pixel, on its own pixels (stencil k + 1)
            # with its own pattern only compiled in (llvmpipe would compute every pattern)
            L.fb_obj_shade.use(W, H)
            base = self._defines + self._lights_define
            k_of = sel_obj[:, 6]
            for k in np.unique(k_of):
                first = int(np.argmax(k_of == k))
                count = int((k_of == k).sum())  # an object's tiles are contiguous (rows sorted by object)
                pattern = self._patterns[int(k)]
                noise = ("NOISE_PATTERNS",) if pattern in NOISE_PATTERNS else ()
                p = self._prog("objtile.vert", "obj_shade.frag", *base, *noise, f"PATTERN {PATTERNS.index(pattern)}")
                self._stencil("equal", int(k) + 1)
                self._quad(p, count, tile0=o_obj + first)
            # anti-aliasing: mark the pixels next to another id, resolve the samples there
            L.fb_mark.use(W, H)
            self._stencil("mark")
            self._quad(self._prog("quad.vert", "mark_edges.frag"), n_objm, tile0=o_objm)
            self._use(ms_ids=L.ms_ids, obj_shaded=L.obj_shaded)
            L.fb_resolve.use(W, H)
            self._stencil("equal", 255)
            p = self._prog("quad.vert", "resolve.frag", *self._defines)
            set_uniforms(p, samples=self.msaa)
            self._quad(p, n_objm, tile0=o_objm)
        self._stencil(None)
        # chroma of the changed tiles
        self._use(rgba=L.rgba)
        L.fb_chroma.use(W // 2, H // 2)
        self._quad(self._prog("quad.vert", "chroma.frag"), n_all, tile0=o_half, target=(W // 2, H // 2))


def _vertex_array(ctx, p, vbo, ibo, layout):
    """A vertex array of program p over interleaved float32 attributes ``layout`` ((name, floats),
    ...): the ones p does not use are skipped over (the compiler drops unused inputs)."""
    names = [a for a, _ in layout if p.get(a, None) is not None]
    fmt = " ".join(f"{k}f" if a in names else f"{4 * k}x" for a, k in layout)
    return ctx.vertex_array(p, [(vbo, fmt, *names)], ibo, index_element_size=4)


class _StaticDraw:
    """A static's mesh, texture and uniforms, for the passes that draw it."""

    def __init__(self, r: BatchedRenderer, st, index: int):
        self.r, self.kind = r, st.kind
        m = static_mesh(st)
        self.world = _world(st, m.positions)  # vertices in the world frame
        data = np.concatenate([m.positions, m.normals, m.uv], axis=1).astype(np.float32)
        self.vbo = r.ctx.buffer(data.tobytes())
        self.ibo = r.ctx.buffer(m.faces.astype(np.uint32).tobytes())
        # flipped as pyrender uploads it: the same texel at the same point of the floor
        self.tex = mipmapped_texture(r.ctx, r.gl, st.texture, flip=True) if st.texture is not None else None
        self.defines = ("TEXTURED",) if self.tex is not None else ()
        rough, ks = static_surface(st)
        self.uniforms = dict(M=pose_matrix(st.position, st.quaternion), color=np.asarray(st.color, np.float32)[:3],
                             rough=float(rough), ks=float(ks), static_id=index + 1)
        self.vaos: dict[int, object] = {}

    def draw(self, p, instances: int, bg0: int = 0) -> None:
        set_uniforms(p, bg_frame0=bg0, **self.uniforms)
        (self.tex or self.r._dummy_rgb).use(UNITS["tex"])
        vao = self.vaos.get(id(p))
        if vao is None:
            vao = self.vaos[id(p)] = _vertex_array(self.r.ctx, p, self.vbo, self.ibo, (("position", 3), ("normal", 3), ("uv", 2)))
        vao.render(instances=instances)

    def release(self) -> None:
        for v in self.vaos.values():
            v.release()
        for o in (self.vbo, self.ibo, self.tex):
            if o is not None:
                o.release()


class _ObjectArrays:
    """Every object's mesh in one vertex buffer (body frame, with its object index)."""

    def __init__(self, r: BatchedRenderer, meshes):
        self.r = r
        verts, idx, off = [], [], 0
        for k, m in enumerate(meshes):
            verts.append(np.concatenate([m.positions, m.normals, np.full((len(m.positions), 1), k, np.float32)], axis=1))
            idx.append(m.faces.reshape(-1).astype(np.uint32) + off)
            off += len(m.positions)
        self.vbo = r.ctx.buffer(np.concatenate(verts).astype(np.float32).tobytes())
        self.ibo = r.ctx.buffer(np.concatenate(idx).tobytes())
        self.count = sum(len(i) for i in idx)
        self.vaos: dict[int, object] = {}

    def draw(self, p, instances: int) -> None:
        vao = self.vaos.get(id(p))
        if vao is None:
            vao = self.vaos[id(p)] = _vertex_array(self.r.ctx, p, self.vbo, self.ibo, (("position", 3), ("normal", 3), ("obj", 1)))
        vao.render(vertices=self.count, instances=instances)

    def release(self) -> None:
        for v in self.vaos.values():
            v.release()
        self.vbo.release()
        self.ibo.release()


class _Outputs:
    """The video's output arrays, filled chunk by chunk from the layered targets."""

    def __init__(self, T, N, H, W, rgb, masks, depth, flow, silhouettes, depth_dtype):
        self.T, self.H, self.W = T, H, W
        self.rgba = np.empty((T, H, W, 4), np.uint8) if rgb else None
        self.y = np.empty((T, H, W), np.uint8)
        self.u = np.empty((T, H // 2, W // 2), np.uint8)
        self.v = np.empty((T, H // 2, W // 2), np.uint8)
        self.ids = np.empty((T, H, W), np.uint8) if masks else None
        self.z = np.empty((T, H, W), np.float16 if depth_dtype == "float16" else np.float32) if depth else None
        self.flow = np.empty((T, H, W, 2), np.float16) if flow else None
        self.sil = np.full((T, N), -1, np.int32) if silhouettes else None

    def read(self, L: _Layers, f0: int, f1: int, counts) -> None:
        for tex, arr in ((L.rgba, self.rgba), (L.y, self.y), (L.u, self.u), (L.v, self.v), (L.ids, self.ids),
                         (L.z, self.z), (L.flow, self.flow)):
            if arr is not None:
                _read_layers(tex, arr[f0:f1])
        if self.sil is not None and counts is not None:
            m = min(counts.shape[1], MAX_BITS)
            self.sil[f0:f1, :m] = counts[:, :m]

    def frames(self) -> Frames:
        # GL rows run bottom-up: flip to image rows
        T, H, W = self.T, self.H, self.W
        # I420: the Y plane, then U and V (H/2 x W/2 each), packed in [T, H * 3 / 2, W] as the
        # encoder reads it (flat: U and V need not fill whole rows of W when H / 2 is odd)
        yuv = np.empty((T, H * W * 3 // 2), np.uint8)
        n, q = H * W, H * W // 4
        yuv[:, :n].reshape(T, H, W)[:] = self.y[:, ::-1]
        yuv[:, n:n + q].reshape(T, H // 2, W // 2)[:] = self.u[:, ::-1]
        yuv[:, n + q:].reshape(T, H // 2, W // 2)[:] = self.v[:, ::-1]
        yuv = yuv.reshape(T, H * 3 // 2, W)
        return Frames(
            rgb=self.rgba[:, ::-1, :, :3] if self.rgba is not None else None,
            masks=self.ids[:, ::-1] if self.ids is not None else None,
            depth=self.z[:, ::-1] if self.z is not None else None,
            unoccluded=self.sil,
            flow=self.flow[:, ::-1] if self.flow is not None else None,
            yuv420=yuv,
        )


def _world(st, positions: np.ndarray) -> np.ndarray:
    """A static's vertices in the world frame."""
    m = pose_matrix(st.position, st.quaternion)
    return positions.astype(np.float64) @ m[:3, :3].T + m[:3, 3]


def _ao_reach(centers: np.ndarray, occluder: np.ndarray, static_draws) -> np.ndarray:
    """[T, N] reach of each object's contact occlusion (shaders/common.glsl caster_ao: AO_REACH
    occluder radii), 0 where every static's box lies farther than that from its centre (the
    occlusion is exactly none on the statics there)."""
    reach = np.broadcast_to(AO_REACH * np.asarray(occluder, np.float64), centers.shape[:-1])
    near = np.zeros(centers.shape[:-1], bool)
    for d in static_draws:
        lo, hi = d.world.min(axis=0), d.world.max(axis=0)
        gap = np.linalg.norm(np.maximum(0.0, np.maximum(lo - centers, centers - hi)), axis=-1)
        near |= gap <= reach * 1.02 + 1e-4
    return np.where(near, reach, 0.0)


def _light_outline_radius(points: np.ndarray, centers: np.ndarray, travel: np.ndarray) -> np.ndarray:
    """[T, N] the farthest of each object's points [T, N, K, 3] (NaN pads) from the line through its
    centre along the light: the radius of its outline in its shadow map (no more than its bounding
    sphere's, less for boxes, cylinders, capsules seen along their long axes)."""
    L = np.asarray(travel, np.float64)
    L = L / np.linalg.norm(L)
    w = points - centers[:, :, None, :]
    d2 = np.einsum("...i,...i->...", w, w) - (w @ L) ** 2  # squared distance from the axis
    return np.sqrt(np.maximum(np.nanmax(d2, axis=-1), 0.0))


def _chunk(tiles: np.ndarray, f0: int, f1: int) -> np.ndarray:
    sel = tiles[(tiles[:, 5] >= f0) & (tiles[:, 5] < f1)].copy()
    sel[:, 4] = sel[:, 5] - f0
    return sel


def _read_layers(tex, out: np.ndarray) -> None:
    """Read the first ``len(out)`` layers of an array texture into ``out`` (one call)."""
    n = out.shape[0]
    if n == tex.layers:
        tex.read_into(memoryview(out.reshape(-1).view(np.uint8)), alignment=1)
    else:
        per = out[0].nbytes
        buf = np.empty(per * tex.layers, np.uint8)
        tex.read_into(memoryview(buf), alignment=1)
        out.reshape(-1).view(np.uint8)[:] = buf[: per * n]
