"""PyBullet against analytic answers: exact free flight, frame-time velocities, impacts at their time of
impact, parameters read back, the physics rate."""

from __future__ import annotations

import numpy as np
import pytest

from simgen.engines import make_engine
from simgen.shapes import principal_inertia
from simgen.spec import CameraSpec, ObjectSpec, SceneSpec, StaticSpec

G = 9.81


def drop_spec(z0=3.0, v0=(0.4, -0.2, 1.5), radius=0.1, physics_hz=240.0, fps=16.0, frames=24, restitution=0.5):
    mass = 2.0
    obj = ObjectSpec(shape="sphere", size=np.array([radius]), mass=mass, friction=0.6, restitution=restitution,
                     color=np.ones(3), position=np.array([0.0, 0.0, z0]), linear_velocity=np.array(v0, float),
                     angular_velocity=np.array([0.0, 3.0, 0.0]), inertia=principal_inertia("sphere", np.array([radius]), mass))
    floor = StaticSpec(name="floor", kind="plane", size=np.array([10.0, 10.0]), position=np.zeros(3))
    cam = CameraSpec(width=64, height=64, cam_to_world=np.eye(4))
    return SceneSpec(family="test", objects=[obj], statics=[floor], camera=cam, lights=[], gravity=np.array([0, 0, -G]),
                     fps=fps, frames=frames, physics_hz=physics_hz)


def flight(traj) -> np.ndarray:
    first = traj.first_contact_frame(1)[0]
    assert np.isfinite(first), "the ball should reach the floor within the clip"
    return np.arange(len(traj.times)) < int(np.floor(first))  # frames strictly before the first contact


@pytest.mark.parametrize("physics_hz", [240.0, 480.0])
def test_free_flight_is_the_parabola(physics_hz):
    """Positions are p0 + v0 t + g t^2 / 2 and velocities v0 + g t at the frame times (the half-step
    velocity of leapfrog, not semi-implicit Euler's g dt t / 2 drift), spin kept (no damping)."""
    spec = drop_spec(physics_hz=physics_hz)
    traj = make_engine("pybullet", physics_hz=physics_hz).simulate(spec)
    before = flight(traj)
    assert before.sum() >= 8
    t = traj.times[before][:, None]
    g = np.array([0.0, 0.0, -G])
    v0, p0 = np.array([0.4, -0.2, 1.5]), np.array([0.0, 0.0, 3.0])
    assert np.abs(traj.positions[before, 0] - (p0 + v0 * t + 0.5 * g * t**2)).max() < 1e-9
    assert np.abs(traj.linear_velocity[before, 0] - (v0 + g * t)).max() < 1e-9
    assert traj.angular_velocity[before, 0, 1] == pytest.approx(3.0, abs=1e-6)


def test_velocities_are_central_differences_of_positions():
    spec = drop_spec()
    traj = make_engine("pybullet").simulate(spec)
    n = int(np.floor(traj.first_contact_frame(1)[0]))
    x, v, t = traj.positions[:n, 0], traj.linear_velocity[:n, 0], traj.times[:n]
    central = (x[2:] - x[:-2]) / (t[2:, None] - t[:-2, None])
    assert np.abs(central - v[1:-1]).max() < 1e-9


def test_bounce_is_resolved_at_its_time_of_impact():
    """A ball dropped on the floor: the contact event is at the analytic time of impact, its impulse
    is m (1 + e) v, the rebound is e v, and it does not sink."""
    e, h0, r = 0.116, 1.0, 0.1  # e = 0.116 landing at 4.2 m/s: the audit's ball that did not bounce
    spec = drop_spec(z0=h0 + r, v0=(0, 0, 0), restitution=e, fps=240.0, frames=200)
    traj = make_engine("pybullet").simulate(spec)
    v_in = np.sqrt(2 * G * h0)
    first = [c for c in traj.contacts if (c.body_a, c.body_b) == (1, -1)][0]
    assert first.frame / spec.fps == pytest.approx(np.sqrt(2 * h0 / G), abs=1e-5)
    assert first.impulse == pytest.approx(2.0 * (1 + e) * v_in, rel=1e-3)
    assert first.normal == pytest.approx([0, 0, 1], abs=1e-6)
    after = np.nonzero(traj.times > first.frame / spec.fps + 1e-3)[0][0]
    z, vz = traj.positions[after, 0, 2], traj.linear_velocity[after, 0, 2]
    v_out = np.sqrt(vz**2 + 2 * G * (z - r))
    assert v_out / v_in == pytest.approx(e, rel=1e-3)
    assert (traj.positions[:, 0, 2] - r).min() > -1e-3


def test_contacts_are_onsets_not_per_step_spam():
    spec = drop_spec(z0=1.0, v0=(0, 0, 0), restitution=0.0, frames=32)
    traj = make_engine("pybullet").simulate(spec)
    floor_events = [c for c in traj.contacts if c.body_b == -1 and c.body_a == 1]
    # an inelastic ball that lands and rests: one event, not one per step of resting contact
    assert len(floor_events) == 1
    assert floor_events[0].frame == pytest.approx(np.sqrt(2 * (1.0 - 0.1) / G) * spec.fps, abs=1e-3)


def test_an_impact_dated_back_from_where_it_was_seen_replaces_its_onset():
    """A slow impact found at the end of a piece of a step is dated back to the touch by depth /
    approach speed (0.2 mm at 0.1 m/s: 2 ms); the onset the same piece recorded at its end is that
    impact, not a second event. A touch of the pair seen before the impact stays an event of its own."""
    from simgen.engines.contacts import ContactTracker

    tr = ContactTracker(fps=16.0, physics_hz=240.0, gap_steps=10)
    seen = 0.5
    tr.touch(seen, {(1, -1): (0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))})
    tr.impact(seen - 0.002, (1, -1), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.4, seen=seen)
    assert [(e.frame, e.impulse) for e in tr.events] == [(pytest.approx((seen - 0.002) * 16.0), pytest.approx(0.4))]
    tr = ContactTracker(fps=16.0, physics_hz=240.0, gap_steps=10)
    tr.touch(seen - 0.005, {(1, -1): (0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))})
    tr.impact(seen - 0.002, (1, -1), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.4, seen=seen)
    assert [e.impulse for e in tr.events] == [0.0, pytest.approx(0.4)]


def test_impacts_act_at_points_on_the_bodies(monkeypatch):
    """Bullet's manifold between two cylinders can hold a contact point off one of them (freefall,
    seed 0, scene 7: 41-42 mm beyond a cylinder's reach, three times). Such a point is no impact: every
    point an impact is resolved at lies within each body's bounding radius of its centre."""
    from simgen.config import load_config
    from simgen.engines import stepping
    from simgen.scenes_registry import make_scene

    seen, off = [0], []
    resolve_impact = stepping.Stepper._impact

    def checked(self, st, pts, idx, *args):
        la, lb, _, _, prow, _ = pts.lists()
        for k in idx:
            seen[0] += 1
            for body in (la[k], lb[k]):
                if body > 0:
                    beyond = np.linalg.norm(np.asarray(prow[k]) - st.pos[body - 1]) - self.radius_list[body - 1]
                    if beyond > 1e-3:
                        off.append((body, round(1000 * beyond, 1)))
        return resolve_impact(self, st, pts, idx, *args)

    monkeypatch.setattr(stepping.Stepper, "_impact", checked)
    cfg = load_config(["scene=freefall", "seed=0"])
    engine = make_engine("pybullet")
    for i in range(12):
        engine.simulate(make_scene(cfg, i)[0])
    assert seen[0] > 100 and not off


def test_parameters_read_back_as_simulated():
    spec = drop_spec()
    traj = make_engine("pybullet").simulate(spec)
    obj = spec.objects[0]
    assert traj.mass[0] == pytest.approx(obj.mass)
    assert traj.friction[0] == pytest.approx(obj.friction)
    assert traj.restitution[0] == pytest.approx(obj.restitution)


@pytest.mark.parametrize("physics_hz", [240.0, 960.0])
def test_physics_rate_is_honoured(physics_hz):
    """The engine steps at 1 / physics_hz: physics_hz / fps steps per frame, and Bullet's own step."""
    spec = drop_spec(physics_hz=physics_hz, v0=(0, 0, 0), z0=5.0, frames=12)
    eng = make_engine("pybullet", physics_hz=physics_hz)
    traj = eng.simulate(spec)
    stats = traj.extras["stepper"]
    k = int(physics_hz / spec.fps)
    assert stats["steps"] + stats["quiet_steps"] >= (spec.frames - 1) * k
    assert stats["steps"] + stats["quiet_steps"] <= spec.frames * k
    params = eng.p.getPhysicsEngineParameters(physicsClientId=eng.client)
    assert params["fixedTimeStep"] == pytest.approx(1.0 / physics_hz)
    assert traj.physics_hz == physics_hz



@pytest.mark.parametrize("radius,half_length", [(0.05, 0.04), (0.03, 0.09), (0.08, 0.01)])
def test_capsule_inertia_is_the_integral_over_its_slices(radius, half_length):
    """The closed-form capsule inertia against a numerical integral over thin disks along its axis
    (each disk: m r^2 / 4 about a diameter plus m z^2, m r^2 / 2 about the axis), and the
    tessellated capsule (what simgen used before) converging onto it; a sphere when h = 0."""
    from simgen.shapes import capsule_trimesh

    mass, r, h = 1.7, radius, half_length
    exact = principal_inertia("capsule", np.array([r, h]), mass)
    z = np.linspace(-(h + r), h + r, 400_001)
    zc = 0.5 * (z[1:] + z[:-1])
    r2 = np.where(np.abs(zc) <= h, r * r, np.maximum(r * r - (np.abs(zc) - h) ** 2, 0.0))
    dm = r2 / r2.sum() * mass
    integral = np.array([(dm * (r2 / 4 + zc ** 2)).sum(), (dm * (r2 / 4 + zc ** 2)).sum(), (dm * r2 / 2).sum()])
    assert np.allclose(exact, integral, rtol=1e-6), (exact, integral)
    errors = []
    for count in (16, 32, 64):  # (finer ones come out not watertight in trimesh)
        tm = capsule_trimesh(r, h, count=(count, count))
        tm.density = mass / tm.volume
        errors.append(np.abs(np.diag(tm.moment_inertia) / exact - 1.0).max())
    assert errors[0] > errors[1] > errors[2] and errors[2] < 3e-3, errors
    sphere = principal_inertia("capsule", np.array([r, 0.0]), mass)
    assert np.allclose(sphere, 0.4 * mass * r ** 2, rtol=1e-12)


@pytest.mark.parametrize("engine", ["pybullet", "mujoco"])
def test_a_flat_box_dropped_close_above_a_static_box_lands_on_it(engine):
    """A body in flight whose bounding sphere already overlaps a static box (a wide, flat box 2 cm
    above a platform) is checked by its real shape with gravity in the bound: its landing is an
    impact at the touch, not found only after a batch of steps has carried it into the platform."""
    half = np.array([0.1, 0.1, 0.02])
    mass = 1.0
    obj = ObjectSpec(shape="box", size=half, mass=mass, friction=0.6, restitution=0.3, color=np.ones(3),
                     position=np.array([0.0, 0.0, 0.5 + 0.02 + 0.02]), inertia=principal_inertia("box", half, mass))
    top = 0.5
    platform = StaticSpec(name="platform", kind="box", size=np.array([0.5, 0.5, 0.25]), position=np.array([0.0, 0.0, 0.25]))
    floor = StaticSpec(name="floor", kind="plane", size=np.array([10.0, 10.0]), position=np.zeros(3))
    spec = SceneSpec(family="test", objects=[obj], statics=[floor, platform],
                     camera=CameraSpec(width=64, height=64, cam_to_world=np.eye(4)), lights=[],
                     gravity=np.array([0, 0, -G]), fps=16.0, frames=8, physics_hz=240.0)
    traj = make_engine(engine).simulate(spec)
    bottom = traj.positions[:, 0, 2] - half[2]  # it stays level: no spin, a flat landing
    assert bottom.min() > top - 5e-3, bottom
    assert abs(bottom[-1] - top) < 2e-3, bottom  # at rest on the platform
    impacts = [c for c in traj.contacts if c.impulse > 0]
    assert impacts, "the landing is an impact"
    v_land = np.sqrt(2 * G * 0.02)
    assert impacts[0].impulse == pytest.approx(mass * v_land * (1 + 0.3), rel=0.03)


def test_engine_parameters_by_position_simulate_as_by_keyword():
    """_BulletWorld._mode passes setPhysicsEngineParameter's arguments by position (in the order of
    the pybullet.c that was read): the steps cut at impacts must come out bit for bit as with keywords."""
    from simgen.config import load_config
    from simgen.scenes_registry import make_scene, scene_config

    fast = make_engine("pybullet")
    if not fast.positional:
        pytest.skip("this pybullet's parameter order was not checked: keywords are passed")
    slow = make_engine("pybullet")
    slow.positional = False
    for family in ("freefall", "ramp_down"):
        cfg = load_config([f"scene={family}", "out=/tmp/unused"])
        sc = scene_config(cfg.scene)
        for i in range(4):
            spec = make_scene(cfg, i, sc)[0]
            a, b = fast.simulate(spec), slow.simulate(spec)
            assert a.extras["stepper"]["toi_steps"] + a.extras["stepper"]["impacts"] > 0
            for x, y in ((a.positions, b.positions), (a.quaternions, b.quaternions),
                         (a.linear_velocity, b.linear_velocity), (a.angular_velocity, b.angular_velocity)):
                assert np.array_equal(x, y), f"{family} {i}: positional parameters changed the trajectory"
