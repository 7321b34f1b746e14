"""Event-driven stepping shared by both engines: exact free flight, impacts at their time of impact.

An engine (:class:`World`) only has to take a step of any length, report the contact points of its
current state and read/write body states. :class:`Stepper` drives it so that what is recorded is
the analytic answer wherever one exists:

- **Free flight is exact.** Both engines integrate with semi-implicit Euler (v += g h; x += v h),
  which lands positions ``g h t / 2`` off the parabola. A body in flight carries the half-step
  velocity ``u = v - g dt / 2`` (leapfrog): then every step of ``dt`` lands exactly on
  ``x0 + v0 t + g t^2 / 2``, and the velocity recorded at a frame is ``u + g dt / 2``, the velocity at
  the frame's time. Steps cut short by an impact elsewhere are corrected exactly (``_correct``), so
  one body's contacts never change another body's flight.
- **Impacts are resolved at their time of impact.** After every step the new contact points are
  checked; a point of a pair not held that penetrates while approaching faster than ``LAND_SPEED``
  (or a new point of a held pair faster than the engine's ``held_impact_speed``) is an impact. The
  step is redone up to the moment the point touches (a few Newton iterations on its depth, to
  within ``depth_tol`` = 0.2 mm; a predicted landing's first piece aims 0.02 mm deep), the overlap
  is undone along the normal (a sphere in flight is also taken back to the touch in velocity, and
  forward on its new flight after), the bodies' velocities there are the true ones, and simgen's
  own solver (:mod:`simgen.engines.impacts`) resolves it in one instantaneous velocity change: every
  impacting patch leaves with ``-e`` times its approach velocity (Newton's law, e = e_a * e_b as
  Bullet combines; e = 0 below ``restitution_threshold``), Coulomb friction in the circular cone,
  every other touching patch of those bodies not approaching; no position correction, no gravity.
  Rebound and impact speed are then exactly e apart, nothing sinks at impact, and the impulse of
  the event is the whole momentum exchange, the same in both engines. A pair that struck and stays
  touching is held from then on, the rest of that step included (a ball landing too slowly to
  bounce is pressed onto the floor again by gravity within the step: that is the engine's contact,
  not a second impact of the same touch).
- **Everything else** (resting, sliding, rolling, slow touches of a held pair) is the engine's own
  contact solver at ``dt``: Bullet's with position correction ``contact_erp``, MuJoCo's contact
  spring with friction applied as Coulomb forces (:mod:`simgen.engines.mujoco`).

Contact events (:class:`~simgen.engines.contacts.ContactTracker`): an impact, or a pair touching
after ``gap_steps`` apart. Frame times are exact step boundaries; quaternions are made
sign-continuous.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from simgen.engines.contacts import ContactTracker
from simgen.engines.geometry import Hull, bounding_radius, collision_vertices, contact_patch, rotation
from simgen.engines.impacts import Bodies, Patch, resolve
from simgen.shapes import principal_inertia
from simgen.spec import SceneSpec, Trajectory, quat_to_matrix

NEAR = 2e-4  # m: a body this close to something at t = 0 starts in contact (no half-step offset)
MARGIN = 5e-3  # m: broad phase: bounding spheres closer than this (plus a step's travel) need the real shapes
SHAPE_MARGIN = 5e-4  # m: and real shapes closer than this (their distance is exact) need contact queries
TOUCH = 1e-4  # m: points closer than this touch (the patches of an impact)
FLY_GAP = 1e-4  # m: a body in flight (on its exact path) may come this close to a plane in a batch
WITHIN = 0.05  # m: farthest distance asked of the engine (farther counts as this far)
HORIZON = 32  # steps: the longest run of batches one broad phase may clear
OFF_BODY = 1e-3  # m: a contact point farther than this beyond a body's bounding radius is not on it
HELD_POINT = 5e-4  # m: a body's corner this close to a plane it holds is part of that contact
LAND_SPEED = 0.01  # m/s: a pair not held that meets faster than this is an impact (bouncing only above the threshold)
AIM_DEPTH = 2e-5  # m: a predicted landing's first piece ends this deep (a sphere's exactly: its rebound is exact to g d / v^2)


class Points:
    """Contact points of the current state. ``a`` > ``b`` (objects 1..N before statics -1, -2, ...),
    ``normal`` points from b to a, ``dist`` < 0 is penetration. ``fresh``: the point took no impulse
    in the last step (it may be a new impact).

    Given as arrays, or as Python lists (:meth:`of_lists`, what PyBullet reports): the stepper reads
    1-8 points at a time, where numpy's per-call cost dominates, so each form is made from the other
    on first use: ``head()`` (a, b, dist, fresh), ``rows()`` (position and normal rows, which few
    readers need: PyBullet's are made only then), ``lists()`` both. Never written to."""

    __slots__ = ("_arrays", "_head", "_rows", "_make_rows")

    def __init__(self, a: np.ndarray, b: np.ndarray, pos: np.ndarray, normal: np.ndarray, dist: np.ndarray,
                 fresh: np.ndarray, rows: tuple | None = None):
        self._arrays = (a, b, pos, normal, dist, fresh)
        self._head, self._rows = (None, None) if rows is None else (rows[:4], rows[4:])
        self._make_rows = None

    @classmethod
    def of_lists(cls, a: list, b: list, dist: list, fresh: list, make_rows) -> "Points":
        """Points from lists; ``make_rows()`` gives the (position rows, normal rows) when asked for."""
        pts = cls.__new__(cls)
        pts._arrays, pts._head, pts._rows, pts._make_rows = None, (a, b, dist, fresh), None, make_rows
        return pts

    def head(self) -> tuple:
        h = self._head
        if h is None:
            a, b, _, _, dist, fresh = self._arrays
            h = self._head = (a.tolist(), b.tolist(), dist.tolist(), fresh.tolist())
        return h

    def rows(self) -> tuple:
        r = self._rows
        if r is None:
            r = self._rows = self._make_rows() if self._arrays is None else (self._arrays[2].tolist(), self._arrays[3].tolist())
        return r

    def lists(self) -> tuple:
        return self.head() + self.rows()

    def arrays(self) -> tuple:
        arr = self._arrays
        if arr is None:
            a, b, dist, fresh = self._head
            pos, normal = self.rows()
            ab = np.array((a, b), np.int64).reshape(2, len(a))
            arr = self._arrays = (ab[0], ab[1], np.array(pos, np.float64).reshape(-1, 3),
                                  np.array(normal, np.float64).reshape(-1, 3), np.array(dist, np.float64),
                                  np.array(fresh, bool))
        return arr

    a = property(lambda self: self.arrays()[0])
    b = property(lambda self: self.arrays()[1])
    pos = property(lambda self: self.arrays()[2])
    normal = property(lambda self: self.arrays()[3])
    dist = property(lambda self: self.arrays()[4])
    fresh = property(lambda self: self.arrays()[5])

    def __repr__(self) -> str:
        a, b, pos, normal, dist, fresh = self.arrays()
        return f"Points(a={a!r}, b={b!r}, pos={pos!r}, normal={normal!r}, dist={dist!r}, fresh={fresh!r})"

    @staticmethod
    def empty() -> "Points":
        return _NO_POINTS  # (shared: never written to)


_z = np.zeros(0)
_NO_POINTS = Points(_z.astype(np.int64), _z.astype(np.int64), np.zeros((0, 3)), np.zeros((0, 3)), _z, _z.astype(bool),
                    ((), (), (), (), (), ()))


@dataclass
class State:
    """Body states: centre of mass [n, 3], orientation (x, y, z, w) [n, 4], linear and angular
    velocity, world frame [n, 3]."""

    pos: np.ndarray
    quat: np.ndarray
    vel: np.ndarray
    omega: np.ndarray

    def copy(self) -> "State":
        return State(self.pos.copy(), self.quat.copy(), self.vel.copy(), self.omega.copy())


class World(ABC):
    """What the stepper needs from an engine. Body ids in contacts: objects 1..N, statics -1, -2, ...

    ``last_pieces``: the lengths of the semi-implicit steps the last call took (an engine may
    sub-step while bodies touch)."""

    last_pieces: list = []
    # linear and angular velocities [n, 3] one step before the end of the last ``step_free``
    before_last: tuple | None = None
    # the bodies whose rows of ``before_last`` the stepper reads (None: all; an engine may leave the
    # other rows at anything)
    rate_bodies: list | None = None
    # new contact points of a pair already touching are impacts only above this approach speed
    # (m/s); below it (always, if infinite) they are the engine's own contact
    held_impact_speed: float = np.inf

    @abstractmethod
    def read(self) -> State: ...

    @abstractmethod
    def write(self, state: State, bodies: np.ndarray | None = None) -> None:
        """Set the state of ``bodies`` (all when None)."""

    @abstractmethod
    def step(self, h: float) -> tuple[Points, dict]:
        """Advance by ``h`` seconds (the engine's contacts act, without restitution). Returns the
        contact points of the new state and, for every pair that took a normal impulse during the
        step, ``pair -> (impulse N s, position, normal)``."""

    @abstractmethod
    def step_free(self, k: int, rates: bool = True, marks: tuple = ()) -> list:
        """``k`` whole physics steps without contact queries (nothing the stepper must resolve happens);
        sets ``before_last`` if ``rates``. ``marks``: step counts (ascending, within 1..k-1) after which
        the state is read; returns those states (as :meth:`read` gives them)."""

    @abstractmethod
    def observe(self) -> tuple[Points, dict]:
        """Contact points of the current state and the impulses of the last step (as ``step``)."""

    def quiet_limit(self) -> float:
        """Most steps of one batch (forces the engine holds fixed over a batch stay right); the
        stepper renews them there without a broad phase."""
        return np.inf

    def hold(self, pairs) -> None:
        """The pairs touching now or within the last few steps (an engine whose contacts act only
        for those, to leave new ones to the stepper, is told so before every step)."""

    @abstractmethod
    def near_points(self, distance: float) -> Points:
        """Contact points of the current state closer than ``distance`` (without stepping)."""

    def distance(self, a: int, b: int, within: float) -> float:
        """Smallest distance between the collision shapes of ``a`` and ``b`` (objects 1..N, statics
        -1..-M) in the current state, or ``within`` if they are farther apart; -inf if unknown."""
        return -np.inf


class _Broad:
    """What the broad phase's checks share: the state, positions, true velocities (lists), and
    which bodies fly, touch something, move slowly, and how fast their farthest point turns about
    the centre (a sphere's turning moves no part of its surface closer to anything: 0)."""
    __slots__ = ("st", "x", "v", "free", "touching", "slow", "turn")

    def __init__(self, st: State, x: list, v: list, free: list, touching: list, slow: list, turn: list):
        self.st, self.x, self.v, self.free, self.touching, self.slow, self.turn = st, x, v, free, touching, slow, turn


class Stepper:
    def __init__(self, world: World, spec: SceneSpec, restitution_threshold: float = 0.2, gap_steps: int = 2,
                 depth_tol: float = 2e-4, max_toi_iterations: int = 12):
        self.w, self.spec = world, spec
        self.n = len(spec.objects)
        self.g = np.asarray(spec.gravity, np.float64)
        self.dt = 1.0 / float(spec.physics_hz)
        self.v_thr = float(restitution_threshold)
        self.depth_tol = float(depth_tol)
        self.depth_target = 0.4 * self.depth_tol  # what a time-of-impact search aims at
        self.aim_depth = AIM_DEPTH
        self.max_iter = int(max_toi_iterations)
        self.tracker = ContactTracker(spec.fps, spec.physics_hz, gap_steps)
        self.keep = int(gap_steps)  # a pair apart for no longer than this is still the same contact (held)
        self.vertices = [collision_vertices(o) for o in spec.objects]  # (a mesh's hull: computed once)
        self.radius = np.array([bounding_radius(o.shape, o.size, v if o.shape == "mesh" else None)
                                for o, v in zip(spec.objects, self.vertices)])
        # a sphere's contact point moves continuously as it rolls: no new point of it can strike
        self.sphere = np.array([o.shape == "sphere" for o in spec.objects], bool)
        # (the rates of change over a step are read by _corners_slow only, never of a sphere)
        world.rate_bodies = [i for i, o in enumerate(spec.objects) if o.shape != "sphere"]
        self.hulls = [Hull(o.shape, o.size, v) for o, v in zip(spec.objects, self.vertices)]
        self.box_half = [tuple(float(x) for x in o.size[:3]) if o.shape == "box" else None for o in spec.objects]
        self.axial = np.array([o.shape in ("cylinder", "capsule") for o in spec.objects], bool)
        self.gnorm = float(np.linalg.norm(self.g))
        self.g_list = tuple(self.g.tolist())  # (Python floats: the broad phase's scalar sums)
        self.half_g_array = 0.5 * self.dt * self.g  # the half-step velocity offset of a body in flight (never written to)
        self.half_g = tuple(self.half_g_array.tolist())
        self.radius_list = self.radius.tolist()
        self.sphere_list = self.sphere.tolist()
        self.statics = []  # for the broad phase: (0, normal, offset, -) planes, (1, centre, rotation, half) boxes
        for st in spec.statics:
            rot = quat_to_matrix(np.asarray(st.quaternion, np.float64))
            c = np.asarray(st.position, np.float64)
            if st.kind == "plane":
                self.statics.append((0, rot[:, 2], float(rot[:, 2] @ c), None))
            else:
                self.statics.append((1, c, rot, np.asarray(st.size, np.float64)[:3]))
        self.plane_normal = [tuple(s[1].tolist()) if s[0] == 0 else None for s in self.statics]
        inertia = [o.inertia if o.inertia is not None else principal_inertia(o.shape, o.size, o.mass, o.mesh)
                   for o in spec.objects]
        self.bodies = Bodies(np.array([o.mass for o in spec.objects], np.float64).reshape(-1),
                             np.array(inertia, np.float64).reshape(-1, 3))
        self.restitution, self.friction = {}, {}  # of every pair: Bullet's product rule
        for i, a in enumerate(spec.objects):
            for j, stc in enumerate(spec.statics):
                self.restitution[(i + 1, -(j + 1))] = float(a.restitution) * float(stc.restitution)
                self.friction[(i + 1, -(j + 1))] = float(a.friction) * float(stc.friction)
            for k in range(i):
                b = spec.objects[k]
                self.restitution[(i + 1, k + 1)] = float(a.restitution) * float(b.restitution)
                self.friction[(i + 1, k + 1)] = float(a.friction) * float(b.friction)
        self.resolved: list = []
        self.idle: set = set()  # pairs whose impact this step took no impulse (their patch does not approach)
        self.partners: set = set()  # pairs touching at the end of the last step
        self.recent: dict = {}  # pair -> physics step at which it last touched
        self.steps = 0
        self.prev_omega = np.zeros((self.n, 3))  # angular velocities before the last single step
        self.rate_omega = np.zeros((self.n, 3))  # velocities one step before the last step taken
        self.rate_vel = np.zeros((self.n, 3))
        self.credit = 0  # steps the last broad phase cleared beyond its batch
        self.unseen = 0  # steps taken in that run without observing the contacts
        # the broad phase's checks: each body's own contacts, each body against each static, each pair
        self.checks = ([(0, i, -1) for i in range(self.n)] + [(1, i, j) for i in range(self.n) for j in range(len(self.statics))]
                       + [(2, i, j) for i in range(self.n) for j in range(i + 1, self.n)])
        # the pair each check is about (its simgen ids, a > b), None for a body's own contacts
        self.check_pairs = [None if kind == 0 else (i + 1, -(j + 1)) if kind == 1 else (j + 1, i + 1)
                            for kind, i, j in self.checks]
        self.blocker = None  # the check that stopped the last broad phase
        self.valid: dict = {}  # check -> (the regime it saw, step count until which it gave clear)
        self.aim = None  # when it stopped it for a landing: its predicted time in the next step
        self.free = np.ones(self.n, bool)  # in flight: the velocity carries the half-step offset -g dt / 2
        # (per body, Python floats: the same arithmetic as numpy's on 1-4 bodies, without its per-call cost)
        self.H = [0.0] * self.n  # time since the body's flight segment began within this step
        self.S = [0.0] * self.n  # sum of H_i h_i over the pieces of that segment
        self.pushed = np.zeros(self.n, bool)  # took a contact impulse during this step
        self.leaving = np.zeros(self.n, bool)  # bounced off something during this step
        self.no_hit = np.zeros(self.n, bool)  # (no body hit: shared, never written)
        self.path_rows: dict = {}  # (k, split) -> rows 1, cos, sin, t, t^2 at those times (see _rows)
        self.t = 0.0
        self.stats = {"impacts": 0, "toi_steps": 0, "steps": 0, "quiet_steps": 0, "deepest_impact_mm": 0.0,
                      "deep_impacts": 0}

    # -- bookkeeping ---------------------------------------------------------------------------
    def _pieces(self) -> None:
        """Account for the steps the world just took (an engine may sub-step)."""
        pieces, H, S = self.w.last_pieces, self.H, self.S
        if len(pieces) > 1 and min(pieces) == max(pieces):  # n equal pieces: closed form
            h, n = pieces[0], len(pieces)
            nh, c = n * h, h * h * n * (n + 1) / 2
            for i, x in enumerate(H):
                S[i] += nh * x + c
                H[i] = x + nh
            return
        for h in pieces:
            for i, x in enumerate(H):
                x += h
                H[i] = x
                S[i] += x * h

    def _restart(self, bodies) -> None:
        for i in bodies.tolist():
            self.H[i] = 0.0
            self.S[i] = 0.0

    def _correct(self, st: State, bodies: np.ndarray) -> np.ndarray:
        """Exact positions for free ``bodies`` whose flight this step was cut into pieces:
        x += g (dt H / 2 + H^2 / 2 - S), zero for one whole step of dt. Returns those changed."""
        dt, out, free = self.dt, [], self.free.tolist()
        for i in bodies.tolist():
            if not free[i]:
                continue
            H = self.H[i]
            c = dt * H / 2 + H * H / 2 - self.S[i]
            if abs(c) > 1e-18:
                st.pos[i] += c * self.g
                out.append(i)
        return np.asarray(out, np.int64)

    def _may_touch(self, st: State, bodies: list) -> bool:
        """Whether one of ``bodies`` can touch anything: its bounding sphere within 1 mm of a static or
        of another body's (the correction to the exact path moves a body by at most g dt^2 / 4)."""
        pos, R = st.pos.tolist(), self.radius_list
        for i in bodies:
            x, y, z = pos[i]
            for j, (kind, a, b, cc) in enumerate(self.statics):
                if kind == 0:
                    nx, ny, nz = self.plane_normal[j]
                    gap = nx * x + ny * y + nz * z - b
                else:
                    gap = _box_gap(st.pos[i], a, b, cc)
                if gap - R[i] < 1e-3:
                    return True
            for k, (u, v, w) in enumerate(pos):
                if k != i and ((x - u) ** 2 + (y - v) ** 2 + (z - w) ** 2) ** 0.5 - R[i] - R[k] < 1e-3:
                    return True
        return False

    def _note_impulses(self, imp: dict) -> None:
        for (a, b), (j, _, _) in imp.items():
            if j > 0:
                for k in (a, b):
                    if k > 0:
                        self.pushed[k - 1] = True
                        self.free[k - 1] = False

    # -- contact analysis ----------------------------------------------------------------------
    def _off_body(self, p, a: int, b: int, pos: list) -> bool:
        """Whether contact point ``p`` (3 floats) of the pair (a, b) lies farther from a body's centre
        than the body reaches (``pos``: centres as lists). An engine can report such a point: Bullet's
        manifold between two cylinders once held one 86 mm off one of them (about 1 in 2000 impacts
        of the freefall family); an impulse there would turn the body about a point it does not have."""
        px, py, pz = p
        for body in (a, b):
            if body > 0:
                cx, cy, cz = pos[body - 1]
                reach = self.radius_list[body - 1] + OFF_BODY
                if (px - cx) ** 2 + (py - cy) ** 2 + (pz - cz) ** 2 > reach * reach:
                    return True
        return False

    def _normal_speed(self, pts: Points, st: State, sel) -> list:
        """Relative normal velocity (a with respect to b along the normal, < 0 approaching) at the
        selected points, from the true velocities (free bodies' half-step offset removed); +inf (never
        an impact) at a point off one of the bodies (:meth:`_off_body`)."""
        hx, hy, hz = self.half_g
        pos, vel, omega, free = st.pos.tolist(), st.vel.tolist(), st.omega.tolist(), self.free.tolist()
        la, lb, _, _, prow, nrow = pts.lists()
        out = []
        for k in sel:
            if self._off_body(prow[k], la[k], lb[k], pos):
                out.append(math.inf)
                continue
            px, py, pz = prow[k]
            vx = vy = vz = 0.0
            for body, sign in ((la[k], 1.0), (lb[k], -1.0)):
                if body <= 0:
                    continue
                i = body - 1
                cx, cy, cz = pos[i]
                wx, wy, wz = omega[i]
                ux, uy, uz = vel[i]
                if free[i]:
                    ux, uy, uz = ux + hx, uy + hy, uz + hz
                rx, ry, rz = px - cx, py - cy, pz - cz
                vx += sign * (ux + wy * rz - wz * ry)
                vy += sign * (uy + wz * rx - wx * rz)
                vz += sign * (uz + wx * ry - wy * rx)
            nx, ny, nz = nrow[k]
            out.append(vx * nx + vy * ny + vz * nz)
        return out

    def _impacting(self, pts: Points, cache: list) -> tuple:
        """Indices and approach speeds of the impacting points (two lists, or two empty tuples):
        penetrating, fresh, of a pair not held (what a body rests, slides or rocks on is the engine's
        own contact), and approaching faster than the threshold. ``cache`` holds the state once read."""
        held, fast = self.recent, self.w.held_impact_speed
        cand, need = [], []
        la, lb, dist, fresh = pts.head()
        ks = [k for k, (f, d) in enumerate(zip(fresh, dist)) if f and d < 0]
        if not ks:
            return (), ()
        done = self.resolved
        prow = pts.rows()[0] if done else None
        for k in ks:
            pair = (la[k], lb[k])
            if done:
                px, py, pz = prow[k]
                if any(pr == pair and (px - x) ** 2 + (py - y) ** 2 + (pz - z) ** 2 < 1e-6 for pr, (x, y, z) in done):
                    continue  # this point's impact was resolved in this step already
            is_held = pair in held
            if not is_held or fast < np.inf:
                cand.append(k)
                need.append(fast if is_held else LAND_SPEED)
        if not cand:
            return (), ()
        if not cache:
            cache.append(self.w.read())
        hit = [(k, -v) for k, v, s in zip(cand, self._normal_speed(pts, cache[0], cand), need) if v < -s]
        if not hit:
            return (), ()
        return [k for k, _ in hit], [v for _, v in hit]  # (lists: most readers take them one by one)

    # -- broad phase ---------------------------------------------------------------------------
    def _quiet_steps(self, st: State, limit: int) -> int:
        """How many whole steps bring no impact the stepper must resolve: every body stays clear
        (bounding spheres, else the real shapes; exact paths for bodies in flight) of everything it
        does not hold. What a body holds (rests, slides, rolls, rocks on) is the engine's contact
        solver's as long as no corner of it strikes fast, and a body in contact moving slowly meets
        nothing fast: those steps need no contact queries. The check that stopped the last batch is
        tried first. What a check of a body against a static or of a pair gave holds until then
        (every check bounds the motion from the state it saw over its whole time): it is asked
        again only when that time runs short, when the regime it assumed (which bodies fly, touch,
        move slowly, which pair is held) has changed, or after an impact."""
        self.aim = None
        if limit <= 0 or self.n == 0:
            return 0
        dt = self.dt
        half = 0.5 * dt
        gx, gy, gz = self.g_list
        R = self.radius_list
        v = st.vel.tolist()
        w = st.omega.tolist()
        free = self.free.tolist()
        touching = [False] * self.n
        for pair in self.partners:
            for b in pair:
                if b > 0:
                    touching[b - 1] = True
        slow, turn, quarter = [], [], 0.25 * self.v_thr
        code = []  # each body's regime in one number: flies 4, touches 2, moves slowly 1
        for i, (vv, (a, b, cc), r, sp) in enumerate(zip(v, w, R, self.sphere_list)):
            wn = (a * a + b * b + cc * cc) ** 0.5
            turn.append(0.0 if sp else wn * r)
            if free[i]:
                v[i] = [vv[0] + half * gx, vv[1] + half * gy, vv[2] + half * gz]
                slow.append(False)
                code.append(6 if touching[i] else 4)
            elif not touching[i]:
                slow.append(False)
                code.append(0)
            else:
                s = (vv[0] ** 2 + vv[1] ** 2 + vv[2] ** 2) ** 0.5 + wn * r < quarter
                slow.append(s)
                code.append(3 if s else 2)
        c = _Broad(st, st.pos.tolist(), v, free, touching, slow, turn)
        t_ok = horizon = limit * dt
        blocker = self.blocker
        if blocker is not None:
            t_ok = min(t_ok, self._check(blocker, c, t_ok))
            if t_ok < dt:
                return 0
        recent, sphere, valid, now = self.recent, self.sphere_list, self.valid, self.steps
        held_fast = self.w.held_impact_speed < np.inf
        valid.pop(blocker, None)
        for item, pair in zip(self.checks, self.check_pairs):
            if item is blocker:  # (asked again with the time it gave, a check gives that time)
                continue
            kind, i, j = item  # (the checks that hold for as long as the contacts do, inline: see _check)
            if kind == 0:
                if not held_fast or free[i] or not touching[i] or sphere[i]:
                    continue
                regime = None
            elif kind == 1:
                held = pair in recent
                if not free[i] and (slow[i] or (held and touching[i])):
                    valid.pop(item, None)
                    continue
                regime = (code[i], held)  # (free, touching, slow and held)
            else:
                held = pair in recent
                if not (free[i] or free[j]) and ((held and touching[i]) or (slow[i] and slow[j])):
                    valid.pop(item, None)
                    continue
                regime = (code[i], code[j], held)
            if regime is not None:
                known = valid.get(item)
                if known is not None and known[0] == regime and (known[1] - now) * dt >= t_ok:
                    continue  # what it gave earlier in this regime still holds beyond t_ok
            if regime is None:
                t = self._check(item, c, t_ok)
            else:  # (over the whole horizon: what it gives is kept)
                t = self._check(item, c, horizon)
                valid[item] = (regime, now + t / dt)
            t_ok = min(t_ok, t)
            if t_ok < dt:
                self.blocker = item
                return 0
        self.blocker = None
        return int(min(limit, t_ok / dt + 1e-9))

    def _check(self, item: tuple, c: "_Broad", t_ok: float) -> float:
        """How long one check of the broad phase stays clear (0: not even one step)."""
        kind, i, j = item
        R, gn, dt = self.radius_list, self.gnorm, self.dt
        free_i = c.free[i]
        if kind == 0:  # body i's own new contact points with what it holds
            fast = self.w.held_impact_speed
            if not (fast < np.inf and c.touching[i] and not free_i and not self.sphere_list[i]):
                return np.inf
            # the engine resolves these only while they are slow: its corners must not strike fast
            # (a body on planes only), or it must turn slowly enough
            planes = self._planes_only(i)
            if planes is not None:
                return self._corners_slow(i, c.st, planes, 0.5 * fast, t_ok)
            wv = c.st.omega[i]
            if self.axial[i]:  # a cylinder or capsule rolling on its side turns about its own axis harmlessly
                ax = _axis_z(c.st.quat[i])
                wv = wv - (wv @ ax) * ax
            spin = math.sqrt(float(wv @ wv)) * R[i]  # (IEEE sqrt, as np.sqrt)
            if spin >= 0.5 * fast:
                return 0.0
            dw = c.st.omega[i] - self.prev_omega[i]
            return (0.5 * fast - spin) / (math.sqrt(float(dw @ dw)) * R[i] / dt + 1.0)
        (xi, yi, zi), (vx, vy, vz) = c.x[i], c.v[i]
        speed = (vx * vx + vy * vy + vz * vz) ** 0.5
        if kind == 1:  # body i and static j
            if not free_i and (c.slow[i] or ((i + 1, -(j + 1)) in self.recent and c.touching[i])):
                return np.inf
            sk, a, b, cc = self.statics[j]
            if sk == 0:  # plane: normal a, offset b
                ax, ay, az = self.plane_normal[j]
                gap = ax * xi + ay * yi + az * zi - b - R[i] - MARGIN
                if gap > 0:
                    if free_i:
                        gx, gy, gz = self.g_list
                        return _first_root(gap, ax * vx + ay * vy + az * vz, ax * gx + ay * gy + az * gz, t_ok)
                    return _reach_time(gap, speed, gn)
                if free_i:  # its real shape on its exact path
                    if self.sphere_list[i]:
                        gx, gy, gz = self.g_list
                        vn, an = ax * vx + ay * vy + az * vz, ax * gx + ay * gy + az * gz
                        t = _clear_time(gap + MARGIN - FLY_GAP, vn, an, t_ok)
                        if t < dt:  # it lands in the next step: aim the step's first piece at the touch
                            self.aim = _first_root(gap + MARGIN + self.aim_depth, vn, an, dt) if gap + MARGIN > 0 else None
                        return t
                    t = self._clear_of_plane(i, c.st, c.v[i], j, t_ok)
                    if t < dt:
                        self.aim = self._landing_time(i, c.st, c.v[i], j)
                    return t
                # its real shape, moving and turning at most this fast
                low = self.hulls[i].lowest(rotation(c.st.quat[i]), a)
                gap = xi * ax + yi * ay + zi * az + low - b - SHAPE_MARGIN
                return 0.0 if gap <= 0 else _reach_time(gap, speed + c.turn[i], 2.0 * gn)
            gap = _box_gap(c.st.pos[i], a, b, cc) - R[i] - MARGIN
            if gap > 0:
                return _reach_time(gap, speed, gn)
            gap = self.w.distance(i + 1, -(j + 1), WITHIN) - SHAPE_MARGIN  # the real shapes
            return 0.0 if gap <= 0 else _reach_time(gap, speed + c.turn[i], gn if free_i else 2.0 * gn)
        # bodies i < j
        free_j = c.free[j]
        if not (free_i or free_j) and (((j + 1, i + 1) in self.recent and c.touching[i]) or (c.slow[i] and c.slow[j])):
            return np.inf
        (xj, yj, zj), (ux, uy, uz) = c.x[j], c.v[j]
        gap = ((xi - xj) ** 2 + (yi - yj) ** 2 + (zi - zj) ** 2) ** 0.5 - R[i] - R[j] - MARGIN
        rel = ((vx - ux) ** 2 + (vy - uy) ** 2 + (vz - uz) ** 2) ** 0.5
        if gap <= 0:  # the real shapes, their points moving apart at most this fast
            gap = self.w.distance(i + 1, j + 1, WITHIN) - SHAPE_MARGIN
            if gap <= 0:
                return 0.0
            rel += c.turn[i] + c.turn[j]
        return _reach_time(gap, rel, 0.0 if free_i and free_j else 2.0 * gn)

    def _planes_only(self, i: int):
        """The planes a body ``i`` (not a sphere) touches or holds, if it touches nothing else; else None."""
        if self.sphere_list[i]:
            return None
        planes, b = [], i + 1
        for pairs in (self.partners, self.recent):
            for pr in pairs:
                if b not in pr:
                    continue
                j = -pr[1] - 1
                if j < 0 or self.statics[j][0] != 0:
                    return None
                if j not in planes:
                    planes.append(j)
        return planes

    def _corners_slow(self, i: int, st: State, planes: list, speed: float, t_end: float) -> float:
        """How long no corner of body ``i`` (held on ``planes``) can strike one of them faster than
        ``speed``: each corner either stays slow or cannot reach the plane, with its velocity changing
        at most as fast as gravity and the body's spin (its change over the last step) allow. Points touching
        now and slow are the contact the engine holds (to strike fast they would first have to leave)."""
        k = int(t_end / self.dt + 1e-9)
        if k < 1 or not planes:
            return t_end if planes else 0.0
        wx, wy, wz = st.omega[i].tolist()
        vx, vy, vz = st.vel[i].tolist()
        ux, uy, uz = self.rate_vel[i].tolist()
        ox, oy, oz = self.rate_omega[i].tolist()
        dv = ((vx - ux) ** 2 + (vy - uy) ** 2 + (vz - uz) ** 2) ** 0.5
        dw = ((wx - ox) ** 2 + (wy - oy) ** 2 + (wz - oz) ** 2) ** 0.5
        w2 = wx * wx + wy * wy + wz * wz
        R = self.radius_list[i]
        # a corner's acceleration along the normal: its centre's plus spin's. On one plane the centre
        # accelerates towards it at most as gravity does (the plane only pushes away, friction acts
        # along it); on several, also as fast as the body's velocity changed over the last step
        acc = self.gnorm + dw * R / self.dt + w2 * R + 1.0 + (dv / self.dt if len(planes) > 1 else 0.0)
        if (vx * vx + vy * vy + vz * vz) ** 0.5 + w2 ** 0.5 * R + acc * t_end < speed:
            return t_end  # no point of it gets that fast
        box = self.box_half[i]
        hull = self.hulls[i]
        t_ok = t_end
        px, py, pz = st.pos[i].tolist()
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = _rotation_rows(st.quat[i])
        for s in planes:
            _, n, off, _ = self.statics[s]
            nx, ny, nz = self.plane_normal[s]
            base = px * nx + py * ny + pz * nz - off
            vn = vx * nx + vy * ny + vz * nz
            cx, cy, cz = ny * wz - nz * wy, nz * wx - nx * wz, nx * wy - ny * wx  # n x w
            if box is not None:  # a box's 8 corners in plain floats: r.n and r.(n x w) in the body frame
                hx, hy, hz = box
                an = ((r00 * nx + r10 * ny + r20 * nz) * hx, (r01 * nx + r11 * ny + r21 * nz) * hy,
                      (r02 * nx + r12 * ny + r22 * nz) * hz)
                ac = ((r00 * cx + r10 * cy + r20 * cz) * hx, (r01 * cx + r11 * cy + r21 * cz) * hy,
                      (r02 * cx + r12 * cy + r22 * cz) * hz)
                # (height, approach speed) of each corner
                points = [(base + sx * an[0] + sy * an[1] + sz * an[2], -(vn + sx * ac[0] + sy * ac[1] + sz * ac[2]))
                          for sx, sy, sz in _SIGNS]
            else:
                # each point is safe while it cannot have reached the plane, or while it is still slow;
                # its approach speed is -n.(v + w x r) = -(n.v + r.(n x w))
                if hull.local is not None and len(hull.local) > 8:  # a mesh's many hull vertices: sums over arrays
                    # (r.n and r.(n x w) of each vertex r: in the body frame, n and n x w turned into it)
                    m = hull.local @ np.array(((r00 * nx + r10 * ny + r20 * nz, r00 * cx + r10 * cy + r20 * cz),
                                               (r01 * nx + r11 * ny + r21 * nz, r01 * cx + r11 * cy + r21 * cz),
                                               (r02 * nx + r12 * ny + r22 * nz, r02 * cx + r12 * cy + r22 * cz)))
                    # each vertex's (height, approach speed), then, for those that could matter before t_ok,
                    # the lower bound of _strike_time (max of the time to reach and the time to get fast):
                    # tried in the order of that bound until it passes the best found (plain floats: the
                    # same IEEE arithmetic as numpy's elementwise ops, without their per-call cost)
                    cand = []
                    for m0, m1 in m.tolist():
                        h, come = base + m0, -(vn + m1)
                        if h < HELD_POINT and come < speed:
                            continue
                        t_fast = (speed - come) / acc
                        if t_fast >= t_ok:
                            continue
                        t_reach = (math.sqrt(come * come + 2.0 * acc * h) - come) / acc if h > 0 else 0.0
                        low = t_reach if t_reach > t_fast else t_fast
                        if low < t_ok:
                            cand.append((low, h, come))
                    cand.sort()
                    for low, h, come in cand:
                        if low >= t_ok:
                            break
                        t_pt = _strike_time(h, come, speed, acc)
                        if t_pt < t_ok:
                            t_ok = t_pt
                    continue
                rs = hull.strike(((r00, r01, r02), (r10, r11, r12), (r20, r21, r22)), (nx, ny, nz))
                points = [(base + rx * nx + ry * ny + rz * nz, -(vn + rx * cx + ry * cy + rz * cz)) for rx, ry, rz in rs]
            for h, come in points:
                if h < HELD_POINT and come < speed:
                    continue
                t_pt = _strike_time(h, come, speed, acc)
                if t_pt < t_ok:
                    t_ok = t_pt
        return t_ok

    def _rows(self, k: int, split: int = 1) -> np.ndarray:
        """Rows [5, k] over the times t = dt * (1..k) / split ahead: 1, cos, sin (written by each
        caller of :meth:`_path_height`, at its spin's angles), t, t^2 (made once per stepper)."""
        rows = self.path_rows.get((k, split))
        if rows is None:
            ts = self.dt * np.arange(1, k + 1)
            ts = ts if split == 1 else ts / split
            rows = self.path_rows[(k, split)] = np.array([np.ones(k), np.zeros(k), np.zeros(k), ts, ts * ts])
        return rows

    def _path_height(self, i: int, st: State, v, j: int, k: int, split: int, spin: float) -> tuple:
        """The times dt * (1..k) / split ahead and the height over plane j (n.x = off) of body i's
        lowest point at each, flying from ``st`` with true velocity ``v`` (3 floats), spinning at its
        present angular velocity, less ``spin`` * t^2 (a free spin's change allowed for).

        Turning at the constant rate w (unit axis u) a body vector r has, along n, (r.u) nu +
        (r.n - (r.u) nu) cos(|w| t) + r.(n x u) sin(|w| t) (Rodrigues; nu = n.u): three world
        directions, turned into the body frame once, against the rows (1, cos, sin) of
        :meth:`_rows`; the centre's path c0 + vn t + curve t^2 against its rows (1, t, t^2). A
        hull's vertices (with a 1 for the path) take both in one product: [K, 4] x [4, 5] x [5, k]."""
        _, n, off, _ = self.statics[j]
        nx, ny, nz = self.plane_normal[j]
        (px, py, pz), (vx, vy, vz), (gx, gy, gz) = st.pos[i].tolist(), v, self.g_list
        wx, wy, wz = st.omega[i].tolist()
        rate2 = wx * wx + wy * wy + wz * wz
        rows = self._rows(k, split)
        c0 = px * nx + py * ny + pz * nz - off
        vn = vx * nx + vy * ny + vz * nz
        curve = 0.5 * (gx * nx + gy * ny + gz * nz) - spin * rate2  # (gravity's fall along n, less the spin allowance)
        rate = math.sqrt(rate2)
        if rate < 1e-12:  # (no turning: the cos and sin rows count for nothing)
            e = ((nx, ny, nz), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        else:
            ux, uy, uz = wx / rate, wy / rate, wz / rate
            nu = nx * ux + ny * uy + nz * uz
            e = ((nu * ux, nu * uy, nu * uz), (nx - nu * ux, ny - nu * uy, nz - nu * uz),
                 (ny * uz - nz * uy, nz * ux - nx * uz, nx * uy - ny * ux))
            theta = rate * rows[3]
            np.cos(theta, out=rows[1])
            np.sin(theta, out=rows[2])
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = _rotation_rows(st.quat[i])
        hull = self.hulls[i]
        if hull.local is not None:  # corners or hull vertices: the world directions in the body frame
            cols = [(r00 * x + r10 * y + r20 * z, r01 * x + r11 * y + r21 * z, r02 * x + r12 * y + r22 * z) for x, y, z in e]
            turn = np.array(((cols[0][0], cols[1][0], cols[2][0], 0.0, 0.0), (cols[0][1], cols[1][1], cols[2][1], 0.0, 0.0),
                             (cols[0][2], cols[1][2], cols[2][2], 0.0, 0.0), (c0, 0.0, 0.0, vn, curve)))
            height = np.minimum.reduce((hull.local1 @ turn) @ rows, axis=0)  # (the lowest vertex at each time)
        elif hull.shape == "sphere":
            height = np.array((c0 - hull.radius, 0.0, 0.0, vn, curve)) @ rows
        else:  # a cylinder or capsule: its axis along n, then the lowest point of its rims or end spheres
            (e0, e1, e2), r, h = ((r02 * x + r12 * y + r22 * z) for x, y, z in e), hull.radius, hull.half
            s = np.abs(np.array((e0, e1, e2, 0.0, 0.0)) @ rows)
            low = -h * s - (r if hull.shape == "capsule" else r * np.sqrt(np.maximum(1.0 - s * s, 0.0)))
            height = np.array((c0, 0.0, 0.0, vn, curve)) @ rows + low
        return rows[3], height

    def _landing_time(self, i: int, st: State, v, j: int) -> float | None:
        """When in the next step body i in flight (true velocity ``v``, spinning at its present
        angular velocity) reaches ``aim_depth`` below plane j (n.x = off), to dt / 32; None if
        it does not."""
        ts, height = self._path_height(i, st, v, j, 32, 32, 0.0)
        below = (height <= -self.aim_depth).nonzero()[0]
        return float(ts[below[0]]) if len(below) else None

    def _clear_of_plane(self, i: int, st: State, v, j: int, t_end: float) -> float:
        """How long body i in flight (true velocity ``v``) surely keeps its actual shape above
        plane j (n.x = off): its lowest point along the predicted path, spinning at its present
        angular velocity (allowing for the change of a free spin: |w|^2 t^2 R)."""
        k = int(t_end / self.dt + 1e-9)
        if k < 1:
            return 0.0
        ts, height = self._path_height(i, st, v, j, k, 1, self.radius_list[i])
        bad = (height <= FLY_GAP).nonzero()[0]
        return float(ts[bad[0]] - self.dt) if len(bad) else t_end

    def _touched(self, k: int) -> None:
        """``k`` steps were taken: pairs touching now stay held for KEEP more steps."""
        self.steps += k
        steps, recent, leaving = self.steps, self.recent, self.leaving.tolist()
        for pair in self.partners:
            a, b = pair
            if not ((a > 0 and leaving[a - 1]) or (b > 0 and leaving[b - 1])):  # it still overlaps what it left
                recent[pair] = steps
        keep = self.keep
        self.recent = {p: s for p, s in recent.items() if steps - s <= keep}
        self.w.hold(self.recent)

    def _quiet(self, k: int, look: bool = True, marks: tuple = ()) -> State:
        """``k`` steps without contact queries (see :meth:`_quiet_steps`); ``look``: observe the
        contacts afterwards (not inside a cleared run of batches). ``marks``: step counts inside the
        batch whose states are kept (in ``self.marked``); the clock advances by each part between
        them in turn, as it would batch by batch."""
        self.marked = self.w.step_free(k, look, marks)  # (inside a cleared run no broad phase reads the rates)
        st = self.w.read()
        if look and self.w.before_last is not None:  # the rate of change over the batch's last step
            self.rate_vel, self.rate_omega = self.w.before_last
        pieces = self.w.last_pieces
        if min(pieces) != max(pieces) or pieces[0] != self.dt:  # whole steps need no correction
            self.H, self.S = [0.0] * self.n, [0.0] * self.n
            self._pieces()
            changed = self._correct(st, np.arange(self.n))
            if len(changed):
                self.w.write(st, changed)
        done = 0
        for j in marks:
            self.t += (j - done) * self.dt
            done = j
        self.t += (k - done) * self.dt
        self.stats["quiet_steps"] += k
        if not look:
            self.unseen += k
            return st
        k, self.unseen = k + self.unseen, 0
        # (flags as lists: ndarray.any/all cost 1.5-2 us through their Python wrappers)
        if (not (self.recent or self.partners) and False not in self.free.tolist()
                and True not in self.pushed.tolist() and True not in self.leaving.tolist()):
            # every body in flight and the broad phase cleared the run: nothing touches anything
            self.steps += k
            return st
        self.tracker.keep(self.t, self.recent)
        self.pushed[:] = False
        self.leaving[:] = False
        pts, imp = self.w.observe()
        self._note_impulses(imp)
        self._touch(self.t, pts, imp)
        self._settle(pts, imp, self.no_hit, k)
        return st

    # -- one physics step ----------------------------------------------------------------------
    def _step(self, st0: State, aim: float | None = None) -> tuple[State, np.ndarray]:
        """One physics step from ``st0`` (the world's current state): new state, bodies hit.
        ``aim``: the predicted time of an impact in the step (the first piece ends there)."""
        dt = self.dt
        left, snap = dt, st0
        self.H, self.S = [0.0] * self.n, [0.0] * self.n
        self.pushed[:] = False
        self.leaving[:] = False
        self.resolved = []  # (pair, point as floats) of the impacts this step resolved
        self.idle = set()
        hit = np.zeros(self.n, bool)
        for _ in range(64):  # impacts within one step
            piece = left if aim is None or aim >= left - 1e-9 else max(aim, 1e-7)
            aim = None
            pts, imp = self.w.step(piece)
            cache: list = []
            idx, speed = self._impacting(pts, cache)
            h, again = piece, False
            if len(idx):
                la, lb = pts.head()[:2]
                again = not all((la[k], lb[k]) in self.idle for k in idx)
            if again:  # (an impact of a pair not already resolved idle: find its time)
                h, pts, imp, cache = self._toi(snap, piece, pts, imp, idx, speed, cache)
            self._pieces()
            t = self.t + dt - left + h
            self._note_impulses(imp)
            self._touch(t, pts, imp)
            left -= h
            if len(idx):
                st = cache[0] if cache else self.w.read()
                if again:  # (else the same points and state as above)
                    idx, speed = self._impacting(pts, [st])
                if len(idx):
                    self._impact(st, pts, idx, speed, t, hit, t - h)
            if left <= 1e-12:
                break
            snap = self.w.read()
        else:
            raise RuntimeError("more than 64 impacts in one physics step")
        st = self.w.read()
        if piece != dt or self.w.last_pieces != [dt]:  # after split or sub-stepped steps (one whole step: none)
            changed = self._correct(st, np.arange(self.n))
            if len(changed):
                self.w.write(st, changed)
                self._restart(changed)  # (corrected: an impact below must not correct them again)
                # the exact flight path can put a body a few micrometres into what it is about to
                # strike, where the step's own points showed no touch: that is an impact now, not the
                # engine's contact over the next step (MuJoCo's would absorb part of the strike)
                if self._may_touch(st, changed.tolist()):
                    pts_c = self.w.observe()[0]
                    idx, speed = self._impacting(pts_c, [st])
                    if len(idx):
                        t_end = self.t + dt
                        self._impact(st, pts_c, idx, speed, t_end, hit, t_end)
                        st = self.w.read()
                        pts = pts_c
        self.t += dt
        self._settle(pts, imp, hit, 1)
        self.stats["steps"] += 1
        return st, hit

    def _settle(self, pts: Points, imp: dict, hit: np.ndarray, k: int) -> None:
        """After ``k`` steps: what touches what now, which pairs stay held, which bodies fly."""
        # in contact (a pair merely close is not held: its landing is still an impact)
        la, lb, dist, _ = pts.head()
        self.partners = {(a, b) for a, b, d in zip(la, lb, dist) if d < 0}
        self.partners.update(pr for pr, v in imp.items() if v[0] > 0)
        self._touched(k)
        # a body flies again once nothing pushed it for a whole step and it has touched nothing for
        # a while (held pairs: a sliding contact flickers)
        touching = set()
        for pr in self.partners:
            touching.update(pr)
        for pr in self.recent:
            touching.update(pr)
        free, pushed, hit = self.free, self.pushed.tolist(), hit.tolist()
        for i, f in enumerate(free.tolist()):
            if not (f or pushed[i] or hit[i] or i + 1 in touching):
                free[i] = True

    def _touch(self, t: float, pts: Points, imp: dict) -> None:
        touching = {pair: v for pair, v in imp.items() if v[0] > 0}
        la, lb, dist, _ = pts.head()
        rows = None  # (rows as floats: the tracker stores them as float32)
        for k, (a, b, d) in enumerate(zip(la, lb, dist)):
            if d < 0 and (a, b) not in touching:
                if rows is None:
                    rows = pts.rows()
                touching[(a, b)] = (0.0, rows[0][k], rows[1][k])
        self.tracker.touch(t, touching)

    def _toi(self, snap: State, left: float, pts: Points, imp: dict, idx: list, speed: list, cache: list):
        """Redo the piece from ``snap`` up to the earliest impact: (h, points, impulses, state cache)
        of a state whose deepest impacting point is at most ``depth_tol`` deep. Newton steps on the
        depth (it is nearly linear in time over a step), bisection when one falls short. If none is
        found (or the time of the touch is already bracketed closer than the approach covers a
        quarter of ``depth_tol`` in), the earliest state seen with an impact is restored (the impact
        is then resolved deeper, up to one step late)."""
        dist = pts.head()[2]
        d = -np.array([dist[k] for k in idx])
        top = np.maximum.reduce  # (ndarray.max's reduction, without its Python wrapper)
        if top(d) <= self.depth_tol:
            return left, pts, imp, cache
        lo, hi = 0.0, left
        best = (left, pts, imp, cache[0] if cache else self.w.read())
        d_hi, s_hi = d, np.array(speed)
        short = False
        for _ in range(self.max_iter):
            r = d_hi / s_hi
            h = hi - float(top(r)) + self.depth_target / float(s_hi[r.argmax()])
            if short or not lo < h < hi:
                h = 0.5 * (lo + hi)
            self.stats["toi_steps"] += 1
            self.w.write(snap)
            pts_h, imp_h = self.w.step(h)
            cache_h: list = []
            idx_h, speed_h = self._impacting(pts_h, cache_h)
            if len(idx_h):
                dist = pts_h.head()[2]
                d = -np.array([dist[k] for k in idx_h])
                if top(d) <= self.depth_tol:
                    return h, pts_h, imp_h, cache_h
                best = (h, pts_h, imp_h, cache_h[0])
                hi, d_hi, s_hi, short = h, d, np.array(speed_h), False
            else:
                lo, short = h, True
            if (hi - lo) * float(top(s_hi)) < 0.25 * self.depth_tol:
                # the touch is dated closer than a quarter of the tolerance: the depth jumps there (an
                # engine's new contact point appears already this deep), no piece can land within it
                break
        # an engine's step is not exactly repeatable after a restore (warm starts): put the state back
        h, pts_b, imp_b, st_b = best
        self.w.write(st_b)
        self.w.last_pieces = [h]
        self.stats["toi_failed"] = self.stats.get("toi_failed", 0) + 1
        return h, pts_b, imp_b, [st_b]

    def _impact(self, st: State, pts: Points, idx: list, speed: list, t: float, hit: np.ndarray,
                since: float) -> None:
        """Resolve the impacting points ``idx`` (approach ``speed``) at the time of impact (state
        ``st``): one patch per impacting pair and per other pair its bodies touch (see
        :mod:`simgen.engines.impacts`). A pair landing slower than the restitution threshold does
        not bounce (e = 0) but still gets its friction impulse, unless both are bodies in flight."""
        la, lb, dist_l, _, prow, nrow = pts.lists()  # (floats: 1-8 points, numpy's per-call cost dominates)
        pairs = sorted({(la[k], lb[k]) for k in idx})
        # below the restitution threshold a pair settles instead of bouncing, unless both are bodies in
        # flight: nothing presses them together again (two balls meeting slowly in the air bounce)
        free = self.free.tolist()
        bounce = {(la[k], lb[k]) for k, s in zip(idx, speed)
                  if s > self.v_thr or (lb[k] > 0 and free[la[k] - 1] and free[lb[k] - 1])}
        bodies = sorted({k - 1 for pr in pairs for k in pr if k > 0})
        before = st.pos.copy()
        self._correct(st, np.asarray(bodies, np.int64))  # exact positions at the impact
        moved_by = st.pos - before
        # spheres in flight: their approach is pure translation, so the time since the touch is exact
        flew = {i for i in bodies if free[i] and self.sphere_list[i]}
        for i in bodies:  # and true velocities
            if free[i]:
                st.vel[i] += self.half_g_array
            self.free[i] = False
        groups: dict = {}
        centres = None
        for k, d in enumerate(dist_l):
            if d < TOUCH:
                pr = (la[k], lb[k])
                if pr in pairs or any(b > 0 and b - 1 in bodies for b in pr):
                    if centres is None:
                        centres = st.pos.tolist()
                    if not self._off_body(prow[k], pr[0], pr[1], centres):
                        groups.setdefault(pr, []).append(k)
        for pr in pairs:  # an impacting pair acts at its impacting points
            groups[pr] = [k for k in idx if (la[k], lb[k]) == pr]
        patches, normal_of, mean_of = [], {}, {}
        for pr, ks in groups.items():
            nx, ny, nz = _row_sum(nrow, ks)
            ln = (nx * nx + ny * ny + nz * nz) ** 0.5
            n = np.array([nx / ln, ny / ln, nz / ln])
            x, y, z = _row_sum(prow, ks)  # their mean
            c = len(ks)
            point = mean_of[pr] = np.array([x / c, y / c, z / c])
            normal_of[pr] = n
            if pr[1] < 0 and self.statics[-pr[1] - 1][0] == 0:
                # against a plane: the body's own touching corners, edge or face (engines report
                # only some of the points of a face landing flat)
                o = self.spec.objects[pr[0] - 1]
                i = pr[0] - 1  # (corners up to 0.5 mm off that reach the plane within a step count)
                point = contact_patch(o.shape, o.size, self.vertices[i], st.pos[i], st.quat[i], n,
                                      vel=st.vel[i], omega=st.omega[i], within=self.dt, touch=TOUCH)
            patches.append(Patch(pr, point, n, self.restitution.get(pr, 0.0) if pr in bounce else 0.0,
                                 self.friction.get(pr, 0.0)))
        # the impact happens where the surfaces touch: undo the (<= depth_tol) overlap along the
        # normal, and date it to the moment they touched (a sphere in flight had fallen for that much
        # less: its velocity too is the one at the touch, back = the time since)
        self.bodies.load(st.pos, st.quat, st.vel, st.omega)
        approach = self.bodies.normal_velocity
        when, back = {}, {}
        mb = moved_by.tolist()
        inv_mass = self.bodies.inv_mass
        for pr in pairs:
            ks = groups[pr]
            nx, ny, nz = normal_of[pr].tolist()
            sx = sy = sz = 0.0
            for b, sgn in ((pr[0], 1.0), (pr[1], -1.0)):
                if b > 0:
                    u, v, w = mb[b - 1]
                    sx, sy, sz = sx + sgn * u, sy + sgn * v, sz + sgn * w
            depth = -min(dist_l[k] for k in ks) - (nx * sx + ny * sy + nz * sz)  # as the engine saw it, then corrected
            closing = -approach(pr, mean_of[pr].tolist(), (nx, ny, nz))
            when[pr] = max(t - depth / closing, since) if closing > 0 else t  # not before this piece began
            objs = [(b - 1, 1.0 if b == pr[0] else -1.0) for b in pr if b > 0]
            w = sum(inv_mass[i] for i, _ in objs)
            for i, sign in objs:
                st.pos[i] += sign * depth * (inv_mass[i] / w) * normal_of[pr]
                if i in flew:
                    back[i] = max(back.get(i, 0.0), t - when[pr])
        for i, tau in back.items():
            st.vel[i] -= tau * self.g
        self.bodies.load(st.pos, st.quat, st.vel, st.omega)
        impulse = resolve(self.bodies, patches, set(pairs))
        moved = sorted({b - 1 for p in patches for b in p.pair if b > 0})
        for i in moved:
            st.vel[i], st.omega[i] = self.bodies.vel[i], self.bodies.omega[i]
        self.stats["impacts"] += 1
        depth_mm = -1000.0 * min(dist_l[k] for k in idx)  # how deep the engine had the impact (before it is undone)
        if depth_mm > self.stats["deepest_impact_mm"]:
            self.stats["deepest_impact_mm"] = depth_mm
        if depth_mm > 1.0:
            self.stats["deep_impacts"] += 1
        self.valid.clear()  # (velocities jump: what the broad phase foresaw no longer holds)
        for pr in pairs:
            ks = groups[pr]
            self.resolved.extend((pr, prow[k]) for k in ks)
            if not impulse[pr] > 0:  # (its points approached, its patch as a whole did not: no impact)
                self.idle.add(pr)
            else:
                self.tracker.impact(when[pr], pr, mean_of[pr], nrow[ks[0]], impulse[pr], seen=t)  # (stored as float32)
        for pr, j in impulse.items():
            if j > 0:
                for b in pr:
                    if b > 0:
                        self.pushed[b - 1] = True
        hit[moved] = True
        # bodies whose every patch now separates fly: restore the half-step offset
        # each patch's separation speed after the impact (> 0 separating)
        sep = [approach(p.pair, p.point.tolist(), p.normal.tolist()) for p in patches]
        leaving = []
        for i in moved:
            if all(u > 1e-3 for p, u in zip(patches, sep) if i + 1 in p.pair):
                leaving.append(i)
                tau = back.get(i, 0.0)  # from the touch on along its new flight
                if tau > 0.0:
                    st.pos[i] += tau * st.vel[i] + 0.5 * tau * tau * self.g
                    st.vel[i] += tau * self.g
                st.vel[i] -= self.half_g_array
                self.free[i] = True
                self.leaving[i] = True
                self.pushed[i] = False
        self._restart(np.asarray(leaving, np.int64))
        self.w.write(st, np.asarray(moved, np.int64))
        if leaving:
            self.recent = {p: s for p, s in self.recent.items() if not any(b - 1 in leaving for b in p if b > 0)}
        # a pair that struck and whose patch stays touching (does not separate) is held from here on,
        # also for the rest of this step: gravity pressing it together again over the step's next
        # piece is the engine's contact, not a second impact of the same touch
        for p, u in zip(patches, sep):
            if p.pair in pairs and impulse[p.pair] > 0 and u <= 1e-3:
                self.recent[p.pair] = self.steps
        self.w.hold(self.recent)

    # -- the whole clip ------------------------------------------------------------------------
    def _advance(self, st: State, limit: int, marks: tuple = ()) -> tuple[State, np.ndarray, int]:
        """Up to ``limit`` steps: a quiet batch if the broad phase allows, else one full step.
        Returns the new state, the bodies hit by an impact, and the steps taken. A broad phase that
        clears more steps than ``limit``, or than the engine's forces held fixed stay right for
        (:meth:`World.quiet_limit`: MuJoCo's friction of a pair that could stop sliding), leaves the
        rest as credit for the next batches, which then need neither a broad phase nor contact
        queries until the credit is spent (what the broad phase cleared bounds the motion whatever
        the engine's contact forces: they are renewed at each batch, as Bullet renews its own at
        every step). ``marks``: step counts ahead whose states are wanted: those inside a quiet
        batch are kept in ``self.marked`` (a full step takes one step: none is inside it)."""
        self.marked = ()
        cleared = self.credit if self.credit > 0 else self._quiet_steps(st, HORIZON)
        if cleared > 0:
            quiet = int(min(cleared, limit, self.w.quiet_limit()))
            self.credit = cleared - quiet
            return self._quiet(quiet, self.credit == 0, tuple(j for j in marks if j < quiet)), self.no_hit, quiet
        self.prev_omega = st.omega
        self.rate_omega, self.rate_vel = st.omega, st.vel
        st, hit = self._step(st, self.aim)
        return st, hit, 1

    def run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Positions, quaternions (x, y, z, w), linear and angular velocities at every frame.

        Velocities at a frame are those at its time: ``u + g dt / 2`` for a body in flight (exact);
        for a body in contact, its mean velocity over the half frame either side, from its positions
        and orientations (exact for uniform acceleration, and free of the step-to-step jitter of a
        contact solver); next to an impact, the velocity the impact left; where the body comes to
        rest, starts moving or turns back inside that window (its acceleration is not uniform across it:
        a box sliding up a ramp that stops just after the frame read 64 mm/s for 5, one that turns back
        there 45 mm/s off), the solver's own. The states at the ends of these windows are read
        inside the engine's batches of steps (a window's end does not end a batch: a batch costs the
        broad phase, the friction forces and the contact reads once more)."""
        spec, w = self.spec, self.w
        k = int(round(spec.physics_hz / spec.fps))
        m = max(1, k // 2)  # half window of the velocity of a body in contact, in steps
        T, n, dt = spec.frames, self.n, self.dt
        pos, quat = np.zeros((T, n, 3)), np.zeros((T, n, 4))
        lin, ang = np.zeros((T, n, 3)), np.zeros((T, n, 3))
        st = w.read()
        pts = w.near_points(NEAR)
        for a, b in zip(pts.a, pts.b):
            self.recent[(int(a), int(b))] = 0  # held from the start
            for body in (a, b):
                if body > 0:
                    self.free[body - 1] = False
        w.hold(self.recent)
        pos[0], quat[0] = st.pos, st.quat
        lin[0] = np.array([o.linear_velocity for o in spec.objects], np.float64).reshape(n, 3)
        ang[0] = np.array([o.angular_velocity for o in spec.objects], np.float64).reshape(n, 3)
        st.vel[self.free] -= 0.5 * dt * self.g
        w.write(st, np.nonzero(self.free)[0])

        half, no_hit = self.half_g_array, self.no_hit

        def advance(st: State, steps: int, marks: tuple = ()) -> tuple[State, dict, list]:
            """``steps`` steps; the states after the step counts ``marks`` (ascending, within
            1..steps-1) and, for each step that hit a body, the bodies hit by its count."""
            hits, states, done = {}, [], 0
            while done < steps:
                st, h, took = self._advance(st, steps - done, tuple(j - done for j in marks if j > done))
                states += self.marked
                done += took
                if h is not no_hit:  # (a quiet batch hits nothing)
                    hits[done] = h
                if done in marks:
                    states.append(st)
            return st, hits, states

        def hit_in(hits: dict, lo: int, hi: int) -> np.ndarray:
            """The bodies hit by the steps lo+1..hi."""
            out = np.zeros(n, bool)
            for j, h in hits.items():
                if lo < j <= hi:
                    out |= h
            return out

        pending = None  # (frame, bodies held there, state m steps before, impact in between)
        offset_of = offset = None
        for f in range(1, T):
            # [frame f-1] -- m -- [end of f-1's window] -- k-2m -- [start of f's window] -- m -- [frame f]
            # (k = 1: both windows span the whole step; k = 2m: they meet)
            want = []
            if pending is not None and m < k:
                want.append(m)
            if 0 < k - m and not (pending is None and self.credit > k and False not in self.free.tolist()):
                # (frame f inside a cleared run of batches in flight: nothing can touch, no body is held
                # at f, and the state before it is not needed)
                want.append(k - m)
            marks = tuple(sorted(set(want)))
            prev = st
            st, hits, states = advance(st, k, marks)
            at = dict(zip(marks, states))
            at[0], at[k] = prev, st
            if pending is not None:
                self._finish(pending, at[m], hit_in(hits, 0, m), lin, ang, m * dt)
                pending = None
            pos[f], quat[f] = st.pos, st.quat
            flying = self.free.tolist()
            if flying != offset_of:  # (the offset of the bodies in flight: made again only when they change)
                offset_of, offset = flying, np.where(self.free[:, None], half, 0.0)
            np.add(st.vel, offset, out=lin[f])
            ang[f] = st.omega
            if False in flying and k - m in at:  # (some body held)
                pending = (f, ~self.free, at[k - m], hit_in(hits, k - m, k))
        if pending is not None:
            st_after, hits, _ = advance(st, m)
            self._finish(pending, st_after, hit_in(hits, 0, m), lin, ang, m * dt)
        return pos, continuous(quat), lin, ang

    def _finish(self, pending, after: State, hit_after: np.ndarray, lin: np.ndarray, ang: np.ndarray,
                span: float) -> None:
        """Velocities at frame ``f`` of the bodies in contact there, from their motion over the
        half windows either side (``pending`` holds the state at the start of the window)."""
        f, held, before, hit_before = pending
        for i, (h, hb, ha) in enumerate(zip(held.tolist(), hit_before.tolist(), hit_after.tolist())):
            if not h or hb or ha:
                continue  # in flight (exact), or next to an impact: the solver's velocity
            if self._resting(before, i) != self._resting(after, i) or float(before.vel[i] @ after.vel[i]) < 0.0:
                continue  # it comes to rest, starts moving or turns back inside the window: the solver's velocity
            lin[f, i] = (after.pos[i] - before.pos[i]) / (2 * span)
            ang[f, i] = _rotation_rate(before.quat[i], after.quat[i], 2 * span)

    def _resting(self, st: State, i: int) -> bool:
        """Body ``i`` at rest in state ``st``: no point of it moving faster than REST_SPEED."""
        v, w = st.vel[i], st.omega[i]
        return math.sqrt(float(v @ v)) + math.sqrt(float(w @ w)) * self.radius_list[i] < REST_SPEED


REST_SPEED = 2e-3  # m/s: a body whose points all move slower than this is at rest (frame velocities)

_SIGNS = tuple((sx, sy, sz) for sx in (-1.0, 1.0) for sy in (-1.0, 1.0) for sz in (-1.0, 1.0))


def _box_gap(p: np.ndarray, centre: np.ndarray, rot: np.ndarray, half: np.ndarray) -> float:
    """Signed distance from point ``p`` to a box (centre, rotation, half extents): > 0 outside."""
    q = np.abs(rot.T @ (p - centre)) - half
    return float(np.linalg.norm(np.maximum(q, 0.0))) + min(float(q.max()), 0.0)


def _row_sum(rows: list, ks: list) -> tuple:
    """Sum of the 3-float rows ``ks`` of ``rows``, in order (as numpy's sum over them)."""
    x, y, z = rows[ks[0]]
    for k in ks[1:]:
        u, v, w = rows[k]
        x, y, z = x + u, y + v, z + w
    return x, y, z


def _rotation_rows(q) -> tuple:
    """Rows of the rotation matrix (body -> world) of quaternion q (x, y, z, w), as floats."""
    x, y, z, w = q.tolist()
    s = 2.0 / (x * x + y * y + z * z + w * w)
    return ((1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)),
            (s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)),
            (s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)))


def _rotation_rate(q0: np.ndarray, q1: np.ndarray, span: float) -> np.ndarray:
    """World-frame angular velocity turning orientation q0 into q1 (x, y, z, w) in ``span`` s."""
    x0, y0, z0, w0 = q0.tolist()  # (floats: the same arithmetic without numpy scalars)
    x1, y1, z1, w1 = q1.tolist()
    # q1 * conj(q0)
    w = w1 * w0 + x1 * x0 + y1 * y0 + z1 * z0
    v = np.array([x1 * w0 - w1 * x0 - y1 * z0 + z1 * y0,
                  y1 * w0 - w1 * y0 - z1 * x0 + x1 * z0,
                  z1 * w0 - w1 * z0 - x1 * y0 + y1 * x0])
    if w < 0:
        w, v = -w, -v
    s = math.sqrt(float(v @ v))  # (np.linalg.norm's arithmetic)
    angle = 2.0 * np.arctan2(s, w)
    return v * (angle / s / span) if s > 1e-15 else 2.0 * v / span


def continuous(quat: np.ndarray) -> np.ndarray:
    """Flip quaternion signs so that consecutive frames have q_t . q_{t-1} >= 0 (same rotations)."""
    q = np.array(quat, np.float64, copy=True)
    if len(q) < 2:
        return q
    r = q.reshape(len(q), -1, 4)  # (a view: [T, bodies, 4])
    # the dot products of the unflipped frames, once; a flip negates them exactly, so frame t flips
    # when its dot with frame t-1 as flipped is negative: sign[t-1] * d[t] < 0
    d = np.sum(r[1:] * r[:-1], axis=-1).tolist()
    sign = [1.0] * r.shape[1]
    flip = []
    for row in d:
        sign = [-1.0 if s * x < 0 else 1.0 for s, x in zip(sign, row)]
        flip.append([s < 0 for s in sign])
    r[1:][np.array(flip, bool).reshape(len(d), r.shape[1])] *= -1
    return q


def _axis_z(q: np.ndarray) -> np.ndarray:
    """The body z axis in the world frame for orientation q (x, y, z, w)."""
    x, y, z, w = q
    return np.array([2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)])


def _first_root(h0: float, v: float, a: float, t_end: float) -> float:
    """First t in [0, t_end] where h0 + v t + a t^2 / 2 <= 0 (h0 > 0); t_end if none."""
    if a == 0:
        return min(t_end, -h0 / v) if v < 0 else t_end
    disc = v * v - 2 * a * h0
    if disc < 0:
        return t_end
    sq = math.sqrt(disc)  # (IEEE sqrt, as np.sqrt; disc >= 0)
    roots = sorted(((-v - sq) / a, (-v + sq) / a))
    for r in roots:
        if r >= 0:
            return min(t_end, r)
    return t_end


def _clear_time(h0: float, v: float, a: float, t_end: float) -> float:
    """How long h0 + v t + a t^2 / 2 stays > 0 from now: 0 if it is not (h0 <= 0 and not rising),
    the time it comes back if it rises from h0 <= 0."""
    if h0 > 0:
        return _first_root(h0, v, a, t_end)
    if v <= 0:
        return 0.0
    if a >= 0:
        return t_end
    disc = v * v - 2 * a * h0
    if disc < 0:
        return 0.0  # it never rises clear
    return min(t_end, (-v - disc ** 0.5) / a)  # the later root (a < 0)


def _strike_time(h: float, come: float, speed: float, acc: float) -> float:
    """Shortest time in which a point ``h`` above a plane (h > 0, or h <= 0 and already as fast),
    approaching it at ``come`` (< 0: moving away) with an acceleration of at most ``acc`` along the
    normal, can arrive at the plane approaching at ``speed`` or faster (a safe lower bound; 0 if it
    is there). A point that touches the plane slower is held there (the engine's contact) and must
    leave it again (approaching at <= 0) and come back, no sooner than ``speed / acc`` later.

    Falling at full ``acc`` arrives soonest and fastest: if that is fast enough, it is the answer.
    Otherwise, without touching first, the point must rise to gain the speed on the way down: full
    ``acc`` away from the plane for ``t1``, then towards it for ``t1 + s`` (``s`` = (speed - come) /
    acc), arriving at exactly ``speed``; the height covered gives acc t1^2 - 2 come t1 + c = 0 with
    c = h - come s - acc s^2 / 2 < 0. That path exists only if the point can stop short of the
    plane (come <= 0 or come^2 < 2 acc h)."""
    if h <= 0.0:
        return 0.0 if come >= speed else np.inf
    v2 = come * come + 2.0 * acc * h
    t_reach = (v2 ** 0.5 - come) / acc
    if v2 >= speed * speed:
        return t_reach
    back = t_reach + speed / acc  # touch slowly first (not before the direct fall), leave, come back
    if come > 0.0 and come * come >= 2.0 * acc * h:
        return back
    s = (speed - come) / acc
    c = h - come * s - 0.5 * acc * s * s
    t1 = (come + (come * come - acc * c) ** 0.5) / acc
    return min(2.0 * t1 + s, back)


def _reach_time(gap: float, speed: float, accel: float) -> float:
    """Time to close ``gap`` moving at ``speed`` with up to ``accel`` more (a safe lower bound)."""
    if accel == 0:
        return np.inf if speed == 0 else gap / speed
    return (-speed + math.sqrt(speed * speed + 2 * accel * gap)) / accel
