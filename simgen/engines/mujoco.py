"""MuJoCo engine (physics only; pyrender draws the pixels for both engines).

The model is MJCF generated in code from the SceneSpec. Mapping (documented in the README):

- bodies: one free joint per object, ``<inertial>`` with the ObjectSpec's mass and principal moments
  (body frame = centre of mass on principal axes, as in the SceneSpec), so MuJoCo and PyBullet integrate
  the same rigid body. Shapes map one to one (sphere, box half extents, cylinder/capsule
  ``[radius, half_length]`` along body z, meshes as mesh assets whose convex hull MuJoCo collides).
  Statics are world geoms (``plane``, ``box``).
- time: ``timestep = 1 / physics_hz``, semi-implicit Euler (as Bullet), frames every
  ``physics_hz / fps`` steps, frame 0 the initial state. Between contacts every step is exactly one
  MuJoCo step of ``1 / physics_hz``, so free flight is integrated bit-for-bit like Bullet does. A
  physics step in which a contact begins is bisected to the time of impact (``toi_bisections``) and
  contact phases run ``substeps`` MuJoCo sub-steps per physics step: MuJoCo's contacts are springs,
  and a spring's bounce depends on how deep the first step lands unless the onset is resolved.
- contacts: every object-object and object-static pair is an explicit ``<contact><pair>`` (geom
  ``contype``/``conaffinity`` are 0), ``condim=3`` (sliding friction only: no torsional or rolling
  friction, as in Bullet), elliptic friction cone.
- friction: MuJoCo combines geom frictions by ``max`` (or by ``priority``), Bullet by product. A pair
  sets its own coefficient, so each pair gets Bullet's rule: ``mu_a * mu_b``; statics carry their
  StaticSpec friction (1.0 by default), so object-floor friction is the object's own in both engines.
- restitution: MuJoCo has none. Each pair's normal direction is a spring-damper in the direct
  ``solref = (-K, -B)`` form with ``K = 1 / tau^2`` and ``B = 2 zeta / tau`` (``tau = contact_tau_steps
  / physics_hz``), impedance ``solimp`` flat at 0.99. The bounce this gives is measured once per
  (physics rate, gravity, settings) by dropping spheres with ``zeta`` on a grid (:func:`calibration`),
  and the requested restitution (``e_a * e_b`` for the pair, Bullet's rule) is inverted on that table.
  The restitution reported per object is the table's value at the chosen ``zeta`` (as simulated).
- no damping, no air (density and viscosity 0), no contact margin.
"""

from __future__ import annotations

import functools

import numpy as np

from simgen.engines import Engine
from simgen.engines.contacts import ContactTracker, ordered
from simgen.spec import SceneSpec, Trajectory

SOLIMP = "0.99 0.99 0.001 0.5 2"
ZETA_MAX = 2.0


def _f(x) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(x))


def _quat_wxyz(q_xyzw) -> np.ndarray:
    q = np.asarray(q_xyzw, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return np.array([q[3], q[0], q[1], q[2]])


class _Stepper:
    """Advances a compiled model by physics steps of ``dt``: a single MuJoCo step in free flight,
    time-of-impact bisection where a contact begins, ``substeps`` sub-steps while in contact.

    ``on_substep(h)`` is called after every accepted (sub)step of length ``h``."""

    def __init__(self, m, d, dt: float, substeps: int, bisections: int):
        import mujoco

        self.mj, self.m, self.d = mujoco, m, d
        self.dt, self.h = dt, dt / max(1, substeps)
        self.bisections = bisections
        mujoco.mj_step1(m, d)  # kinematics and collisions of the current state

    def _take(self, h: float, hook=None) -> None:
        self.m.opt.timestep = h
        self.mj.mj_step2(self.m, self.d)
        if hook is not None:  # contacts and forces of the step just taken (before the next collision)
            hook(h)
        self.mj.mj_step1(self.m, self.d)

    def _save(self):
        d = self.d
        return d.qpos.copy(), d.qvel.copy(), d.qacc_warmstart.copy(), d.time

    def _restore(self, s) -> None:
        d = self.d
        d.qpos[:], d.qvel[:], d.qacc_warmstart[:], d.time = s
        self.mj.mj_step1(self.m, d)

    def step(self, on_substep=None) -> None:
        left = self.dt
        while left > 1e-12 * self.dt:
            if self.d.ncon > 0:  # in contact: fine sub-steps
                h = min(left, self.h)
                if left - h < 1e-9 * self.dt:
                    h = left
                self._take(h, on_substep)
                left -= h
                continue
            snap = self._save()
            self._take(left)
            if self.d.ncon == 0:  # free flight over the whole remainder
                left = 0.0
                break
            lo, hi = 0.0, left  # contact-free after lo, touching after hi
            for _ in range(self.bisections):
                mid = 0.5 * (lo + hi)
                self._restore(snap)
                self._take(mid)
                if self.d.ncon > 0:
                    hi = mid
                else:
                    lo = mid
            if self.d.ncon == 0 or hi != mid:
                self._restore(snap)
                self._take(hi)
            left -= hi
        self.m.opt.timestep = self.dt


def _solref(zeta: float, tau: float) -> str:
    return f"{-1.0 / float(tau) ** 2!r} {-2.0 * float(zeta) / float(tau)!r}"


def _calib_xml(zetas: np.ndarray, dt: float, g: float, tau: float, substeps: int, r: float, z0: float) -> str:
    bodies, pairs = [], []
    for i, z in enumerate(zetas):
        bodies.append(
            f'<body pos="{3 * r * i} 0 {z0}"><freejoint/><inertial pos="0 0 0" mass="1" diaginertia="1 1 1"/>'
            f'<geom name="s{i}" type="sphere" size="{r}" contype="0" conaffinity="0"/></body>'
        )
        pairs.append(
            f'<pair geom1="floor" geom2="s{i}" condim="3" friction="0 0 0 0 0" solref="{_solref(z, tau)}" '
            f'solreffriction="{-1.0 / tau**2!r} {-1.0 / tau!r}" solimp="{SOLIMP}"/>'
        )
    return (
        f'<mujoco><option timestep="{dt!r}" gravity="0 0 {-g!r}" integrator="Euler" cone="elliptic" density="0" viscosity="0">'
        '<flag refsafe="disable"/></option><worldbody>'
        '<geom name="floor" type="plane" size="1 1 1" contype="0" conaffinity="0"/>'
        + "".join(bodies)
        + "</worldbody><contact>"
        + "".join(pairs)
        + "</contact></mujoco>"
    )


@functools.lru_cache(maxsize=32)
def calibration(physics_hz: float, gravity: float, tau_steps: float, substeps: int, bisections: int, v_ref: float = 3.0):
    """Measured restitution of MuJoCo's contact spring as a function of the damping ratio.

    Spheres hit a plane at ``v_ref`` m/s (under ``gravity``); the restitution is the ratio of the
    normal speed just after separation to the speed just before impact. Returns ``(zetas, e)`` with
    ``e`` non-increasing (monotone envelope), used to invert a requested restitution."""
    import mujoco

    dt = 1.0 / physics_hz
    tau = tau_steps * dt
    zetas = np.concatenate([np.linspace(0.0, 1.0, 41), np.linspace(1.05, ZETA_MAX, 20)])
    r = 0.1
    z0 = r + 0.02  # start 2 cm above the floor, moving down at v_ref
    m = mujoco.MjModel.from_xml_string(_calib_xml(zetas, dt, gravity, tau, substeps, r, z0))
    d = mujoco.MjData(m)
    n = len(zetas)
    d.qvel[2::6] = -v_ref
    v_in = np.full(n, np.nan)
    v_out = np.full(n, np.nan)
    touched = np.zeros(n, bool)
    prev_z, prev_v = np.full(n, z0 - r), d.qvel[2::6].copy()
    stepper = _Stepper(m, d, dt, substeps, bisections)
    for _ in range(int(0.3 / dt)):
        stepper.step()
        z = d.qpos[2::7] - r
        vz = d.qvel[2::6]
        in_c = z < 0
        new = in_c & ~touched
        # speeds at the surface from the ballistic states just before / after the contact
        v_in[new] = np.sqrt(prev_v[new] ** 2 + 2.0 * gravity * np.maximum(prev_z[new], 0.0))
        touched |= in_c
        done = touched & ~in_c & np.isnan(v_out)
        v_out[done] = np.sqrt(np.maximum(vz[done], 0.0) ** 2 + 2.0 * gravity * z[done]) * (vz[done] > 0)
        prev_z, prev_v = z.copy(), vz.copy()
        if not np.isnan(v_out).any():
            break
    e = np.where(np.isnan(v_out), 0.0, v_out / np.where(np.isnan(v_in), v_ref, v_in))
    e = np.minimum.accumulate(e)  # monotone in zeta (more damping never bounces higher)
    return zetas, e


class MuJoCoEngine(Engine):
    name = "mujoco"

    def __init__(self, substeps: int = 8, contact_tau_steps: float = 1.0, toi_bisections: int = 6,
                 friction_damping: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        import mujoco  # noqa: F401  (fail early if missing)

        self.substeps = int(substeps)
        self.contact_tau_steps = float(contact_tau_steps)
        self.toi_bisections = int(toi_bisections)
        self.friction_damping = float(friction_damping)
        if self.substeps < 1 or self.contact_tau_steps <= 0 or self.toi_bisections < 0:
            raise ValueError("mujoco: substeps >= 1, contact_tau_steps > 0 and toi_bisections >= 0 are required")

    # -- restitution mapping -------------------------------------------------------------------
    def _table(self, spec: SceneSpec):
        g = float(np.linalg.norm(spec.gravity))
        return calibration(float(spec.physics_hz), round(g, 6), self.contact_tau_steps, self.substeps, self.toi_bisections)

    @staticmethod
    def zeta_for(e: float, table) -> tuple[float, float]:
        """Damping ratio that gives restitution ``e`` and the restitution it gives (clamped to the
        table's range)."""
        zetas, es = table
        e = float(np.clip(e, es[-1], es[0]))
        # es is non-increasing: interpolate on the reversed arrays
        x, y = es[::-1], zetas[::-1]
        k = int(np.searchsorted(x, e))
        if k <= 0:
            return float(y[0]), float(x[0])
        if k >= len(x):
            return float(y[-1]), float(x[-1])
        x0, x1, y0, y1 = x[k - 1], x[k], y[k - 1], y[k]
        zeta = y1 if x1 == x0 else y0 + (e - x0) * (y1 - y0) / (x1 - x0)
        return float(zeta), float(np.interp(zeta, zetas, es))

    # -- model ---------------------------------------------------------------------------------
    def _geom(self, obj, i: int) -> tuple[str, str]:
        s = np.asarray(obj.size, dtype=np.float64)
        common = f'name="o{i}" contype="0" conaffinity="0" group="1"'
        if obj.shape == "sphere":
            return f'<geom {common} type="sphere" size="{_f(s[:1])}"/>', ""
        if obj.shape == "box":
            return f'<geom {common} type="box" size="{_f(s[:3])}"/>', ""
        if obj.shape in ("cylinder", "capsule"):
            return f'<geom {common} type="{obj.shape}" size="{_f(s[:2])}"/>', ""
        if obj.shape == "mesh":
            v = np.asarray(obj.mesh.vertices, dtype=np.float64)
            f = np.asarray(obj.mesh.faces, dtype=np.int64)
            asset = f'<mesh name="m{i}" vertex="{_f(v)}" face="{" ".join(map(str, f.ravel()))}"/>'
            return f'<geom {common} type="mesh" mesh="m{i}"/>', asset
        raise ValueError(f"unknown shape {obj.shape!r}")

    def _static(self, st, j: int) -> str:
        s = np.asarray(st.size, dtype=np.float64)
        pose = f'pos="{_f(st.position)}" quat="{_f(_quat_wxyz(st.quaternion))}"'
        common = f'name="s{j}" contype="0" conaffinity="0" {pose}'
        if st.kind == "plane":
            return f'<geom {common} type="plane" size="{_f([max(s[0], 1e-3), max(s[1], 1e-3), 1.0])}"/>'
        if st.kind == "box":
            return f'<geom {common} type="box" size="{_f(s[:3])}"/>'
        raise ValueError(f"unknown static kind {st.kind!r}")

    def build_xml(self, spec: SceneSpec) -> tuple[str, np.ndarray]:
        """The MJCF of a scene and the restitution (as simulated) of every object."""
        dt = 1.0 / spec.physics_hz
        tau = self.contact_tau_steps * dt
        table = self._table(spec)
        fric_ref = f"{-1.0 / tau**2!r} {-self.friction_damping / tau!r}"
        assets, bodies, pairs = [], [], []
        rest = np.zeros(len(spec.objects))
        for i, obj in enumerate(spec.objects):
            geom, asset = self._geom(obj, i)
            if asset:
                assets.append(asset)
            inertia = np.asarray(obj.inertia, dtype=np.float64) if obj.inertia is not None else None
            inertial = f'<inertial pos="0 0 0" mass="{float(obj.mass)!r}"' + (
                f' diaginertia="{_f(inertia)}"/>' if inertia is not None else "/>"
            )
            if inertia is None:  # let MuJoCo compute it from the geom
                inertial = ""
            bodies.append(
                f'<body name="b{i}" pos="{_f(obj.position)}" quat="{_f(_quat_wxyz(obj.quaternion))}">'
                f'<freejoint name="j{i}"/>{inertial}{geom}</body>'
            )
            rest[i] = self.zeta_for(float(obj.restitution), table)[1]

        def pair(g1: str, g2: str, mu: float, e: float) -> str:
            zeta, _ = self.zeta_for(e, table)
            return (
                f'<pair geom1="{g1}" geom2="{g2}" condim="3" friction="{mu!r} {mu!r} 0 0 0" '
                f'solref="{_solref(zeta, tau)}" solreffriction="{fric_ref}" solimp="{SOLIMP}" margin="0" gap="0"/>'
            )

        for i, a in enumerate(spec.objects):
            for j, st in enumerate(spec.statics):
                pairs.append(pair(f"s{j}", f"o{i}", float(a.friction) * float(st.friction), float(a.restitution) * float(st.restitution)))
            for k in range(i + 1, len(spec.objects)):
                b = spec.objects[k]
                pairs.append(pair(f"o{i}", f"o{k}", float(a.friction) * float(b.friction), float(a.restitution) * float(b.restitution)))
        statics = [self._static(st, j) for j, st in enumerate(spec.statics)]
        g = np.asarray(spec.gravity, dtype=np.float64)
        xml = (
            '<mujoco model="simgen">'
            '<compiler angle="radian" boundmass="0" boundinertia="0"/>'
            f'<option timestep="{dt!r}" gravity="{_f(g)}" integrator="Euler" cone="elliptic" '
            f'iterations="{self.solver_iterations}" density="0" viscosity="0" wind="0 0 0">'
            '<flag refsafe="disable"/></option>'
            + (f"<asset>{''.join(assets)}</asset>" if assets else "")
            + "<worldbody>"
            + "".join(statics)
            + "".join(bodies)
            + "</worldbody>"
            + (f"<contact>{''.join(pairs)}</contact>" if pairs else "")
            + "</mujoco>"
        )
        return xml, rest

    # -- simulation ----------------------------------------------------------------------------
    def simulate(self, spec: SceneSpec) -> Trajectory:
        import mujoco

        k = self.steps_per_frame(spec)
        dt = 1.0 / spec.physics_hz
        xml, rest = self.build_xml(spec)
        m = mujoco.MjModel.from_xml_string(xml)
        d = mujoco.MjData(m)
        n, T = len(spec.objects), spec.frames
        qadr = np.array([m.jnt_qposadr[m.joint(f"j{i}").id] for i in range(n)], dtype=np.int64)
        vadr = np.array([m.jnt_dofadr[m.joint(f"j{i}").id] for i in range(n)], dtype=np.int64)
        for i, obj in enumerate(spec.objects):
            q = _quat_wxyz(obj.quaternion)
            d.qpos[qadr[i] : qadr[i] + 3] = np.asarray(obj.position, float)
            d.qpos[qadr[i] + 3 : qadr[i] + 7] = q
            # free joint: linear velocity in the world frame, angular velocity in the body frame
            rot = np.zeros(9)
            mujoco.mju_quat2Mat(rot, q)
            d.qvel[vadr[i] : vadr[i] + 3] = np.asarray(obj.linear_velocity, float)
            d.qvel[vadr[i] + 3 : vadr[i] + 6] = rot.reshape(3, 3).T @ np.asarray(obj.angular_velocity, float)

        # geom id -> simgen body id (objects 1..N, statics -1..-M)
        gid = {}
        for i in range(n):
            gid[m.geom(f"o{i}").id] = i + 1
        for j in range(len(spec.statics)):
            gid[m.geom(f"s{j}").id] = -(j + 1)

        pos = np.zeros((T, n, 3))
        quat = np.zeros((T, n, 4))
        lin = np.zeros((T, n, 3))
        ang = np.zeros((T, n, 3))
        rot = np.zeros(9)

        def record(f: int) -> None:
            for i in range(n):
                qa, va = qadr[i], vadr[i]
                qw = d.qpos[qa + 3 : qa + 7]
                qw = qw / np.linalg.norm(qw)
                pos[f, i] = d.qpos[qa : qa + 3]
                quat[f, i] = (qw[1], qw[2], qw[3], qw[0])
                lin[f, i] = d.qvel[va : va + 3]
                mujoco.mju_quat2Mat(rot, qw)
                ang[f, i] = rot.reshape(3, 3) @ d.qvel[va + 3 : va + 6]

        force = np.zeros(6)
        touching: dict = {}

        def on_substep(h: float) -> None:
            # d.contact / efc_force: the contacts at the start of the sub-step just taken, its forces
            for c in range(d.ncon):
                con = d.contact[c]
                if con.dist > 1e-4:
                    continue
                a, b = gid.get(int(con.geom2)), gid.get(int(con.geom1))  # normal points geom1 -> geom2
                if a is None or b is None:
                    continue
                mujoco.mj_contactForce(m, d, c, force)
                pair, sign = ordered(a, b)
                normal = sign * np.array(con.frame[:3])
                impulse = float(force[0]) * h
                prev = touching.get(pair)
                if prev is None:
                    touching[pair] = (np.array(con.pos), normal, impulse)
                else:
                    touching[pair] = (0.5 * (prev[0] + np.array(con.pos)), prev[1], prev[2] + impulse)

        tracker = ContactTracker(spec.fps, spec.physics_hz, self.contact_gap_steps)
        stepper = _Stepper(m, d, dt, self.substeps, self.toi_bisections)
        record(0)
        step = 0
        for f in range(1, T):
            for _ in range(k):
                touching.clear()
                stepper.step(on_substep)
                step += 1
                tracker.update(step, dict(touching))
            record(f)

        return Trajectory(
            times=np.arange(T) * k * dt,
            positions=pos,
            quaternions=quat,
            linear_velocity=lin,
            angular_velocity=ang,
            mass=np.array([float(m.body_mass[m.body(f"b{i}").id]) for i in range(n)]),
            friction=np.array([float(o.friction) for o in spec.objects]),
            restitution=rest,
            contacts=tracker.events,
            physics_hz=spec.physics_hz,
            engine=self.name,
        )
