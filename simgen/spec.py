"""Plain-data description of one scene (SceneSpec) and of what an engine did with it (Trajectory).

Nothing here imports a physics engine or a renderer. A scene sampler builds a SceneSpec from
``(scene config, rng)``; an engine turns it into a Trajectory; the renderer turns both into pixels.

Conventions (world frame): right-handed, z up, metres, kilograms, seconds, radians.
Quaternions are scalar-last ``(x, y, z, w)``. Positions are centres of mass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SHAPES = ("sphere", "box", "cylinder", "capsule", "mesh")


@dataclass
class MeshData:
    """A triangle mesh in the body frame: origin at the centre of mass, axes along the principal
    axes of inertia (so the inertia tensor is diagonal)."""

    vertices: np.ndarray  # float64 [V, 3]
    faces: np.ndarray  # int32 [F, 3]
    name: str = "mesh"


@dataclass
class MaterialSpec:
    """How a surface looks, independent of any renderer and of the physics.

    ``pattern`` is laid out in the body frame (it turns with the body, so rotation shows):
    ``plain``, ``octants`` (two tones by octant), ``stripes``, ``checks``, ``marble``, ``wood``,
    ``noise``. ``color2`` is the pattern's second colour (None: a darker shade of the object colour),
    ``scale`` metres per pattern period, ``seed`` an offset of the pattern (noise phase).
    ``roughness`` in [0, 1] (0 a tight highlight, 1 matte) and ``specular`` in [0, 1] (highlight
    strength). ``name`` is a caption word ("striped", "marbled", ...), empty for plain."""

    pattern: str = "plain"
    color2: np.ndarray | None = None
    scale: float = 0.1
    roughness: float = 0.55
    specular: float = 0.25
    seed: float = 0.0
    name: str = ""


@dataclass
class ObjectSpec:
    """One dynamic rigid body.

    ``size`` by shape (metres): sphere ``[r]``; box ``[hx, hy, hz]`` half extents; cylinder and
    capsule ``[r, half_length]`` along the body z axis (the capsule's half length excludes the caps);
    mesh: ``[scale]`` (already applied to ``mesh.vertices``).
    """

    shape: str
    size: np.ndarray
    mass: float
    friction: float
    restitution: float
    color: np.ndarray  # RGB in [0, 1]
    position: np.ndarray  # [3] centre of mass
    quaternion: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    linear_velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    angular_velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    mesh: MeshData | None = None
    inertia: np.ndarray | None = None  # principal moments [3] (kg m^2); None: engine computes
    color_name: str = ""
    material_name: str = ""
    texture: np.ndarray | None = None  # uint8 [h, w, 3] surface texture, optional
    material: MaterialSpec | None = None  # None: the renderer's default look for the shape


@dataclass
class StaticSpec:
    """Static (infinite mass) geometry: the floor, ramps, walls.

    ``kind`` is ``plane`` (size ``[hx, hy]``, the collision plane is infinite) or ``box``
    (size = half extents). Friction and restitution are the values given to the engine.
    """

    name: str
    kind: str
    size: np.ndarray
    position: np.ndarray
    quaternion: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    friction: float = 1.0
    restitution: float = 1.0
    color: np.ndarray = field(default_factory=lambda: np.array([0.6, 0.6, 0.6]))
    texture: np.ndarray | None = None  # uint8 [h, w, 3]
    texture_scale: float = 1.0  # metres per texture repeat
    visible: bool = True
    material: MaterialSpec | None = None  # roughness / specular of the surface (pattern comes from texture)


@dataclass
class CameraSpec:
    """A pinhole (or orthographic) camera.

    ``cam_to_world`` uses the OpenCV convention: x right, y down, z forward (optical axis).
    ``yfov`` is the vertical field of view in radians (perspective); ``ortho_height`` is the height
    in metres of the visible slab (orthographic).
    """

    width: int
    height: int
    cam_to_world: np.ndarray  # [4, 4]
    yfov: float = 0.8
    znear: float = 0.05
    zfar: float = 50.0
    projection: str = "perspective"  # or "orthographic"
    ortho_height: float = 2.0
    trajectory: np.ndarray | None = None  # [T, 4, 4] cam_to_world per frame (camera motion); None: static

    def poses(self, frames: int) -> np.ndarray:
        """cam_to_world of every frame, [frames, 4, 4] (the static pose repeated when the camera does not move)."""
        if self.trajectory is not None:
            traj = np.asarray(self.trajectory, dtype=np.float64)
            if traj.shape != (frames, 4, 4):
                raise ValueError(f"camera trajectory has shape {traj.shape}, expected ({frames}, 4, 4)")
            return traj
        return np.repeat(np.asarray(self.cam_to_world, dtype=np.float64)[None], frames, axis=0)

    def intrinsics(self) -> np.ndarray:
        """3x3 pixel-unit intrinsics, OpenCV convention: pixel (u, v) has its centre at integer
        coordinates, so the principal point of a W x H image is ((W - 1) / 2, (H - 1) / 2).

        For an orthographic camera the matrix maps camera-frame metres to pixels:
        ``u = fx * x + cx`` (no division by depth)."""
        if self.projection == "orthographic":
            f = self.height / self.ortho_height
        else:
            f = 0.5 * self.height / np.tan(0.5 * self.yfov)
        return np.array(
            [[f, 0.0, (self.width - 1) / 2.0], [0.0, f, (self.height - 1) / 2.0], [0.0, 0.0, 1.0]]
        )


@dataclass
class LightSpec:
    """A directional light shining along ``direction`` (world frame; the light travels that way, so the
    direction *toward* the light is ``-direction``). ``cast_shadows`` marks the key light whose shadows
    the renderer draws (when shadows are on)."""

    direction: np.ndarray
    intensity: float = 3.0
    color: np.ndarray = field(default_factory=lambda: np.ones(3))
    cast_shadows: bool = False


@dataclass
class EnvironmentSpec:
    """What the camera sees where there is no geometry, and the ambient light (renderer-agnostic).

    ``kind``: ``flat`` (``zenith`` everywhere), ``sky`` (a gradient by view elevation: ``horizon`` at
    the horizon to ``zenith`` overhead, ``ground`` below the horizon), ``image`` (``image`` as the
    backdrop: ``mapping`` ``equirect`` looks it up by view direction, rotated by ``yaw`` radians about
    z; ``screen`` stretches it over the frame). Ambient light is hemispheric: ``ambient_sky`` from
    above, ``ambient_ground`` from below (linear RGB). ``name`` is a caption/record word."""

    kind: str = "flat"
    zenith: np.ndarray = field(default_factory=lambda: np.array([0.62, 0.72, 0.85]))
    horizon: np.ndarray = field(default_factory=lambda: np.array([0.62, 0.72, 0.85]))
    ground: np.ndarray = field(default_factory=lambda: np.array([0.62, 0.72, 0.85]))
    image: np.ndarray | None = None  # uint8 [h, w, 3]
    mapping: str = "equirect"
    yaw: float = 0.0
    ambient_sky: np.ndarray = field(default_factory=lambda: np.full(3, 0.35))
    ambient_ground: np.ndarray = field(default_factory=lambda: np.full(3, 0.35))
    name: str = "flat"


@dataclass
class SceneSpec:
    family: str
    objects: list[ObjectSpec]
    statics: list[StaticSpec]
    camera: CameraSpec
    lights: list[LightSpec]
    gravity: np.ndarray  # [3] m/s^2
    fps: float
    frames: int
    physics_hz: float
    ambient_light: np.ndarray = field(default_factory=lambda: np.full(3, 0.35))
    background: np.ndarray = field(default_factory=lambda: np.array([0.62, 0.72, 0.85]))
    # None: a flat ``background`` and a uniform ``ambient_light`` (custom scenes need not set it)
    environment: EnvironmentSpec | None = None
    params: dict[str, Any] = field(default_factory=dict)  # the family's own parameters
    caption: str = ""
    tags: list[str] = field(default_factory=list)
    split: str = "id"

    @property
    def duration(self) -> float:
        return (self.frames - 1) / self.fps


@dataclass
class ContactEvent:
    """One contact onset between two bodies.

    ``body_a``/``body_b`` are 1-based object ids (as in the masks) or negative ids for static
    geometry: -1 is ``statics[0]``, -2 ``statics[1]``, ...; ``frame`` is fractional
    (time * fps); ``impulse`` is the normal impulse summed over the onset step (N s)."""

    frame: float
    body_a: int
    body_b: int
    position: np.ndarray
    normal: np.ndarray
    impulse: float


@dataclass
class Trajectory:
    """What the engine did, sampled at the render frame times ``t_f = f / fps``."""

    times: np.ndarray  # [T] s
    positions: np.ndarray  # [T, N, 3]
    quaternions: np.ndarray  # [T, N, 4] scalar-last
    linear_velocity: np.ndarray  # [T, N, 3] world frame
    angular_velocity: np.ndarray  # [T, N, 3] world frame
    mass: np.ndarray  # [N] as simulated
    friction: np.ndarray  # [N] as simulated
    restitution: np.ndarray  # [N] as simulated
    contacts: list[ContactEvent]
    physics_hz: float
    engine: str
    extras: dict[str, Any] = field(default_factory=dict)

    def first_contact_frame(self, n_objects: int) -> np.ndarray:
        """Fractional frame of each object's first contact with anything; NaN if none."""
        out = np.full(n_objects, np.nan, dtype=np.float32)
        for c in self.contacts:
            for b in (c.body_a, c.body_b):
                if b >= 1 and np.isnan(out[b - 1]):
                    out[b - 1] = c.frame
        return out


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices from scalar-last quaternions; ``q`` is [..., 4]."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - z * w)
    m[..., 0, 2] = 2 * (x * z + y * w)
    m[..., 1, 0] = 2 * (x * y + z * w)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - x * w)
    m[..., 2, 0] = 2 * (x * z - y * w)
    m[..., 2, 1] = 2 * (y * z + x * w)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def pose_matrix(position: np.ndarray, quaternion: np.ndarray) -> np.ndarray:
    """4x4 homogeneous transforms from positions [..., 3] and quaternions [..., 4]."""
    position = np.asarray(position, dtype=np.float64)
    rot = quat_to_matrix(quaternion)
    out = np.zeros(rot.shape[:-2] + (4, 4))
    out[..., :3, :3] = rot
    out[..., :3, 3] = position
    out[..., 3, 3] = 1.0
    return out


def project_points(points_world: np.ndarray, camera: CameraSpec, cam_to_world: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Project world points [..., 3] to pixel coordinates [..., 2] and camera-frame depth [...].

    Pixel coordinates follow the OpenCV convention of :meth:`CameraSpec.intrinsics`. ``cam_to_world``
    (default ``camera.cam_to_world``) may be [..., 4, 4], broadcast against the points' leading axes."""
    c2w = np.asarray(camera.cam_to_world if cam_to_world is None else cam_to_world, dtype=np.float64)
    w2c = np.linalg.inv(c2w)
    p = np.asarray(points_world, dtype=np.float64)
    pc = np.einsum("...ij,...j->...i", w2c[..., :3, :3], p) + w2c[..., :3, 3]
    k = camera.intrinsics()
    z = pc[..., 2]
    if camera.projection == "orthographic":
        u = k[0, 0] * pc[..., 0] + k[0, 2]
        v = k[1, 1] * pc[..., 1] + k[1, 2]
    else:
        u = k[0, 0] * pc[..., 0] / z + k[0, 2]
        v = k[1, 1] * pc[..., 1] / z + k[1, 2]
    return np.stack([u, v], axis=-1), z


def project_trajectory(positions: np.ndarray, camera: CameraSpec) -> tuple[np.ndarray, np.ndarray]:
    """Project per-frame points [T, ..., 3] with the camera pose of each frame (``camera.poses(T)``)."""
    p = np.asarray(positions, dtype=np.float64)
    poses = camera.poses(p.shape[0]).reshape((p.shape[0],) + (1,) * (p.ndim - 2) + (4, 4))
    return project_points(p, camera, poses)
