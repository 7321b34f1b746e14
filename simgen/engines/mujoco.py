"""MuJoCo engine (physics only; pyrender draws the pixels for both engines).

Driven by :class:`~simgen.engines.stepping.Stepper` (exact free flight; impacts resolved at their time
of impact by the stepper's own law, as for PyBullet). The model is MJCF generated in code from the
SceneSpec. Mapping (documented in the README):

- bodies: one free joint per object, ``<inertial>`` with the ObjectSpec's mass and principal moments
  (body frame = centre of mass on principal axes, as in the SceneSpec), so MuJoCo and PyBullet integrate
  the same rigid body. Shapes map one to one (sphere, box half extents, cylinder/capsule
  ``[radius, half_length]`` along body z, meshes as mesh assets whose convex hull MuJoCo collides).
  Statics are world geoms (``plane``, ``box``).
- time: ``timestep = 1 / physics_hz`` (shorter around an impact), semi-implicit Euler (as Bullet), no
  damping, no air (density and viscosity 0).
- normal contact: every object-object and object-static pair is an explicit ``<contact><pair>``
  (geom ``contype``/``conaffinity`` are 0), no margin. A spring-damper in MuJoCo's direct ``solref``
  form with time constant ``contact_tau_steps`` steps and damping ratio ``contact_damping`` (1:
  critically damped, the approach stopped within a step, a quarter of the depth recovered per step)
  at impedance ``impedance``. It only sees gentle contacts: faster ones are impacts.
- friction: MuJoCo's convex contact model makes a sliding contact push the bodies apart by mu times
  the slip it cannot stop (a box sliding down a ramp hops along it), so its pairs are frictionless
  (``condim=1``) and :meth:`_MuJoCoWorld._friction` applies Coulomb friction as a force at each
  touching pair (through ``xfrc_applied``): the force that stops the slip, at most
  ``mu * N`` with ``N`` the pair's normal force of the step before and ``mu = mu_a * mu_b`` (Bullet's
  product rule; MuJoCo's own rule is the max). The force is held over a batch of steps only while no
  sliding pair can stop or turn back within it (:meth:`_MuJoCoWorld.quiet_limit`).
"""

from __future__ import annotations

import numpy as np

from simgen.engines import Engine
from simgen.engines.impacts import Bodies
from simgen.engines.stepping import Points, State, Stepper, World
from simgen.shapes import principal_inertia
from simgen.spec import SceneSpec, Trajectory


def _f(x) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(x))


def _quat_wxyz(q_xyzw) -> np.ndarray:
    q = np.asarray(q_xyzw, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return np.array([q[3], q[0], q[1], q[2]])


class _MuJoCoWorld(World):
    # m/s: a new point of a pair already touching, faster than this, is an impact (slower ones the
    # contact spring takes within ~1.5 mm)
    held_impact_speed = 0.5

    def __init__(self, engine: "MuJoCoEngine", spec: SceneSpec):
        import mujoco

        self.mj, self.engine = mujoco, engine
        self.dt = 1.0 / spec.physics_hz
        self.g = np.asarray(spec.gravity, np.float64)
        m = self.m = mujoco.MjModel.from_xml_string(engine.build_xml(spec))
        d = self.d = mujoco.MjData(m)
        n = self.n = len(spec.objects)
        self.qadr = np.array([m.jnt_qposadr[m.joint(f"j{i}").id] for i in range(n)], np.int64)
        self.vadr = np.array([m.jnt_dofadr[m.joint(f"j{i}").id] for i in range(n)], np.int64)
        self.body_ids = np.array([m.body(f"b{i}").id for i in range(n)], np.int64)
        self._xyzw = np.array([4, 5, 6, 3])
        # build_xml gives each object one free joint and nothing else, in order: body i's qpos and qvel
        # rows are 7 i..7 i+7 and 6 i..6 i+6, its body id i + 1 (read as slices: numpy's fancy
        # indexing costs more than the copy)
        if not (m.nq == 7 * n and m.nv == 6 * n and self.qadr.tolist() == list(range(0, 7 * n, 7))
                and self.vadr.tolist() == list(range(0, 6 * n, 6)) and self.body_ids.tolist() == list(range(1, n + 1))):
            raise RuntimeError("MuJoCo model: expected one free joint per object, in order, and no other joints")
        # the objects' rows of qpos, qvel and cvel as views, made once (MjData's arrays never move)
        self._qpos, self._qvel, self._cvel = d.qpos.reshape(n, 7), d.qvel.reshape(n, 6), d.cvel[1:n + 1]
        self.gid = np.zeros(m.ngeom, np.int64)  # geom id -> simgen id (objects 1..N, statics -1..-M)
        for i in range(n):
            self.gid[m.geom(f"o{i}").id] = i + 1
        for j in range(len(spec.statics)):
            self.gid[m.geom(f"s{j}").id] = -(j + 1)
        self.geom_of = {int(k): g for g, k in enumerate(self.gid) if k != 0}  # simgen id -> geom id
        # geom ids of a contact -> (a, b, whether MuJoCo's normal points from a to b), ordered so that a > b
        self.pair_of = [[(max(k1, k2), min(k1, k2), k1 > k2) for k2 in self.gid.tolist()] for k1 in self.gid.tolist()]
        self.gnorm = float(np.linalg.norm(self.g))
        self.g_list = self.g.tolist()
        self.tangents: dict = {}  # unit normal -> its tangents
        self.mu = {}
        for i, a in enumerate(spec.objects):
            for j, st in enumerate(spec.statics):
                self.mu[(i + 1, -(j + 1))] = float(a.friction) * float(st.friction)
            for k in range(i):
                self.mu[(i + 1, k + 1)] = float(a.friction) * float(spec.objects[k].friction)
        inertia = [o.inertia if o.inertia is not None else principal_inertia(o.shape, o.size, o.mass, o.mesh)
                   for o in spec.objects]
        self.mass = Bodies(np.array([o.mass for o in spec.objects], np.float64).reshape(-1),
                           np.array(inertia, np.float64).reshape(-1, 3))
        self.normal: dict = {}  # pair -> (normal force N, point, normal, points) of the last step
        self._st = self._pts = self._kin = None  # what was read of the current state
        self._pushing = False  # xfrc_applied holds friction forces
        st = State(np.array([o.position for o in spec.objects], np.float64).reshape(n, 3),
                   np.array([o.quaternion for o in spec.objects], np.float64).reshape(n, 4),
                   np.array([o.linear_velocity for o in spec.objects], np.float64).reshape(n, 3),
                   np.array([o.angular_velocity for o in spec.objects], np.float64).reshape(n, 3))
        self.write(st)

    # -- friction ------------------------------------------------------------------------------
    def _friction(self, span: float) -> None:
        """Coulomb friction of every touching pair as forces held over the next ``span`` seconds:
        the force that stops the pair's slip at its contact point within the span (with gravity's
        pull along the surface), capped at mu N. A pair touching at three points or more cannot
        turn about its contact, so it resists with the bodies' whole mass."""
        d = self.d
        if self._pushing:  # (the forces of the last span; nothing else writes them)
            d.xfrc_applied[:] = 0.0
            self._pushing = False
        pairs = dict(self.normal)
        pts = self.points()
        touching: dict = {}  # the points of each body-static pair touching now
        la, lb, ld, _ = pts.head()
        for k, (a, b, dd) in enumerate(zip(la, lb, ld)):
            if dd < 1e-3 and b < 0:
                touching.setdefault((a, b), []).append(k)
        for pair, k in touching.items():  # a body that has just landed flat on a static, not yet solved
            if len(k) >= 3 and pair not in pairs:
                nrm = pts.normal[k].mean(axis=0)
                pairs[pair] = (0.0, tuple(pts.pos[k].mean(axis=0).tolist()), tuple((nrm / np.linalg.norm(nrm)).tolist()),
                               len(k))
        if not pairs:
            return
        kin = self._kinematics()
        gx, gy, gz = self.g_list
        tangents = self.tangents  # (a static's normal repeats step after step)
        if len(tangents) > 64:
            tangents.clear()
        out = [[0.0] * 6 for _ in range(self.n)]  # force, torque per body (Python floats: a few small sums)
        for pair, (force, p, nrm, count) in pairs.items():
            mu = self.mu.get(pair, 0.0)
            a, b = pair
            nx, ny, nz = nrm
            gn = gx * nx + gy * ny + gz * nz
            # lying on a face (the last solve may have seen fewer points: a landing): at least its weight's share
            if max(count, len(touching.get(pair, ()))) >= 3 and b < 0:
                force = max(force, -gn / kin.inv_mass[a - 1])
            if force <= 0 or mu <= 0:
                continue
            vx, vy, vz = kin.relative_velocity(pair, p)
            if b > 0:
                px = py = pz = 0.0
            else:  # relative unconstrained acceleration: gravity along the surface
                px, py, pz = gx - gn * nx, gy - gn * ny, gz - gn * nz
            vn = vx * nx + vy * ny + vz * nz
            wx, wy, wz = (vx - vn * nx) / span + px, (vy - vn * ny) / span + py, (vz - vn * nz) / span + pz
            t12 = tangents.get(nrm)
            if t12 is None:
                t12 = tangents[nrm] = _tangents(nx, ny, nz)
            t1, t2 = t12
            w1 = wx * t1[0] + wy * t1[1] + wz * t1[2]
            w2 = wx * t2[0] + wy * t2[1] + wz * t2[2]
            if count >= 3:
                inv = sum(kin.inv_mass[k - 1] for k in pair if k > 0)
                f1, f2 = -w1 / inv, -w2 / inv
            else:
                k11, k12, k22 = kin.k_tangent(pair, p, t1, t2)
                det = k11 * k22 - k12 * k12
                f1, f2 = -(k22 * w1 - k12 * w2) / det, -(k11 * w2 - k12 * w1) / det
            size = (f1 * f1 + f2 * f2) ** 0.5
            if size > mu * force:
                f1, f2 = f1 * mu * force / size, f2 * mu * force / size
            fx, fy, fz = f1 * t1[0] + f2 * t2[0], f1 * t1[1] + f2 * t2[1], f1 * t1[2] + f2 * t2[2]  # on a; -f on b
            for k, sgn in ((a, 1.0), (b, -1.0)):
                if k > 0:
                    cx, cy, cz = kin.pos[k - 1]
                    rx, ry, rz = p[0] - cx, p[1] - cy, p[2] - cz
                    row = out[k - 1]  # force and torque (r x f) on the body
                    row[0] += sgn * fx
                    row[1] += sgn * fy
                    row[2] += sgn * fz
                    row[3] += sgn * (ry * fz - rz * fy)
                    row[4] += sgn * (rz * fx - rx * fz)
                    row[5] += sgn * (rx * fy - ry * fx)
        d.xfrc_applied[1:self.n + 1] = out
        self._pushing = True

    def quiet_limit(self) -> int:
        """Steps over which the friction forces stay right: no sliding pair stops or reverses."""
        limit = np.inf
        pts = self.points()  # a pair that has just come to touch and slides, with no normal force
        la, lb, ld, _ = pts.head()
        for k, (a, b, dd) in enumerate(zip(la, lb, ld)):  # solved
            if dd <= 1e-3 and (a, b) not in self.normal and self.mu.get((a, b), 0.0) > 0:  # yet, has no
                # friction until a step solves one: that step alone
                pos, normal = pts.rows()
                vn, slip = self._kinematics().slip((a, b), pos[k], normal[k])
                if vn < 0.05 and slip > 1e-3:  # not leaving, and friction has work to do
                    return 1
        if not self.normal:
            return limit
        kin = self._kinematics()
        g = self.gnorm
        for pair, (force, p, nrm, count) in self.normal.items():
            _, slip = kin.slip(pair, p, nrm)
            inv = sum(kin.inv_mass[k - 1] for k in pair if k > 0)
            decel = self.mu.get(pair, 0.0) * force * inv + g
            if slip > decel * self.dt:  # sliding: the force holds until the slip could stop
                limit = min(limit, max(1, int(0.5 * slip / (decel * self.dt))))
            elif slip > 1e-3 and pair[1] < 0 and self._against_pull(kin, pair, p, nrm):
                # it stops within a step and turns back: one step (held over a longer span, the force
                # that stops it at the span's end would hold a box that must slide back, as if stuck)
                return 1
        return limit

    def _against_pull(self, kin: "_Kin", pair, p, nrm) -> bool:
        """Whether the pair (body on a static) slips against gravity's pull along the surface (a box
        climbing a ramp), so that it stops and turns back or rests."""
        vx, vy, vz = kin.relative_velocity(pair, p)
        nx, ny, nz = nrm
        gx, gy, gz = self.g_list
        gn = gx * nx + gy * ny + gz * nz
        vn = vx * nx + vy * ny + vz * nz
        return vx * gx + vy * gy + vz * gz - gn * vn < 0.0  # v . (g - (g.n) n)

    # -- World ---------------------------------------------------------------------------------
    def _state(self) -> State:
        """The current state (read once per state; not to be changed)."""
        if self._st is None:
            q = self._qpos
            # (MuJoCo keeps the quaternions unit: each step normalises one before turning it, the
            # turn is a unit quaternion; normalising them again here moved only their last bits)
            pos, xyzw = q[:, :3].copy(), q.take(self._xyzw, 1)
            vel, omega = self._qvel[:, :3].copy(), self._cvel[:, :3].copy()
            # cvel: (angular, linear) of each body in the world frame, about its centre of mass here
            self._st = State(pos, xyzw, vel, omega)
        return self._st

    def read(self) -> State:
        return self._state().copy()

    def _changed(self) -> None:
        """The state or its contacts changed: forget what was read."""
        self._st = self._pts = self._kin = None

    def _kinematics(self) -> "_Kin":
        """The current state as Python floats (read once per state: the broad phase's friction
        limit and the friction forces of the next step both need it)."""
        if self._kin is None:
            self._kin = _Kin(self._state(), self.mass)
        return self._kin

    def write(self, state: State, bodies=None) -> None:
        d = self.d
        q, v = self._qpos, self._qvel
        quat, omega = state.quat.tolist(), state.omega.tolist()
        for i in (range(self.n) if bodies is None else np.asarray(bodies).tolist()):
            x, y, z, w = quat[i]
            nq = (x * x + y * y + z * z + w * w) ** 0.5
            x, y, z, w = x / nq, y / nq, z / nq, w / nq
            q[i, :3] = state.pos[i]
            q[i, 3:7] = (w, x, y, z)
            v[i, :3] = state.vel[i]
            v[i, 3:6] = _rotate_inverse((w, x, y, z), omega[i])  # world -> body
        self.mj.mj_step1(self.m, d)
        self._changed()

    def observe(self) -> tuple[Points, dict]:
        return self.points(), {pr: (f * self.dt, p, nrm) for pr, (f, p, nrm, _) in self.normal.items()}

    def distance(self, a: int, b: int, within: float) -> float:
        return float(self.mj.mj_geomDistance(self.m, self.d, int(self.geom_of[a]), int(self.geom_of[b]), within, None))

    def near_points(self, distance: float) -> Points:
        m = self.m
        m.pair_margin[:] = distance  # report pairs this close (for this query only)
        self.mj.mj_step1(m, self.d)
        pts = self._read_points()
        m.pair_margin[:] = 0.0
        self.mj.mj_step1(m, self.d)
        self._changed()
        keep = pts.dist < distance
        return Points(pts.a[keep], pts.b[keep], pts.pos[keep], pts.normal[keep], pts.dist[keep], pts.fresh[keep])

    def points(self) -> Points:
        if self._pts is None:
            self._pts = self._read_points()
        return self._pts

    def _read_points(self) -> Points:
        d = self.d
        nc = d.ncon
        if nc == 0:
            return Points.empty()
        con = d.contact  # (its arrays hold the ncon contacts; a handful: Python lists cost less than numpy's calls)
        pair = self.pair_of
        ab = [pair[g1][g2] for g1, g2 in con.geom.tolist()]
        pos, frame = con.pos.tolist(), con.frame[:, :3].tolist()

        def rows():  # the normal (from geom1 to geom2) from b to a
            return pos, [(-x, -y, -z) if f else (x, y, z) for (x, y, z), (_, _, f) in zip(frame, ab)]

        return Points.of_lists([x[0] for x in ab], [x[1] for x in ab], con.dist.tolist(), [True] * nc, rows)

    def _solved(self) -> None:
        """The normal force of every pair in the step just solved (before the next collision):
        pair -> (force N, point, unit normal from b to a, points), point and normal as tuples."""
        d = self.d
        self.normal = {}
        if not d.ncon:
            return
        con = d.contact
        # a handful of contacts: Python floats are cheaper than numpy's per-call overhead
        adr = con.efc_address.tolist()
        if max(adr) < 0:
            return
        efc = d.efc_force.tolist()  # (one row per contact: condim 1)
        pair_of = self.pair_of
        acc: dict = {}
        for k, ((g1, g2), (px, py, pz), (nx, ny, nz)) in enumerate(zip(con.geom.tolist(), con.pos.tolist(),
                                                                        con.frame[:, :3].tolist())):
            if adr[k] < 0:
                continue
            f = efc[adr[k]]
            if not f > 0:
                continue
            a, b, flip = pair_of[g1][g2]
            fs = -f if flip else f
            old = acc.get((a, b))
            if old is None:
                acc[(a, b)] = [f, f * px, f * py, f * pz, fs * nx, fs * ny, fs * nz, 1]
            else:  # (summed in the order of the contacts)
                old[0] += f
                old[1] += f * px
                old[2] += f * py
                old[3] += f * pz
                old[4] += fs * nx
                old[5] += fs * ny
                old[6] += fs * nz
                old[7] += 1
        for pair, (tot, px, py, pz, nx, ny, nz, cnt) in acc.items():
            size = (nx * nx + ny * ny + nz * nz) ** 0.5
            self.normal[pair] = (tot, (px / tot, py / tot, pz / tot), (nx / size, ny / size, nz / size), cnt)

    def step(self, h: float) -> tuple[Points, dict]:
        mj, m, d = self.mj, self.m, self.d
        self._friction(h)
        m.opt.timestep = h
        mj.mj_step2(m, d)
        self._solved()
        self.last_pieces = [h]
        mj.mj_step1(m, d)
        self._changed()
        return self.points(), {pr: (f * h, p, nrm) for pr, (f, p, nrm, _) in self.normal.items()}

    def step_free(self, k: int, rates: bool = True, marks: tuple = ()) -> list:
        mj, m, d = self.mj, self.m, self.d
        self._friction(k * self.dt)
        m.opt.timestep = self.dt
        states, done = [], 0
        for j in marks:  # (mj_step = mj_step1 + mj_step2; the state at the end of each call has had mj_step1)
            mj.mj_step2(m, d)
            if j - done > 1:
                mj.mj_step(m, d, nstep=j - done - 1)
            mj.mj_step1(m, d)
            self._changed()
            states.append(self.read())
            done = j
        left = k - done
        if left > 1:
            mj.mj_step2(m, d)
            if left > 2:
                mj.mj_step(m, d, nstep=left - 2)
            mj.mj_step1(m, d)
        if rates:  # (the stepper reads them only then)
            self.before_last = (self._qvel[:, :3].copy(), self._cvel[:, :3].copy())
        mj.mj_step2(m, d)
        self._solved()
        mj.mj_step1(m, d)
        self._changed()
        self.last_pieces = [self.dt] * k
        return states


class _Kin:
    """Bodies' poses and velocities as Python floats, for the few small sums friction needs."""

    def __init__(self, st: State, mass: Bodies):
        self.pos, self.vel, self.omega = st.pos.tolist(), st.vel.tolist(), st.omega.tolist()
        self.quat = st.quat.tolist()
        self.inv_mass = mass.inv_mass.tolist()
        self.inv_inertia = mass.inv_inertia.tolist()

    def point_velocity(self, body: int, p) -> tuple:
        if body <= 0:
            return 0.0, 0.0, 0.0
        i = body - 1
        (cx, cy, cz), (vx, vy, vz), (wx, wy, wz) = self.pos[i], self.vel[i], self.omega[i]
        rx, ry, rz = p[0] - cx, p[1] - cy, p[2] - cz
        return vx + wy * rz - wz * ry, vy + wz * rx - wx * rz, vz + wx * ry - wy * rx

    def relative_velocity(self, pair, p) -> tuple:
        """Velocity of body pair[0]'s point p relative to body pair[1]'s (a static's is zero)."""
        vx, vy, vz = self.point_velocity(pair[0], p)
        if pair[1] <= 0:
            return vx, vy, vz
        ux, uy, uz = self.point_velocity(pair[1], p)
        return vx - ux, vy - uy, vz - uz

    def slip(self, pair, p, n) -> tuple:
        """(normal, tangential speed) of the pair's relative velocity at p, normal n (from b to a)."""
        vx, vy, vz = self.relative_velocity(pair, p)
        nx, ny, nz = n
        vn = vx * nx + vy * ny + vz * nz
        return vn, ((vx - vn * nx) ** 2 + (vy - vn * ny) ** 2 + (vz - vn * nz) ** 2) ** 0.5

    def k_tangent(self, pair, p, t1, t2) -> tuple:
        """The 2x2 (symmetric) velocity change at p along t1, t2 per unit impulse along t1, t2."""
        k11 = k22 = k12 = 0.0
        for body in pair:
            if body <= 0:
                continue
            i = body - 1
            m = self.inv_mass[i]
            k11, k22 = k11 + m, k22 + m
            cx, cy, cz = self.pos[i]
            r0, r1, r2 = p[0] - cx, p[1] - cy, p[2] - cz
            x, y, z, w = self.quat[i]
            x, y, z = -x, -y, -z
            uu = []
            for a0, a1, a2 in (t1, t2):  # r x t in the body frame (_rotate_inverse of _cross3, inline)
                vx, vy, vz = r1 * a2 - r2 * a1, r2 * a0 - r0 * a2, r0 * a1 - r1 * a0
                tx, ty, tz = 2 * (y * vz - z * vy), 2 * (z * vx - x * vz), 2 * (x * vy - y * vx)
                uu.append((vx + w * tx + y * tz - z * ty, vy + w * ty + z * tx - x * tz, vz + w * tz + x * ty - y * tx))
            u1, u2 = uu
            ia, ib, ic = self.inv_inertia[i]
            k11 += ia * u1[0] * u1[0] + ib * u1[1] * u1[1] + ic * u1[2] * u1[2]
            k22 += ia * u2[0] * u2[0] + ib * u2[1] * u2[1] + ic * u2[2] * u2[2]
            k12 += ia * u1[0] * u2[0] + ib * u1[1] * u2[1] + ic * u1[2] * u2[2]
        return k11, k12, k22


def _cross3(a, b) -> tuple:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _tangents(nx: float, ny: float, nz: float) -> tuple:
    """Two unit tangents completing the normal to a right-handed frame."""
    ex, ey, ez = (1.0, 0.0, 0.0) if abs(nx) < 0.9 else (0.0, 1.0, 0.0)
    t = _cross3((nx, ny, nz), (ex, ey, ez))
    size = (t[0] * t[0] + t[1] * t[1] + t[2] * t[2]) ** 0.5
    t1 = (t[0] / size, t[1] / size, t[2] / size)
    return t1, _cross3((nx, ny, nz), t1)


def _rotate_inverse(q, v) -> tuple:
    """Rotate v by the inverse of the unit quaternion q (w, x, y, z): world -> body."""
    w, x, y, z = q
    vx, vy, vz = v
    x, y, z = -x, -y, -z
    # t = 2 q_v x v; v' = v + w t + q_v x t
    tx, ty, tz = 2 * (y * vz - z * vy), 2 * (z * vx - x * vz), 2 * (x * vy - y * vx)
    return (vx + w * tx + y * tz - z * ty, vy + w * ty + z * tx - x * tz, vz + w * tz + x * ty - y * tx)


class MuJoCoEngine(Engine):
    name = "mujoco"

    def __init__(self, contact_tau_steps: float = 2.0, contact_damping: float = 1.0, impedance: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        import mujoco  # noqa: F401  (fail early if missing)

        self.contact_tau_steps = float(contact_tau_steps)
        self.contact_damping = float(contact_damping)
        self.impedance = float(impedance)
        if self.contact_tau_steps <= 0 or self.contact_damping <= 0 or not 0.0 < self.impedance < 1.0:
            raise ValueError("mujoco: contact_tau_steps > 0, contact_damping > 0 and 0 < impedance < 1 are required")

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

        tau = self.contact_tau_steps / float(spec.physics_hz)
        solref = f"{-1.0 / tau**2!r} {-2.0 * self.contact_damping / tau!r}"

        def pair(g1: str, g2: str) -> str:  # frictionless: the engine applies Coulomb friction itself
            return f'<pair geom1="{g1}" geom2="{g2}" condim="1" solref="{solref}" solimp="{solimp}" margin="0" gap="0"/>'

        for i in range(len(spec.objects)):
            for j in range(len(spec.statics)):
                pairs.append(pair(f"s{j}", f"o{i}"))
            for k in range(i + 1, len(spec.objects)):
                pairs.append(pair(f"o{i}", f"o{k}"))
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
