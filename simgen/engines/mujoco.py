"""MuJoCo engine (physics only; pyrender draws the pixels for both engines).

Driven by :class:`~simgen.engines.stepping.Stepper` (exact free flight, impacts resolved at their time
of impact), like PyBullet. The model is MJCF generated in code from the SceneSpec. Mapping
(documented in the README):

- bodies: one free joint per object, ``<inertial>`` with the ObjectSpec's mass and principal moments
  (body frame = centre of mass on principal axes, as in the SceneSpec), so MuJoCo and PyBullet integrate
  the same rigid body. Shapes map one to one (sphere, box half extents, cylinder/capsule
  ``[radius, half_length]`` along body z, meshes as mesh assets whose convex hull MuJoCo collides).
  Statics are world geoms (``plane``, ``box``).
- time: ``timestep`` = the stepper's step (``1 / physics_hz``, shorter around an impact),
  semi-implicit Euler (as Bullet), no damping, no air (density and viscosity 0).
- contacts: every object-object and object-static pair is an explicit ``<contact><pair>`` (geom
  ``contype``/``conaffinity`` are 0), ``condim=3`` (sliding friction only: no torsional or rolling
  friction, as in Bullet), elliptic friction cone, friction ``mu_a * mu_b`` (Bullet's product rule;
  MuJoCo's own rule is the max). No margin: contacts exist once geoms touch.
- contact model: velocity-level, like Bullet's. Each pair's ``solref`` is in MuJoCo's direct form
  ``(-K, -B)`` with impedance ``solimp`` flat at ``impedance`` (0.9999: the constraint acceleration
  is 99.99 % the reference one), so one step of ``h`` sets the normal velocity to
  ``-(B h - 1) v - K h x``. In ordinary steps ``B = 1 / h`` (stop the approach) and
  ``K = contact_erp / dt^2`` (remove that fraction of the penetration per step); in the impact step
  ``K = 0`` and ``B = (1 + e) / h`` for the impacting pairs: the normal velocity becomes ``-e v``,
  Newton's restitution law with ``e = e_a * e_b`` (Bullet's product rule). Friction
  (``solreffriction = (0, -1 / h)``) stops sliding within a step up to the Coulomb cone.
"""

from __future__ import annotations

import numpy as np

from simgen.engines import Engine
from simgen.engines.stepping import Points, State, Stepper, World
from simgen.spec import SceneSpec, Trajectory

INERT = 0.0001  # impedance of a pair left inert (the smallest MuJoCo allows)
ALL = "all"  # every pair acts


def _f(x) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(x))


def _quat_wxyz(q_xyzw) -> np.ndarray:
    q = np.asarray(q_xyzw, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return np.array([q[3], q[0], q[1], q[2]])


class _MuJoCoWorld(World):
    def __init__(self, engine: "MuJoCoEngine", spec: SceneSpec):
        import mujoco

        self.mj, self.engine = mujoco, engine
        self.dt = 1.0 / spec.physics_hz
        self.h_max = self.dt / engine.substeps  # longest step while anything touches
        tau = engine.contact_tau_steps * self.dt
        self.soft = ((-1.0 / tau**2, -2.0 * engine.contact_damping / tau), (-1.0 / tau**2, -1.0 / tau))
        xml = engine.build_xml(spec)
        m = self.m = mujoco.MjModel.from_xml_string(xml)
        d = self.d = mujoco.MjData(m)
        n = self.n = len(spec.objects)
        self.qadr = np.array([m.jnt_qposadr[m.joint(f"j{i}").id] for i in range(n)], np.int64)
        self.vadr = np.array([m.jnt_dofadr[m.joint(f"j{i}").id] for i in range(n)], np.int64)
        self.gid = np.zeros(m.ngeom, np.int64)  # geom id -> simgen id (objects 1..N, statics -1..-M)
        for i in range(n):
            self.gid[m.geom(f"o{i}").id] = i + 1
        for j in range(len(spec.statics)):
            self.gid[m.geom(f"s{j}").id] = -(j + 1)
        # MuJoCo sorts the pairs: index them by the simgen ids of their geoms
        self.pair_index = {}
        for k in range(m.npair):
            a, b = int(self.gid[m.pair_geom1[k]]), int(self.gid[m.pair_geom2[k]])
            self.pair_index[(max(a, b), min(a, b))] = k
        self.held: frozenset = frozenset()  # pairs whose contacts act (the stepper's; others stay inert)
        self._last_imp: dict = {}
        self.enabled = None  # the pairs the current constraints were built for
        self.body_ids = np.array([m.body(f"b{i}").id for i in range(n)], np.int64)
        self._soft()
        st = State(np.array([o.position for o in spec.objects], np.float64).reshape(n, 3),
                   np.array([o.quaternion for o in spec.objects], np.float64).reshape(n, 4),
                   np.array([o.linear_velocity for o in spec.objects], np.float64).reshape(n, 3),
                   np.array([o.angular_velocity for o in spec.objects], np.float64).reshape(n, 3))
        self.write(st)

    def hold(self, pairs) -> None:
        self.held = frozenset(pairs)

    def _soft(self, every: bool = False) -> None:
        """Soft contacts (MuJoCo's own), acting only for the pairs the stepper holds (touching
        now or very recently): a pair that starts touching during a step is left inert, so that the
        stepper sees its approach and resolves it as an impact at its time of impact."""
        m, imp = self.m, self.engine.impedance
        if m.npair:
            on = np.full(m.npair, every)
            for pair in self.held:
                k = self.pair_index.get(pair)
                if k is not None:
                    on[k] = True
            # MuJoCo divides a direct-form solref by the impedance: an inert pair needs both tiny
            m.pair_solref[:] = np.where(on[:, None], self.soft[0], -1e-12)
            m.pair_solreffriction[:] = np.where(on[:, None], self.soft[1], -1e-12)
            m.pair_solimp[:, :2] = np.where(on, imp, INERT)[:, None]
        self.enabled = ALL if every else self.held

    # -- World ---------------------------------------------------------------------------------
    def read(self) -> State:
        d = self.d
        q = d.qpos[self.qadr[:, None] + np.arange(7)]
        wxyz = q[:, 3:7] / np.linalg.norm(q[:, 3:7], axis=1, keepdims=True)
        # cvel: (angular, linear) of each body in the world frame, about its centre of mass here
        return State(q[:, :3], wxyz[:, [1, 2, 3, 0]], d.qvel[self.vadr[:, None] + np.arange(3)],
                     d.cvel[self.body_ids, :3].copy())

    def write(self, state: State, bodies=None) -> None:
        d = self.d
        idx = range(self.n) if bodies is None else bodies
        for i in idx:
            qa, va = int(self.qadr[i]), int(self.vadr[i])
            x, y, z, w = state.quat[i]
            nq = (x * x + y * y + z * z + w * w) ** 0.5
            x, y, z, w = x / nq, y / nq, z / nq, w / nq
            d.qpos[qa:qa + 3] = state.pos[i]
            d.qpos[qa + 3:qa + 7] = (w, x, y, z)
            d.qvel[va:va + 3] = state.vel[i]
            d.qvel[va + 3:va + 6] = _rotate_inverse((w, x, y, z), state.omega[i])  # world -> body
        self.mj.mj_step1(self.m, d)

    def observe(self) -> tuple[Points, dict]:
        return self.points(), self._last_imp

    def near_points(self, distance: float) -> Points:
        m = self.m
        m.pair_margin[:] = distance  # report pairs this close (for this query only)
        self.mj.mj_step1(m, self.d)
        pts = self.points()
        m.pair_margin[:] = 0.0
        self.mj.mj_step1(m, self.d)
        keep = pts.dist < distance
        return Points(pts.a[keep], pts.b[keep], pts.pos[keep], pts.normal[keep], pts.dist[keep], pts.fresh[keep])

    def points(self) -> Points:
        d = self.d
        nc = d.ncon
        if nc == 0:
            return Points.empty()
        con = d.contact
        g1, g2 = self.gid[con.geom1[:nc]], self.gid[con.geom2[:nc]]
        normal = con.frame[:nc, :3].copy()  # from geom1 to geom2
        swap = g1 > g2  # order pairs so that a > b, the normal from b to a
        a, b = np.where(swap, g1, g2), np.where(swap, g2, g1)
        normal[swap] *= -1.0
        dist = con.dist[:nc].copy()
        pairs = list(zip(a.tolist(), b.tolist()))
        on = self.enabled
        fresh = np.array([on != ALL and pr not in on for pr in pairs], bool)
        return Points(a, b, con.pos[:nc].copy(), normal, dist, fresh)


    def _impulses(self, h: float) -> dict:
        """Normal impulse per pair of the (sub)step just solved, scaled to ``h``."""
        d = self.d
        imp: dict = {}
        nc = d.ncon
        if not nc:
            return imp
        adr = d.contact.efc_address[:nc]
        on = np.nonzero(adr >= 0)[0]
        if not len(on):
            return imp
        j = d.efc_force[adr[on]] * h  # elliptic cones: the first row of a contact is its normal force
        pts = self.points()
        for k, jk in zip(on, j):
            pair = (int(pts.a[k]), int(pts.b[k]))
            if jk > 0 and (self.enabled == ALL or pair in self.enabled):  # inert pairs push nothing
                old = imp.get(pair)
                imp[pair] = (jk, pts.pos[k], pts.normal[k]) if old is None else (old[0] + jk, old[1], old[2])
        return imp

    def step(self, h: float) -> tuple[Points, dict]:
        mj, m, d = self.mj, self.m, self.d
        if self.enabled != self.held:
            self._soft()
            mj.mj_step1(m, d)  # rebuild the constraints
        n = max(1, int(np.ceil(h / self.h_max - 1e-9))) if self.held else 1
        hs = h / n
        m.opt.timestep = hs
        if n > 1:
            mj.mj_step2(m, d)
            if n > 2:
                mj.mj_step(m, d, nstep=n - 2)
            mj.mj_step1(m, d)
        mj.mj_step2(m, d)
        imp = self._impulses(h)  # the last sub-step's forces over the whole step
        self.last_pieces = [hs] * n
        mj.mj_step1(m, d)
        return self.points(), imp

    def step_free(self, k: int) -> None:
        """Steps the stepper found quiet: every pair acts (soft), sub-stepped while anything
        touches or is held."""
        mj, m, d = self.mj, self.m, self.d
        if self.enabled != ALL:
            self._soft(every=True)
            mj.mj_step1(m, d)
        n = max(1, int(np.ceil(self.dt / self.h_max - 1e-9))) if (self.held or d.ncon) else 1
        m.opt.timestep = self.dt / n
        if k * n > 1:
            mj.mj_step2(m, d)
            if k * n > 2:
                mj.mj_step(m, d, nstep=k * n - 2)
            mj.mj_step1(m, d)
        mj.mj_step2(m, d)
        self._last_imp = self._impulses(self.dt)  # the last sub-step's forces over a whole step
        mj.mj_step1(m, d)
        self.last_pieces = [self.dt / n] * (k * n)


def _rotate_inverse(q, v) -> tuple:
    """Rotate v by the inverse of the unit quaternion q (w, x, y, z): world -> body."""
    w, x, y, z = q
    vx, vy, vz = v
    x, y, z = -x, -y, -z
    # t = 2 q_v x v; v' = v + w t + q_v x t
    tx, ty, tz = 2 * (y * vz - z * vy), 2 * (z * vx - x * vz), 2 * (x * vy - y * vx)
    return (vx + w * tx + y * tz - z * ty, vy + w * ty + z * tx - x * tz, vz + w * tz + x * ty - y * tx)


def _rotations(wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrices [n, 3, 3] of unit quaternions (w, x, y, z)."""
    w, x, y, z = wxyz.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


class MuJoCoEngine(Engine):
    name = "mujoco"

    def __init__(self, substeps: int = 8, contact_tau_steps: float = 1.0, contact_damping: float = 2.0,
                 impedance: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        import mujoco  # noqa: F401  (fail early if missing)

        self.substeps = int(substeps)
        self.contact_tau_steps = float(contact_tau_steps)
        self.contact_damping = float(contact_damping)
        self.impedance = float(impedance)
        if self.substeps < 1 or self.contact_tau_steps <= 0 or self.contact_damping <= 0 or not 0.0 < self.impedance < 1.0:
            raise ValueError("mujoco: substeps >= 1, contact_tau_steps > 0, contact_damping > 0 and 0 < impedance < 1 are required")

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

    def build_xml(self, spec: SceneSpec) -> str:
        """The MJCF of a scene."""
        solimp = f"{self.impedance!r} {self.impedance!r} 0.001 0.5 2"
        assets, bodies, pairs = [], [], []
        for i, obj in enumerate(spec.objects):
            geom, asset = self._geom(obj, i)
            if asset:
                assets.append(asset)
            inertial = ""
            if obj.inertia is not None:
                inertial = (f'<inertial pos="0 0 0" mass="{float(obj.mass)!r}" '
                            f'diaginertia="{_f(np.asarray(obj.inertia, dtype=np.float64))}"/>')
            bodies.append(f'<body name="b{i}" pos="{_f(obj.position)}" quat="{_f(_quat_wxyz(obj.quaternion))}">'
                          f'<freejoint name="j{i}"/>{inertial}{geom}</body>')

        def pair(g1: str, g2: str, mu: float) -> str:
            return (f'<pair geom1="{g1}" geom2="{g2}" condim="3" friction="{mu!r} {mu!r} 0 0 0" solref="-1 -1" '
                    f'solreffriction="0 -1" solimp="{solimp}" margin="0" gap="0"/>')

        for i, a in enumerate(spec.objects):
            for j, st in enumerate(spec.statics):
                pairs.append(pair(f"s{j}", f"o{i}", float(a.friction) * float(st.friction)))
            for k in range(i + 1, len(spec.objects)):
                b = spec.objects[k]
                pairs.append(pair(f"o{i}", f"o{k}", float(a.friction) * float(b.friction)))
        g = np.asarray(spec.gravity, dtype=np.float64)
        xml = (
            '<mujoco model="simgen">'
            '<compiler angle="radian" boundmass="0" boundinertia="0"/>'
            f'<option timestep="{1.0 / spec.physics_hz!r}" gravity="{_f(g)}" integrator="Euler" cone="elliptic" '
            f'iterations="{self.solver_iterations}" density="0" viscosity="0" wind="0 0 0">'
            '<flag refsafe="disable"/></option>'
            + (f"<asset>{''.join(assets)}</asset>" if assets else "")
            + "<worldbody>"
            + "".join(self._static(st, j) for j, st in enumerate(spec.statics))
            + "".join(bodies)
            + "</worldbody>"
            + (f"<contact>{''.join(pairs)}</contact>" if pairs else "")
            + "</mujoco>"
        )
        return xml

    # -- simulation ----------------------------------------------------------------------------
    def simulate(self, spec: SceneSpec) -> Trajectory:
        k = self.steps_per_frame(spec)
        world = _MuJoCoWorld(self, spec)
        stepper = Stepper(world, spec, self.restitution_threshold, self.contact_gap_steps)
        pos, quat, lin, ang = stepper.run()
        m = world.m
        return Trajectory(
            times=np.arange(spec.frames) * k / spec.physics_hz,
            positions=pos,
            quaternions=quat,
            linear_velocity=lin,
            angular_velocity=ang,
            mass=np.array([float(m.body_mass[m.body(f"b{i}").id]) for i in range(len(spec.objects))]),
            friction=np.array([float(o.friction) for o in spec.objects]),
            restitution=np.array([float(o.restitution) for o in spec.objects]),
            contacts=stepper.tracker.events,
            physics_hz=spec.physics_hz,
            engine=self.name,
            extras={"stepper": dict(stepper.stats)},
        )
