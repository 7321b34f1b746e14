"""Offscreen rendering with pyrender (EGL): RGB, instance masks, metric depth.

One renderer serves every engine: it reads poses from a Trajectory and never steps physics.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simgen.shapes import body_mesh
from simgen.spec import SceneSpec, Trajectory, pose_matrix

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

_SHADER_DIR = Path(__file__).resolve().parent / "shaders"
_CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])  # OpenCV camera axes -> OpenGL camera axes


@dataclass
class Frames:
    rgb: np.ndarray  # uint8 [T, H, W, 3]
    masks: np.ndarray | None  # uint8 [T, H, W]; 0 background/static, k = object k
    depth: np.ndarray | None  # float32 [T, H, W]; metres along the optical axis, 0 = no surface


def check_egl() -> None:
    """Fail early, with what to install, when offscreen OpenGL is not available."""
    import ctypes.util

    missing = [lib for lib in ("EGL", "GL") if ctypes.util.find_library(lib) is None]
    if missing:
        from simgen.errors import UserError

        raise UserError(
            f"Offscreen rendering needs the system libraries {', '.join('lib' + m for m in missing)}, which were not found. "
            "On Debian/Ubuntu install them with: apt-get install -y libegl1 libgl1-mesa-dri "
            "(a GPU driver's EGL works too). Then set PYOPENGL_PLATFORM=egl (simgen sets it by default)."
        )


def _make_classes():
    import pyrender
    from OpenGL import GL
    from pyrender.shader_program import ShaderProgramCache

    class FastShaderCache(ShaderProgramCache):
        """pyrender's shader cache, with mesh.frag taken from simgen's shader folder."""

        def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
            if fragment_shader == "mesh.frag":
                fragment_shader = str(_SHADER_DIR / "mesh.frag")
            return super().get_program(vertex_shader, fragment_shader, geometry_shader, defines)

    class LeanRenderer(pyrender.Renderer):
        """Reads back only the buffers a pass needs (see module docstring)."""

        read_rgb = True
        read_seg = False
        read_depth = False

        def _read_main_framebuffer(self, scene, flags):
            w, h = self._main_fb_dims
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._main_fb_ms)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._main_fb)
            GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
            if self.read_depth:
                GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_DEPTH_BUFFER_BIT, GL.GL_NEAREST)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._main_fb)
            GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
            out = {}
            if self.read_rgb:
                buf = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
                out["rgb"] = np.frombuffer(buf, np.uint8).reshape(h, w, 3)[::-1]
            if self.read_seg:
                buf = GL.glReadPixels(0, 0, w, h, GL.GL_RED, GL.GL_UNSIGNED_BYTE)
                out["seg"] = np.frombuffer(buf, np.uint8).reshape(h, w)[::-1]
            if self.read_depth:
                buf = GL.glReadPixels(0, 0, w, h, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT)
                out["zbuf"] = np.frombuffer(buf, np.float32).reshape(h, w)[::-1]
            return out

    return pyrender, FastShaderCache, LeanRenderer


class Renderer:
    """Renders SceneSpec + Trajectory into Frames. Create one per process and reuse it."""

    def __init__(self, width: int, height: int, shading: str = "fast"):
        check_egl()
        pyrender, FastShaderCache, LeanRenderer = _make_classes()
        self.pyrender = pyrender
        self.width, self.height = int(width), int(height)
        self._offscreen = pyrender.OffscreenRenderer(self.width, self.height)
        # pyrender has no hook for a Renderer subclass: re-class the one it made (no extra state)
        self._offscreen._renderer.__class__ = LeanRenderer
        if shading == "fast":
            self._offscreen._renderer._program_cache = FastShaderCache()
        self._lean = self._offscreen._renderer

    def close(self) -> None:
        if self._offscreen is not None:
            self._offscreen.delete()
            self._offscreen = None

    # -- scene construction -------------------------------------------------------------------
    def _object_mesh(self, obj):
        pr = self.pyrender
        tm = body_mesh(obj)
        rgb = np.asarray(obj.color, dtype=np.float32)
        if obj.shape in ("sphere", "cylinder", "capsule"):
            # smooth normals, and a two-tone octant pattern so that rotation of round bodies shows
            v = np.asarray(tm.vertices)
            shade = np.where(np.sign(v[:, 0]) * np.sign(v[:, 1]) * np.sign(v[:, 2]) < 0, 0.72, 1.0)
            cols = np.concatenate([np.clip(rgb[None, :] * shade[:, None], 0, 1), np.ones((len(v), 1))], axis=1)
            mat = pr.MetallicRoughnessMaterial(baseColorFactor=np.ones(4, np.float32), metallicFactor=0.0, roughnessFactor=0.55)
            prim = pr.Primitive(positions=v, normals=np.asarray(tm.vertex_normals), color_0=cols.astype(np.float32),
                                indices=np.asarray(tm.faces), material=mat)
            return pr.Mesh(primitives=[prim])
        mat = pr.MetallicRoughnessMaterial(baseColorFactor=np.append(rgb, 1.0).astype(np.float32), metallicFactor=0.0,
                                           roughnessFactor=0.55)
        return pr.Mesh.from_trimesh(tm, material=mat, smooth=False)

    def _static_mesh(self, st):
        import trimesh

        pr = self.pyrender
        if st.kind == "plane":
            hx, hy = float(st.size[0]), float(st.size[1])
            verts = np.array([[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]], dtype=np.float64)
            faces = np.array([[0, 1, 2], [0, 2, 3]])
        else:
            box = trimesh.creation.box(extents=2.0 * np.asarray(st.size[:3], float))
            box = box.unwrap() if hasattr(box, "unwrap") else box
            verts, faces = np.asarray(box.vertices), np.asarray(box.faces)
        tm = trimesh.Trimesh(vertices=verts, faces=faces, process=False)
        if st.texture is not None:
            uv = verts[:, :2] / float(st.texture_scale)
            if st.kind != "plane":  # boxes: planar projection per dominant axis is enough for a ramp
                uv = np.where(np.abs(verts[:, 2:3]) > 0, verts[:, :2], verts[:, 1:3]) / float(st.texture_scale)
            tex = pr.Texture(source=st.texture, source_channels="RGB",
                             sampler=pr.Sampler(wrapS=10497, wrapT=10497))  # GL_REPEAT
            # note: pyrender needs float factors; a list of ints silently zeroes the colour
            mat = pr.MetallicRoughnessMaterial(baseColorTexture=tex, baseColorFactor=np.ones(4, np.float32),
                                               metallicFactor=0.0, roughnessFactor=0.9, doubleSided=True)
            prim = pr.Primitive(positions=verts, normals=np.asarray(tm.vertex_normals), indices=faces,
                                texcoord_0=uv, material=mat)
            return pr.Mesh(primitives=[prim])
        mat = pr.MetallicRoughnessMaterial(baseColorFactor=np.append(np.asarray(st.color, np.float32), 1.0),
                                           metallicFactor=0.0, roughnessFactor=0.9, doubleSided=True)
        return pr.Mesh.from_trimesh(tm, material=mat, smooth=False)

    def _build(self, spec: SceneSpec):
        pr = self.pyrender
        scene = pr.Scene(bg_color=[*np.asarray(spec.background, float).tolist(), 1.0],
                         ambient_light=np.asarray(spec.ambient_light, float))
        self._static_nodes = [
            scene.add(self._static_mesh(st), pose=pose_matrix(st.position, st.quaternion)) for st in spec.statics if st.visible
        ]
        nodes = [scene.add(self._object_mesh(o), pose=np.eye(4)) for o in spec.objects]
        cam = spec.camera
        if cam.projection == "orthographic":
            ymag = cam.ortho_height / 2.0
            camera = pr.OrthographicCamera(xmag=ymag * cam.width / cam.height, ymag=ymag, znear=cam.znear, zfar=cam.zfar)
        else:
            camera = pr.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.width / cam.height, znear=cam.znear, zfar=cam.zfar)
        scene.add(camera, pose=np.asarray(cam.cam_to_world) @ _CV_TO_GL)
        for light in spec.lights:
            d = np.asarray(light.direction, dtype=np.float64)
            d = d / np.linalg.norm(d)
            # pyrender lights shine along their local -z axis
            z = -d
            x = np.cross([0.0, 0.0, 1.0], z) if abs(z[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
            x /= np.linalg.norm(x)
            pose = np.eye(4)
            pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
            scene.add(pr.DirectionalLight(color=np.asarray(light.color, float), intensity=float(light.intensity)), pose=pose)
        return scene, nodes

    # -- rendering -------------------------------------------------------------------------------
    def _linear_depth(self, zbuf: np.ndarray, cam) -> np.ndarray:
        bg = zbuf >= 1.0
        ndc = 2.0 * zbuf.astype(np.float64) - 1.0
        n, f = cam.znear, cam.zfar
        if cam.projection == "orthographic":
            depth = (ndc * (f - n) + (f + n)) / 2.0
        else:
            depth = 2.0 * n * f / (f + n - ndc * (f - n))
        depth[bg] = 0.0
        return depth.astype(np.float32)

    def render(self, spec: SceneSpec, traj: Trajectory, masks: bool = True, depth: bool = True) -> Frames:
        if (spec.camera.width, spec.camera.height) != (self.width, self.height):
            raise ValueError("camera size does not match the renderer size")
        pr = self.pyrender
        scene, nodes = self._build(spec)
        seg_map = {node: (i + 1,) * 3 for i, node in enumerate(nodes)}
        seg_map.update({node: (0, 0, 0) for node in self._static_nodes})  # id 0, but in the depth
        if len(nodes) > 255:
            raise ValueError("at most 255 objects per scene (masks are uint8)")
        T = traj.positions.shape[0]
        H, W = self.height, self.width
        rgb = np.empty((T, H, W, 3), np.uint8)
        seg = np.empty((T, H, W), np.uint8) if masks else None
        zbuf = np.empty((T, H, W), np.float32) if depth else None
        poses = pose_matrix(traj.positions, traj.quaternions)  # [T, N, 4, 4]
        lean, off = self._lean, self._offscreen
        for t in range(T):
            for i, node in enumerate(nodes):
                scene.set_pose(node, poses[t, i])
            lean.read_rgb, lean.read_seg, lean.read_depth = True, False, False
            rgb[t] = off.render(scene)["rgb"]
            if masks or depth:
                lean.read_rgb, lean.read_seg, lean.read_depth = False, masks, depth
                out = off.render(scene, flags=pr.RenderFlags.SEG, seg_node_map=seg_map)
                if masks:
                    seg[t] = out["seg"]
                if depth:
                    zbuf[t] = out["zbuf"]
        lin = self._linear_depth(zbuf, spec.camera) if depth else None
        # GL buffers of this scene's meshes are freed by pyrender when the next scene is rendered
        return Frames(rgb=rgb, masks=seg, depth=lin)
