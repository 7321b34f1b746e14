"""PyBullet against analytic answers: free fall, velocities, parameters read back."""

from __future__ import annotations

import numpy as np
import pytest

from simgen.engines import make_engine
from simgen.spec import CameraSpec, ObjectSpec, SceneSpec, StaticSpec
from simgen.shapes import principal_inertia

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


@pytest.mark.parametrize("physics_hz", [240.0, 480.0])
def test_free_fall_matches_analytic(physics_hz):
    spec = drop_spec(physics_hz=physics_hz)
    traj = make_engine("pybullet", physics_hz=physics_hz).simulate(spec)
    t = traj.times
    first = traj.first_contact_frame(1)[0]
    assert np.isfinite(first), "the ball should reach the floor within the clip"
    before = np.arange(len(t)) < int(np.floor(first))  # frames strictly before the first contact
    assert before.sum() >= 8
    z = traj.positions[before, 0, 2]
    # acceleration from a quadratic fit of the recorded heights: within 1 % of g
    a = 2.0 * np.polyfit(t[before], z, 2)[0]
    assert a == pytest.approx(-G, rel=0.01)
    # positions: z0 + v0 t - g t^2 / 2, up to the semi-implicit Euler offset of g*dt*t/2
    dt = 1.0 / physics_hz
    analytic = 3.0 + 1.5 * t[before] - 0.5 * G * t[before] ** 2
    assert np.all(np.abs(z - analytic) <= 0.5 * G * dt * t[before] + 1e-4)
    # horizontal motion is uniform and no damping slows it
    assert traj.positions[before, 0, 0] == pytest.approx(0.4 * t[before], abs=1e-4)
    assert traj.linear_velocity[before, 0, 0] == pytest.approx(0.4, abs=1e-6)
    # spin is kept (no angular damping) before contact
    assert traj.angular_velocity[before, 0, 1] == pytest.approx(3.0, abs=1e-6)


def test_velocities_agree_with_finite_differences():
    spec = drop_spec()
    traj = make_engine("pybullet", physics_hz=240.0).simulate(spec)
    first = int(np.floor(traj.first_contact_frame(1)[0]))
    x, v, t = traj.positions[:first, 0], traj.linear_velocity[:first, 0], traj.times[:first]
    central = (x[2:] - x[:-2]) / (t[2:, None] - t[:-2, None])
    # semi-implicit Euler: positions lead the velocity by g*dt/2; within one g*dt
    assert np.all(np.abs(central - v[1:-1]) <= G / 240.0 + 1e-6)


def test_contacts_are_onsets_not_per_step_spam():
    spec = drop_spec(z0=1.0, v0=(0, 0, 0), restitution=0.0, frames=32)
    traj = make_engine("pybullet", physics_hz=240.0).simulate(spec)
    floor_events = [c for c in traj.contacts if c.body_b == -1 and c.body_a == 1]
    # an inelastic ball that lands and rests: one onset, not one per step of resting contact
    assert 1 <= len(floor_events) <= 2
    t_hit = np.sqrt(2 * (1.0 - 0.1) / G)
    assert floor_events[0].frame == pytest.approx(t_hit * spec.fps, abs=0.2)
    assert floor_events[0].normal == pytest.approx([0, 0, 1], abs=1e-5)
    assert floor_events[0].impulse > 0


def test_parameters_read_back_as_simulated():
    spec = drop_spec()
    traj = make_engine("pybullet", physics_hz=240.0).simulate(spec)
    obj = spec.objects[0]
    assert traj.mass[0] == pytest.approx(obj.mass)
    assert traj.friction[0] == pytest.approx(obj.friction)
    assert traj.restitution[0] == pytest.approx(obj.restitution)


def test_physics_rate_is_honoured():
    """Halving the step changes the integration error by the expected amount, so the rate is real."""
    errs = []
    for hz in (240.0, 960.0):
        spec = drop_spec(physics_hz=hz, v0=(0, 0, 0), z0=5.0, frames=12)
        traj = make_engine("pybullet", physics_hz=hz).simulate(spec)
        t = traj.times
        errs.append(np.max(np.abs(traj.positions[:, 0, 2] - (5.0 - 0.5 * G * t**2))))
    assert errs[1] < errs[0] / 3.0
