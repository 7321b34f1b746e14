"""PyBullet and MuJoCo at parity: the same bounce, the same ramp, the same SceneSpec identical up to
and through its first impact, and every scene family end to end through `python -m simgen engine=mujoco`."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from conftest import run_simgen
from test_mujoco import G, ball, scene

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.scenes_registry import available_scenes, make_scene
from simgen.spec import StaticSpec

ENGINES = ("pybullet", "mujoco")


@pytest.fixture(scope="module")
def engines():
    out = {name: make_engine(name) for name in ENGINES}
    yield out
    for e in out.values():
        e.close()


def apex_ratio(engine, e: float, h0: float = 0.5, r: float = 0.1) -> float:
    """Drop a ball from h0 (gap under it) onto a restitution-1 floor; return (first apex) / h0, the
    apex from the first frame after the bounce: z - r + v_z^2 / 2g."""
    spec = scene([ball(z0=h0 + r, radius=r, restitution=e)], fps=240.0, frames=200)
    traj = engine.simulate(spec)
    after = np.nonzero(traj.times > np.sqrt(2 * h0 / G) + 1e-3)[0][0]
    z, vz = traj.positions[after, 0, 2], traj.linear_velocity[after, 0, 2]
    return float((z - r + vz**2 / (2 * G)) / h0)


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("e", [0.1, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("h0", [0.35, 0.8])
def test_bounce_apex_ratio_is_e_squared(engines, name, e, h0):
    """Restitution is Newton's law at the time of impact in both engines: the first apex is e^2 h0
    (to 1e-6: the ball is taken back to the touch in position and velocity, so the few hundredths
    of a millimetre it sank before the impact was found leave no trace; 1e-9 measured)."""
    assert apex_ratio(engines[name], e, h0) == pytest.approx(e * e, rel=1e-6)


def ramp_scene(theta: float, mu: float):
    q = np.array([0.0, np.sin(theta / 2), 0.0, np.cos(theta / 2)])  # tilt about y
    normal = np.array([np.sin(theta), 0.0, np.cos(theta)])
    ramp = StaticSpec(name="ramp", kind="box", size=np.array([2.0, 0.5, 0.05]), position=np.array([0.0, 0.0, 1.0]),
                      quaternion=q, friction=1.0)
    box = ball(shape="box", size=(0.1, 0.1, 0.05), quat=q, friction=mu, restitution=0.0, mass=1.0)
    box.position = ramp.position + normal * (0.05 + 0.05 + 1e-4)
    return scene([box], fps=48.0, frames=40, statics=[ramp]), np.array([np.cos(theta), 0.0, -np.sin(theta)])


@pytest.mark.parametrize("theta_deg,mu", [(30.0, 0.3), (35.0, 0.5)])
@pytest.mark.parametrize("name", ENGINES)
def test_box_slides_down_ramp_with_coulomb_friction(engines, name, theta_deg, mu):
    theta = np.radians(theta_deg)
    spec, down = ramp_scene(theta, mu)
    traj = engines[name].simulate(spec)
    s = (traj.positions[:, 0] - traj.positions[0, 0]) @ down
    t = traj.times
    late = t >= 0.1  # after the box has settled onto the ramp
    a = 2.0 * np.polyfit(t[late], s[late], 2)[0]
    assert a == pytest.approx(G * (np.sin(theta) - mu * np.cos(theta)), rel=2e-3)
    # it slides on the surface: no hopping off the ramp, no sinking into it
    off = (traj.positions[:, 0] - spec.objects[0].position) @ np.array([np.sin(theta), 0.0, np.cos(theta)])
    assert np.abs(off).max() < 1e-3


def test_same_scenespec_agrees_up_to_and_through_the_first_impact(engines):
    """Before any contact both engines give the same analytic flight (1e-9 m); each object's first
    impact is the same event in both (time, impulse)."""
    cfg = load_config(["scene=freefall", "render.width=64", "render.height=64"])
    checked = 0
    for i in range(4):
        spec, _ = make_scene(cfg, i)
        a, b = engines["pybullet"].simulate(spec), engines["mujoco"].simulate(spec)
        n = len(spec.objects)
        first = np.nanmin(np.r_[a.first_contact_frame(n), b.first_contact_frame(n)])
        pre = np.arange(spec.frames) < int(np.floor(first))
        assert pre.sum() >= 2
        assert np.abs(a.positions[pre] - b.positions[pre]).max() < 1e-9  # metres
        assert np.abs(a.linear_velocity[pre] - b.linear_velocity[pre]).max() < 1e-9
        assert np.abs(a.angular_velocity[pre] - b.angular_velocity[pre]).max() < 1e-6
        dots = np.abs(np.sum(a.quaternions[pre] * b.quaternions[pre], axis=-1))
        assert dots.min() > 1 - 1e-9
        assert np.allclose(a.mass, b.mass) and np.allclose(a.friction, b.friction)
        assert np.allclose(a.restitution, b.restitution)
        ca, cb = a.contacts[0], b.contacts[0]
        assert (ca.body_a, ca.body_b) == (cb.body_a, cb.body_b)
        assert ca.frame == pytest.approx(cb.frame, abs=5e-4)  # 30 us: the two collision detectors
        assert ca.impulse == pytest.approx(cb.impulse, rel=1e-3)
        checked += pre.sum()
    assert checked >= 10


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("drop, vx", [(0.001, 0.0), (0.001, 1.0), (0.0005, 0.5), (0.002, 2.0)])
def test_a_landing_too_slow_to_bounce_is_one_event_with_its_whole_impulse(engines, name, drop, vx):
    """A ball set down from 0.5-2 mm (0.1-0.2 m/s, below the restitution threshold), rolling or not:
    one contact event, its impulse m v. The impact is dated back to the touch from where the step saw
    it (the touch seen there is not another event) and the pair is held from then on (gravity pressing
    the ball onto the floor again within that step is not a second impact: MuJoCo's rolling ball
    struck twice, 0.0288 N s more, 0.8 ms after the first)."""
    r, m = 0.1, 2.0
    spec = scene([ball(z0=r + drop, v0=(vx, 0.0, 0.0), radius=r, mass=m, restitution=0.5)], frames=16)
    events = engines[name].simulate(spec).contacts
    assert [(c.body_a, c.body_b) for c in events] == [(1, -1)]
    assert events[0].impulse == pytest.approx(m * np.sqrt(2 * G * drop), rel=0.03)


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("closing", [0.05, 0.15, 0.5])
def test_two_balls_meeting_slowly_in_flight_bounce(engines, name, closing):
    """The restitution threshold (0.2 m/s) lets a pair settle on what it lands on; two elastic balls
    in flight meeting more slowly than that still bounce (two_ball_collision seed 1 scene 2 met at
    0.147 m/s and lost 2.5 % of its kinetic energy): kinetic energy and momentum kept."""
    m1, m2 = 2.0, 3.0
    a = ball(z0=1.0, v0=(closing, 0.0, 0.0), radius=0.1, mass=m1, restitution=1.0)
    b = ball(z0=1.0, v0=(0.0, 0.0, 0.0), radius=0.1, mass=m2, restitution=1.0)
    b.position = np.array([0.3, 0.0, 1.0])
    spec = scene([a, b], statics=[], frames=48)
    spec.gravity = np.zeros(3)
    traj = engines[name].simulate(spec)
    assert [(c.body_a, c.body_b) for c in traj.contacts] == [(2, 1)]
    v1, v2 = traj.linear_velocity[-1, 0, 0], traj.linear_velocity[-1, 1, 0]
    # the analytic elastic answer
    assert v1 == pytest.approx((m1 - m2) / (m1 + m2) * closing, abs=1e-4 * closing)
    assert v2 == pytest.approx(2 * m1 / (m1 + m2) * closing, abs=1e-4 * closing)


@pytest.mark.parametrize("family", available_scenes())
def test_every_family_runs_on_mujoco_end_to_end(tmp_path, family):
    from simgen.data import open_dataset

    out = tmp_path / family
    run_simgen(f"scene={family}", "engine=mujoco", "n=2", "shard_size=2", "workers=1", "seed=3", f"out={out}",
               "render.width=64", "render.height=64", "render.frames=8")
    ds = open_dataset(str(out))
    assert len(ds) == 2
    cfg = load_config([f"scene={family}", "engine=mujoco", "seed=3", "render.width=64", "render.height=64", "render.frames=8"])
    eng = make_engine("mujoco")
    for i in range(len(ds)):
        row = ds[i]
        assert row["engine"] == "mujoco" and row["scene"] == family
        assert row["video"].shape == (8, 64, 64, 3)
        # what was written is what the engine did with that SceneSpec
        spec, seed = make_scene(cfg, row["index"] if "index" in row else i)
        assert row["seed"] == seed
        traj = eng.simulate(spec)
        assert np.allclose(row["positions"], traj.positions, atol=1e-5)
        assert np.allclose(row["mass"], traj.mass) and np.allclose(row["friction"], traj.friction)
        assert np.allclose(row["restitution"], traj.restitution, atol=1e-6)
    import pyarrow.parquet as pq

    shard = sorted(p for p in out.iterdir() if p.suffix == ".parquet")[0]
    meta = pq.read_metadata(shard).metadata
    assert any(b"mujoco" in v for v in meta.values())


@pytest.mark.parametrize("override, engine, attr, value", [
    ("engine.contact_erp=0.02", "pybullet", "contact_erp", 0.02),
    ("engine.restitution_threshold=0.3", "pybullet", "restitution_threshold", 0.3),
    ("engine.contact_tau_steps=3", "mujoco", "contact_tau_steps", 3.0),
    ("engine.contact_damping=0.8", "mujoco", "contact_damping", 0.8),
    ("engine.impedance=0.95", "mujoco", "impedance", 0.95),
    ("engine.contact_gap_steps=4", "mujoco", "contact_gap_steps", 4),
])
def test_engine_settings_reach_the_engine(override, engine, attr, value):
    """Every documented engine key can be set on the command line and is what the engine uses."""
    from simgen.generate import Pipeline

    pipe = Pipeline(load_config([f"engine={engine}", override]), render=False)
    try:
        assert getattr(pipe.engine, attr) == value
    finally:
        pipe.close()


def test_impact_patch_on_a_plane_is_the_part_that_lands():
    """An impact on a plane acts at the body's touching corners, edge or face: corners up to 0.5 mm
    above the lowest count only while they come down onto the plane within a step. A box tilted so
    that one bottom edge is 0.3 mm higher lands on its face when it falls flat, but on its low edge
    when it turns that high edge away (before, the rising edge was included in one engine and not
    the other, and their impulses differed by 45 %)."""
    from simgen.engines.geometry import box_corners, contact_patch, rotation

    half, dt = np.array([0.1, 0.1, 0.1]), 1.0 / 240.0
    theta = np.arcsin(3e-4 / 0.2)  # the +x bottom edge 0.3 mm above the -x one
    quat = np.array([0.0, np.sin(-theta / 2), 0.0, np.cos(-theta / 2)])
    corners = box_corners(half) @ rotation(quat).T
    pos = np.array([0.3, -0.2, -corners[:, 2].min()])  # lowest corner on the plane z = 0
    bottom = pos + corners[np.argsort(corners[:, 2])[:4]]
    assert np.ptp(bottom[:, 2]) == pytest.approx(3e-4, rel=1e-6)
    low = bottom[bottom[:, 2] < 1e-9]
    assert len(low) == 2 and np.allclose(low[:, 0], low[0, 0])
    up = np.array([0.0, 0.0, 1.0])
    falling = contact_patch("box", half, None, pos, quat, up, vel=[0.0, 0.0, -0.5], omega=[0.0, 0.0, 0.0], within=dt)
    assert np.allclose(falling, bottom.mean(axis=0), atol=1e-12)  # the face
    turning = contact_patch("box", half, None, pos, quat, up, vel=[0.0, 0.0, -0.5], omega=[0.0, -10.0, 0.0], within=dt)
    assert np.allclose(turning, low.mean(axis=0), atol=1e-12)  # the low edge only: the other rises
    # corners within 0.1 mm touch, whatever they do; the patch is their mean weighted by how fast each
    # closes: a face nearly flat whose one edge comes down as it turns acts at that edge (its centre
    # left the edge striking: throw_horizontal seed 0 scene 3, MuJoCo, 1.96 mm deep one step later)
    q_small = np.array([0.0, np.sin(-theta / 8), 0.0, np.cos(-theta / 8)])  # 0.075 mm
    c_small = box_corners(half) @ rotation(q_small).T
    p_small = np.array([0.0, 0.0, -c_small[:, 2].min()])
    b_small = p_small + c_small[np.argsort(c_small[:, 2])[:4]]
    flat = contact_patch("box", half, None, p_small, q_small, up, vel=[0.0, 0.0, -0.5], omega=[0.0, 0.0, 0.0], within=dt)
    assert np.allclose(flat, b_small.mean(axis=0), atol=1e-12)  # all four close alike: the face's centre
    x_edges = np.unique(np.round(b_small[:, 0], 9))
    for wy, want in ((-10.0, {x_edges[0]: 1.0, x_edges[1]: 0.0}),  # the -x edge comes down, the +x one rises
                     (-2.0, {x_edges[0]: 0.7, x_edges[1]: 0.3})):  # both come down: 0.7 and 0.3 m/s
        got = contact_patch("box", half, None, p_small, q_small, up, vel=[0.0, 0.0, -0.5], omega=[0.0, wy, 0.0], within=dt)
        assert got[0] == pytest.approx(sum(x * w for x, w in want.items()), abs=2e-5)
        assert got[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("depth_um", [1.0, 6.0, 20.0, 30.0])
def test_a_landing_the_exact_flight_path_reveals_at_a_step_end_is_an_impact(engines, name, depth_um):
    """Ball A lands half-way through a step; ball B, far from it, reaches the floor ``depth_um``
    micrometres before that step's end. A's impact cuts the step in two pieces, and B's flight over
    them is then corrected to its exact path (up to g dt^2 / 4 = 42 um lower than the engine has it),
    so B touches the floor only after the step's own points were read. That touch is an impact at the
    step's end: e v rebound and impulse m (1 + e) v. Before, the engine's contact took it over the next
    step: B kept 8 % of its rebound and its landing was stored with impulse 0 (both engines, every
    depth here; freefall seed 2 scene 19 lost 14 % of a mesh's strike to MuJoCo's contact this way)."""
    dt, r, m, e, k = 1.0 / 240.0, 0.1, 2.0, 0.5, 100
    t_a = (k + 0.5) * dt
    t_b = (k + 1) * dt - depth_um * 1e-6 / (G * (k + 1) * dt)
    a = ball(z0=r + 0.5 * G * t_a**2, radius=r, mass=m, restitution=e)
    b = ball(z0=r + 0.5 * G * t_b**2, radius=r, mass=m, restitution=e)
    a.position = np.array([-1.0, 0.0, a.position[2]])
    b.position = np.array([1.0, 0.0, b.position[2]])
    traj = engines[name].simulate(scene([a, b], frames=12))
    for body, t_land in ((1, t_a), (2, t_b)):
        events = [c for c in traj.contacts if (c.body_a, c.body_b) == (body, -1)]
        assert events, f"ball {body} should land"
        assert events[0].frame / 16.0 == pytest.approx(t_land, abs=1e-5)
        assert events[0].impulse == pytest.approx(m * (1 + e) * G * t_land, rel=1e-3)
        f = np.nonzero(traj.times > t_land + 0.01)[0][0]  # in flight again: back at the floor's rebound speed
        rebound = traj.linear_velocity[f, body - 1, 2] + G * (traj.times[f] - t_land)
        assert rebound == pytest.approx(e * G * t_land, rel=1e-3)


def test_a_box_landing_on_one_edge_of_a_face_leaves_no_corner_approaching(engines):
    """A box lying nearly flat (its face within 0.1 mm of level) and turning at 5.8 rad/s lands on
    one edge of that face at 0.96 m/s while the other edge touches and rises (the state throw_horizontal
    seed 0 scene 3 reached in MuJoCo at 0.9 s). The impact's patch was the face's centre: it left the
    landing edge approaching at 0.45 m/s, which the stepper (it does not strike a point twice in a
    step) left to the next step: MuJoCo struck it 1.96 mm deep 4.2 ms later, PyBullet 0.06 ms later.
    Now the patch is weighted by how fast its corners close: the landing edge, no corner deep in the
    floor or coming down at the next frame, and the same events in both engines."""
    from simgen.engines.geometry import box_corners, rotation

    half = np.array([0.05727989437240775, 0.07519432337170906, 0.08370219783304353])
    box = ball(z0=0.05731998600897885, v0=(0.5424274263607082, 0.0, -0.4735295239897143),
               w0=(0.0, 5.766169560734368, 0.0), shape="box", size=half, mass=0.934,
               restitution=0.35187164872629406, friction=0.432294158136768,
               quat=(0.0, 0.7072613513910182, 0.0, -0.7069521771863716))
    events = {}
    for name in ENGINES:
        traj = engines[name].simulate(scene([box], fps=240.0, frames=12))
        assert traj.extras["stepper"]["deepest_impact_mm"] < 0.5
        r = box_corners(half) @ rotation(traj.quaternions[1, 0]).T  # corners at frame 1 (4.2 ms later)
        z = traj.positions[1, 0, 2] + r[:, 2]
        vz = traj.linear_velocity[1, 0, 2] + np.cross(traj.angular_velocity[1, 0], r)[:, 2]
        assert z.min() > -5e-4
        assert vz[z < 1e-3].min() > -0.2
        events[name] = [(c.frame, c.impulse) for c in traj.contacts if c.frame / 240.0 < 0.01]
    assert len(events["pybullet"]) == len(events["mujoco"]) >= 1
    for (fa, ja), (fb, jb) in zip(events["pybullet"], events["mujoco"]):
        assert fa == pytest.approx(fb, abs=0.24) and ja == pytest.approx(jb, rel=0.01)  # within 1 ms, 1 %


@pytest.mark.parametrize("name", ENGINES)
def test_states_read_inside_a_batch_are_the_ones_the_engine_passes_through(name):
    """The ends of a frame's velocity windows are read inside a batch of quiet steps (ending a batch
    there costs a broad phase, the friction forces and the contact reads again). Reading them must
    not change the motion (the batch ends bit for bit where an unread one does), and each must be
    the state the engine passes through: the one a batch ending there gives, for every body in
    PyBullet and for a body in flight in MuJoCo (whose friction forces are made once per batch, so
    a shorter batch slides a little differently)."""
    from simgen.engines.mujoco import _MuJoCoWorld
    from simgen.engines.pybullet import _BulletWorld

    flying = ball(z0=2.0, v0=(0.3, 0.0, 1.0), w0=(2.0, -1.0, 3.0), radius=0.1)
    sliding = ball(shape="box", size=(0.1, 0.1, 0.05), v0=(1.0, 0.5, 0.0), w0=(0.0, 0.0, 2.0), friction=0.5)
    sliding.position = np.array([1.0, 0.0, 0.05])
    spec = scene([flying, sliding])
    k, marks = 12, (3, 7)

    def world():
        engine = make_engine(name)
        return engine, (_MuJoCoWorld if name == "mujoco" else _BulletWorld)(engine, spec)

    def same(a, b, rows=slice(None)):
        return all(np.array_equal(x[rows], y[rows]) for x, y in
                   ((a.pos, b.pos), (a.quat, b.quat), (a.vel, b.vel), (a.omega, b.omega)))

    engine, w = world()
    read_inside = w.step_free(k, True, marks)
    end_read = w.read()
    engine.close()
    assert len(read_inside) == len(marks)
    assert read_inside[-1].pos[1, 2] == pytest.approx(0.05, abs=2e-3), "the box should stay on the floor"

    engine, w = world()
    w.step_free(k, True)
    assert same(w.read(), end_read), "reading inside the batch changed the motion"
    engine.close()

    engine, w = world()
    rows = slice(None) if name == "pybullet" else slice(0, 1)
    done = 0
    for j, inside in zip(marks, read_inside):
        w.step_free(j - done, True)
        done = j
        assert same(w.read(), inside, rows), f"the state read after {j} steps"
    engine.close()
