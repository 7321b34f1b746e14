"""MuJoCo engine against analytic answers: exact free flight and throws, world-frame velocities, meshes,
contacts, Coulomb friction, parameters read back as simulated."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from simgen.engines import make_engine
from simgen.shapes import principal_inertia, random_convex_mesh
from simgen.spec import CameraSpec, ObjectSpec, SceneSpec, StaticSpec

G = 9.81


def ball(z0=3.0, v0=(0.0, 0.0, 0.0), w0=(0.0, 0.0, 0.0), radius=0.1, mass=2.0, restitution=0.5, friction=0.6, shape="sphere",
         size=None, quat=(0.0, 0.0, 0.0, 1.0)):
    size = np.array([radius]) if size is None else np.asarray(size, float)
    return ObjectSpec(shape=shape, size=size, mass=mass, friction=friction, restitution=restitution, color=np.ones(3),
                      position=np.array([0.0, 0.0, z0]), quaternion=np.asarray(quat, float), linear_velocity=np.array(v0, float),
                      angular_velocity=np.array(w0, float), inertia=principal_inertia(shape, size, mass))


def scene(objects, physics_hz=240.0, fps=16.0, frames=24, statics=None):
    floor = StaticSpec(name="floor", kind="plane", size=np.array([10.0, 10.0]), position=np.zeros(3))
    cam = CameraSpec(width=64, height=64, cam_to_world=np.eye(4))
    return SceneSpec(family="test", objects=list(objects), statics=[floor] if statics is None else statics, camera=cam,
                     lights=[], gravity=np.array([0, 0, -G]), fps=fps, frames=frames, physics_hz=physics_hz)


def before_first_contact(traj, n=1):
    first = np.nanmin(traj.first_contact_frame(n))
    assert np.isfinite(first), "the object should reach the floor within the clip"
    return np.arange(len(traj.times)) < int(np.floor(first))


@pytest.mark.parametrize("physics_hz", [240.0, 480.0])
def test_free_fall_is_the_parabola(physics_hz):
    spec = scene([ball(v0=(0.4, -0.2, 1.5), w0=(0.0, 3.0, 0.0))], physics_hz=physics_hz)
    traj = make_engine("mujoco", physics_hz=physics_hz).simulate(spec)
    assert traj.engine == "mujoco"
    before = before_first_contact(traj)
    assert before.sum() >= 8
    t = traj.times[before][:, None]
    v0, g = np.array([0.4, -0.2, 1.5]), np.array([0.0, 0.0, -G])
    assert np.abs(traj.positions[before, 0] - (np.array([0, 0, 3.0]) + v0 * t + 0.5 * g * t**2)).max() < 1e-9
    assert np.abs(traj.linear_velocity[before, 0] - (v0 + g * t)).max() < 1e-9
    assert traj.angular_velocity[before, 0, 1] == pytest.approx(3.0, abs=1e-9)  # no angular damping


def test_throw_is_linear_in_x_and_quadratic_in_z():
    spec = scene([ball(z0=0.5, v0=(2.0, 0.5, 3.0))], fps=48.0, frames=48)
    traj = make_engine("mujoco").simulate(spec)
    before = before_first_contact(traj)
    t, p = traj.times[before], traj.positions[before, 0]
    assert before.sum() >= 12
    for axis, v in ((0, 2.0), (1, 0.5)):
        fit = np.polyfit(t, p[:, axis], 1)
        assert fit[0] == pytest.approx(v, rel=1e-9)
        assert np.abs(np.polyval(fit, t) - p[:, axis]).max() < 1e-9
    c2, c1, c0 = np.polyfit(t, p[:, 2], 2)
    assert 2 * c2 == pytest.approx(-G, rel=1e-9)
    assert c1 == pytest.approx(3.0, rel=1e-9) and c0 == pytest.approx(0.5, abs=1e-9)  # no g dt / 2 offset


def test_angular_velocity_is_world_frame_and_quaternions_scalar_last():
    """A box tilted 90 deg about x spins about its own (body) z axis, which points along world -y:
    MuJoCo stores that spin in the body frame; the trajectory must give it in the world frame."""
    s = np.sqrt(0.5)
    q = np.array([s, 0.0, 0.0, s])  # x, y, z, w: +90 deg about x
    w_world = np.array([0.0, -4.0, 0.0])  # = body z axis rotated into the world
    box = ball(z0=3.0, shape="box", size=(0.1, 0.15, 0.2), quat=q, w0=w_world)
    traj = make_engine("mujoco").simulate(scene([box], frames=8))
    assert traj.quaternions[0, 0] == pytest.approx(q, abs=1e-12)
    assert traj.angular_velocity[:, 0] == pytest.approx(np.tile(w_world, (8, 1)), abs=1e-9)  # a principal axis: steady
    t = traj.times[-1]
    ang = -4.0 * t
    spin = np.array([0.0, np.sin(ang / 2), 0.0, np.cos(ang / 2)])  # about +y by -4t == about -y by 4t

    def qmul(a, b):
        ax, ay, az, aw = a
        bx, by, bz, bw = b
        return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                         aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])

    assert abs(abs(np.dot(qmul(spin, q), traj.quaternions[-1, 0])) - 1.0) < 1e-6


def test_mesh_object_falls_and_lands_on_its_hull():
    rng = np.random.default_rng(3)
    mesh = random_convex_mesh(rng)
    mesh.vertices = mesh.vertices * 0.15
    obj = ObjectSpec(shape="mesh", size=np.array([0.15]), mass=1.0, friction=0.8, restitution=0.0, color=np.ones(3),
                     position=np.array([0.0, 0.0, 0.6]), mesh=mesh, inertia=principal_inertia("mesh", np.array([0.15]), 1.0, mesh))
    traj = make_engine("mujoco").simulate(scene([obj], frames=48))
    from simgen.spec import quat_to_matrix

    R = quat_to_matrix(traj.quaternions[-1, 0])
    world = mesh.vertices @ R.T + traj.positions[-1, 0]
    assert world[:, 2].min() == pytest.approx(0.0, abs=1e-3)  # at rest on its lowest hull vertex
    assert np.abs(traj.linear_velocity[-1, 0]).max() < 1e-3


def test_contacts_are_onsets_with_normal_and_impulse():
    spec = scene([ball(z0=1.0, restitution=0.0)], frames=32)
    traj = make_engine("mujoco").simulate(spec)
    floor = [c for c in traj.contacts if c.body_a == 1 and c.body_b == -1]
    assert len(floor) == 1  # one landing, not one event per step of resting contact
    t_hit = np.sqrt(2 * (1.0 - 0.1) / G)
    assert floor[0].frame == pytest.approx(t_hit * spec.fps, abs=1e-3)
    assert floor[0].normal == pytest.approx([0, 0, 1], abs=1e-6)  # from the floor (b) to the ball (a)
    assert floor[0].impulse == pytest.approx(2.0 * G * t_hit, rel=1e-3)  # m v: an inelastic landing
    top = ball(z0=1.0, restitution=0.0)
    bottom = ball(z0=0.1, restitution=0.0)
    traj = make_engine("mujoco").simulate(scene([bottom, top], frames=32))
    pair = [c for c in traj.contacts if (c.body_a, c.body_b) == (2, 1)]
    assert pair and pair[0].normal == pytest.approx([0, 0, 1], abs=1e-3)  # from body_b to body_a


@pytest.mark.parametrize("theta_deg,mu,v0", [(30.0, 0.3, 0.0), (13.0, 0.35, -1.6), (25.0, 0.6, 0.0)])
def test_coulomb_friction_slides_and_sticks_without_hopping(theta_deg, mu, v0):
    """A box on an incline: g (sin th - mu cos th) down it (mu cos th decelerates a box going up), stuck
    when tan th < mu and at rest; it stays on the surface (MuJoCo's own friction made it hop)."""
    th = np.radians(theta_deg)
    q = np.array([0.0, np.sin(th / 2), 0.0, np.cos(th / 2)])
    n, d = np.array([np.sin(th), 0.0, np.cos(th)]), np.array([np.cos(th), 0.0, -np.sin(th)])
    ramp = StaticSpec(name="ramp", kind="box", size=np.array([3.0, 0.5, 0.05]), position=-0.05 * n, quaternion=q)
    half = (0.1, 0.08, 0.05)
    box = ball(shape="box", size=half, quat=q, friction=mu, restitution=0.0, mass=1.0, v0=tuple(v0 * d))
    box.position = (half[2] + 1e-4) * n
    traj = make_engine("mujoco").simulate(scene([box], fps=48.0, frames=40, statics=[ramp]))
    s, v = traj.positions[:, 0] @ d, traj.linear_velocity[:, 0] @ d
    lift = traj.positions[:, 0] @ n - half[2]
    assert np.abs(lift[2:]).max() < 1e-3
    if np.tan(th) < mu and v0 == 0:  # settles within a few steps of landing, then no creep
        assert np.abs(v[3:]).max() < 1e-3 and np.abs(s[3:] - s[3]).max() < 1e-4
        return
    sgn = 1.0 if v0 >= 0 else -1.0
    moving = (traj.times > 0.05) & (sgn * v > 0.05)
    a = np.polyfit(traj.times[moving], v[moving], 1)[0]
    assert a == pytest.approx(G * (np.sin(th) - sgn * mu * np.cos(th)), abs=1e-3 * G)


def test_parameters_read_back_as_simulated():
    objs = [ball(z0=1.0 + i, restitution=e, friction=mu, mass=m) for i, (e, mu, m) in enumerate([(0.3, 0.2, 0.5), (0.8, 0.9, 3.0)])]
    for i, o in enumerate(objs):
        o.position[0] = i * 0.5
    spec = scene(objs)
    eng = make_engine("mujoco")
    traj = eng.simulate(spec)
    assert traj.mass == pytest.approx([0.5, 3.0])
    assert traj.friction == pytest.approx([0.2, 0.9])
    assert traj.restitution == pytest.approx([0.3, 0.8])
    import mujoco

    from simgen.engines.mujoco import _MuJoCoWorld

    m = mujoco.MjModel.from_xml_string(eng.build_xml(spec))
    for i, o in enumerate(objs):
        b = m.body(f"b{i}")
        assert b.mass[0] == pytest.approx(o.mass)
        assert b.inertia == pytest.approx(o.inertia)
    assert m.opt.timestep == pytest.approx(1 / 240.0)
    assert set(m.pair_dim) == {1}  # frictionless: friction is applied by the engine
    world = _MuJoCoWorld(eng, spec)
    assert world.mu == pytest.approx({(1, -1): 0.2, (2, -1): 0.9, (2, 1): 0.2 * 0.9})  # Bullet's product rule


@pytest.mark.parametrize("physics_hz", [240.0, 960.0])
def test_physics_rate_is_honoured(physics_hz):
    spec = scene([ball(z0=5.0)], physics_hz=physics_hz, frames=12)
    traj = make_engine("mujoco", physics_hz=physics_hz).simulate(spec)
    stats = traj.extras["stepper"]
    k = int(physics_hz / spec.fps)
    assert (spec.frames - 1) * k <= stats["steps"] + stats["quiet_steps"] <= spec.frames * k
    assert traj.physics_hz == physics_hz
