"""PyBullet engine.

Driven by :class:`~simgen.engines.stepping.Stepper` (exact free flight, impacts resolved at their time
of impact); this module maps a SceneSpec onto Bullet and gives the stepper steps and contact points.
Mapping of SceneSpec parameters (documented in the README):

- bodies: ``createMultiBody`` with the shape's collision geometry (meshes: the convex hull of the
  vertices), ``localInertiaDiagonal`` from the shape (exact for meshes via trimesh; Bullet would
  use an AABB approximation), linear and angular damping 0, no rolling or spinning friction.
- time: ``fixedTimeStep = 1 / physics_hz`` and ``numSubSteps = 0``; steps cut at an impact are
  shorter (the stepper restores whole steps around them).
- friction and restitution: Bullet combines the two bodies' values by multiplication. Static geometry
  carries its StaticSpec values (1.0 by default), so against the floor the object's own coefficients
  are the effective ones.
- contacts: only between touching bodies (``contactProcessingThreshold = 0``, ``contactSlop = 0``:
  Bullet's speculative points would bounce a body before it arrives). Bullet never applies
  restitution (``restitutionVelocityThreshold`` is infinite): impacts are the stepper's, resolved
  by simgen's own solver at their time of impact. Penetration of the contacts Bullet holds
  (resting, sliding, rolling) is removed at ``contact_erp`` per step (``erp`` and ``contactERP``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

import numpy as np

from simgen.engines import Engine
from simgen.engines.stepping import Points, State, Stepper, World
from simgen.spec import SceneSpec, Trajectory

NO_RESTITUTION = 1e9  # m/s: a restitution velocity threshold no contact reaches

# setPhysicsEngineParameter's parameters in the order of its pybullet.c (pybullet 3.2.7), each at the
# value it reads as "leave unchanged" (-1; -2 for maxNumCmdPer1ms, where -1 is a setting)
_ENGINE_PARAMETERS = {
    "fixedTimeStep": -1, "numSolverIterations": -1, "useSplitImpulse": -1, "splitImpulsePenetrationThreshold": -1,
    "numSubSteps": -1, "collisionFilterMode": -1, "contactBreakingThreshold": -1, "maxNumCmdPer1ms": -2,
    "enableFileCaching": -1, "restitutionVelocityThreshold": -1, "erp": -1, "contactERP": -1, "frictionERP": -1,
    "enableConeFriction": -1, "deterministicOverlappingPairs": -1, "allowedCcdPenetration": -1,
    "jointFeedbackMode": -1, "solverResidualThreshold": -1, "contactSlop": -1, "enableSAT": -1,
    "constraintSolverType": -1, "globalCFM": -1, "minimumSolverIslandSize": -1, "reportSolverAnalytics": -1,
    "warmStartingFactor": -1, "sparseSdfVoxelSize": -1, "numNonContactInnerIterations": -1, "physicsClientId": 0,
}
_PARAMETER_ORDER_VERSIONS = ("3.2.7",)  # pybullet versions whose pybullet.c was read for that order
_STEP, _ERP, _CONTACT_ERP, _FRICTION_ERP = (list(_ENGINE_PARAMETERS).index(k) for k in
                                            ("fixedTimeStep", "erp", "contactERP", "frictionERP"))


def _pybullet_version() -> str | None:
    """The installed pybullet distribution's version, None if its metadata cannot be found."""
    try:
        return _version("pybullet")
    except PackageNotFoundError:
        return None


def _import_pybullet():
    """Import pybullet without the 'pybullet build time' line its C module prints on stderr at
    import (it would break the progress bar and look like an error)."""
    import os
    import sys

    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import pybullet
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return pybullet


class _BulletWorld(World):
    # a new point of a pair already touching, faster than this (m/s), is an impact: Bullet's solver
    # lets new points of a sliding or rocking box arriving at 0.3-0.5 m/s sink up to 4 mm
    held_impact_speed = 0.25
    def __init__(self, engine: "PyBulletEngine", spec: SceneSpec):
        self.p, self.c, self.engine = engine.p, engine.client, engine
        p, c = self.p, self.c
        self.dt = 1.0 / spec.physics_hz
        self.mode = None
        self._mode_args = engine.mode_arguments()  # (None: by keyword)
        self._st = None  # what was read of the current state (a list of floats, 13 per body)
        self._written: set = set()  # bodies written since (their part of _st is out of date)
        self.ids: dict[int, int] = engine.reuse_statics(spec)  # bullet unique id -> simgen id (statics here)
        self._mode(self.dt)
        erp = engine.contact_erp
        p.setPhysicsEngineParameter(numSubSteps=0, numSolverIterations=engine.solver_iterations, deterministicOverlappingPairs=1,
                                    contactSlop=0.0, erp=erp, contactERP=erp, frictionERP=erp,
                                    restitutionVelocityThreshold=NO_RESTITUTION, physicsClientId=c)
        p.setGravity(*np.asarray(spec.gravity, float).tolist(), physicsClientId=c)
        if not self.ids:
            for j, st in enumerate(spec.statics):
                b = p.createMultiBody(baseMass=0.0, baseCollisionShapeIndex=self._static_shape(st),
                                      basePosition=np.asarray(st.position, float).tolist(),
                                      baseOrientation=np.asarray(st.quaternion, float).tolist(), physicsClientId=c)
                p.changeDynamics(b, -1, lateralFriction=float(st.friction), restitution=float(st.restitution),
                                 contactProcessingThreshold=0.0, physicsClientId=c)
                self.ids[b] = -(j + 1)
            engine.static_ids, engine.statics_key = dict(self.ids), _statics_key(spec)
        self.bodies = engine.object_ids  # removed before the next video (creation may stop half way)
        for i, obj in enumerate(spec.objects):
            b = p.createMultiBody(baseMass=float(obj.mass), baseCollisionShapeIndex=self._collision_shape(obj),
                                  baseVisualShapeIndex=engine.blank_visual(),
                                  basePosition=np.asarray(obj.position, float).tolist(),
                                  baseOrientation=np.asarray(obj.quaternion, float).tolist(), physicsClientId=c)
            dyn = dict(lateralFriction=float(obj.friction), restitution=float(obj.restitution), linearDamping=0.0,
                       angularDamping=0.0, rollingFriction=0.0, spinningFriction=0.0, contactProcessingThreshold=0.0,
                       collisionMargin=0.0)  # Bullet rounds hulls and cylinders by a margin: exact shapes
            if obj.inertia is not None:
                dyn["localInertiaDiagonal"] = np.asarray(obj.inertia, float).tolist()
            p.changeDynamics(b, -1, physicsClientId=c, **dyn)
            p.resetBaseVelocity(b, np.asarray(obj.linear_velocity, float).tolist(),
                                np.asarray(obj.angular_velocity, float).tolist(), physicsClientId=c)
            self.ids[b] = i + 1
            self.bodies.append(b)
        engine.shapes_made += len(self.bodies)
        self.uid = {v: k for k, v in self.ids.items()}  # simgen id -> bullet unique id

    def _collision_shape(self, obj) -> int:
        p, c = self.p, self.c
        s = np.asarray(obj.size, dtype=np.float64)
        if obj.shape == "sphere":
            return p.createCollisionShape(p.GEOM_SPHERE, radius=float(s[0]), physicsClientId=c)
        if obj.shape == "box":
            return p.createCollisionShape(p.GEOM_BOX, halfExtents=s[:3].tolist(), physicsClientId=c)
        if obj.shape == "cylinder":
            return p.createCollisionShape(p.GEOM_CYLINDER, radius=float(s[0]), height=float(2 * s[1]), physicsClientId=c)
        if obj.shape == "capsule":
            return p.createCollisionShape(p.GEOM_CAPSULE, radius=float(s[0]), height=float(2 * s[1]), physicsClientId=c)
        if obj.shape == "mesh":
            # vertices without indices: Bullet builds the convex hull
            return p.createCollisionShape(p.GEOM_MESH, vertices=obj.mesh.vertices.tolist(), physicsClientId=c)
        raise ValueError(f"unknown shape {obj.shape!r}")

    def _static_shape(self, st) -> int:
        p, c = self.p, self.c
        if st.kind == "plane":
            return p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
        if st.kind == "box":
            return p.createCollisionShape(p.GEOM_BOX, halfExtents=np.asarray(st.size[:3], float).tolist(), physicsClientId=c)
        raise ValueError(f"unknown static kind {st.kind!r}")

    def _mode(self, h: float) -> None:
        """Steps of ``h`` seconds. Bullet removes ``erp`` of a contact's depth per step (as a
        velocity, erp * depth / h): a piece shorter than dt removes the share h / dt of it, else a
        time-of-impact piece of microseconds throws a body resting 1 mm deep at metres per second."""
        if self.mode == h:
            return
        erp = self.engine.contact_erp * min(1.0, h / self.dt)
        args = self._mode_args
        if args is None:
            self.p.setPhysicsEngineParameter(fixedTimeStep=h, erp=erp, contactERP=erp, frictionERP=erp, physicsClientId=self.c)
        else:  # (the same call by position: pybullet parses keywords slowly, 4.5 us a call against 1.6)
            args[_STEP], args[_ERP], args[_CONTACT_ERP], args[_FRICTION_ERP] = h, erp, erp, erp
            self.p.setPhysicsEngineParameter(*args)
        self.mode = h

    # -- World ---------------------------------------------------------------------------------
    def read(self) -> State:
        flat = self._st
        p, c = self.p, self.c  # (the client id passed by position: pybullet parses keywords slowly)
        if flat is None:
            pose, rate = p.getBasePositionAndOrientation, p.getBaseVelocity
            flat = []  # per body: x y z, qx qy qz qw, vx vy vz, wx wy wz
            for b in self.bodies:
                x, q = pose(b, c)
                v, w = rate(b, c)
                flat += x
                flat += q
                flat += v
                flat += w
            self._st = flat
            self._written.clear()
        elif self._written:  # only the bodies written since: Bullet holds every other body's state as it was read
            for i in self._written:
                b = self.bodies[i]
                x, q = p.getBasePositionAndOrientation(b, c)
                v, w = p.getBaseVelocity(b, c)
                flat[13 * i:13 * i + 13] = x + q + v + w
            self._written.clear()
        n = len(self.bodies)  # (a new array per call: the caller may write to it)
        a = np.fromiter(flat, np.float64, 13 * n).reshape(n, 13)
        return State(a[:, 0:3], a[:, 3:7], a[:, 7:10], a[:, 10:13])

    def write(self, state: State, bodies=None) -> None:
        p, c = self.p, self.c
        pos, quat, vel, omega = state.pos.tolist(), state.quat.tolist(), state.vel.tolist(), state.omega.tolist()
        which = range(len(self.bodies)) if bodies is None else np.asarray(bodies, np.int64).tolist()
        if bodies is None:
            self._st = None
        elif self._st is not None:
            self._written.update(which)  # (read again from Bullet: it stores the orientation as a matrix)
        for i in which:
            b = self.bodies[i]
            p.resetBasePositionAndOrientation(b, pos[i], quat[i], c)
            p.resetBaseVelocity(b, vel[i], omega[i], c)

    def _impulses(self, h: float) -> dict:
        """Normal impulse per pair over the step just taken (before the manifolds are refreshed:
        Bullet rebuilds some of them, e.g. sphere-sphere, and forgets what they applied)."""
        imp: dict = {}  # (position and normal as float tuples: only a new contact event reads them)
        ids = self.ids
        for cp in self.p.getContactPoints(-1, -1, -2, -2, self.c):
            j = cp[9] * h  # normal force = applied impulse / time step (cp[9]: a float)
            if j <= 0:
                continue
            ia, ib = ids.get(cp[1]), ids.get(cp[2])
            if ia is None or ib is None:
                continue
            pair = (ia, ib) if ia > ib else (ib, ia)
            old = imp.get(pair)
            if old is None:
                (x0, y0, z0), (x1, y1, z1), (nx, ny, nz) = cp[5], cp[6], cp[7]
                if ia < ib:  # the normal from b to a
                    nx, ny, nz = -nx, -ny, -nz
                imp[pair] = (j, (0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * (z0 + z1)), (nx, ny, nz))
            else:
                imp[pair] = (old[0] + j, old[1], old[2])
        return imp

    def _points(self) -> Points:
        """Contact points of the current state (fresh: no impulse applied to them yet)."""
        p, c = self.p, self.c
        p.performCollisionDetection(c)
        ids = self.ids
        a, b, dist, fresh, got = [], [], [], [], []  # got: (contact point, normal reversed)
        for cp in p.getContactPoints(-1, -1, -2, -2, c):
            ia, ib = ids.get(cp[1]), ids.get(cp[2])
            if ia is None or ib is None:
                continue
            fresh.append(cp[9] <= 0.0)
            dist.append(cp[8])
            if ia > ib:
                a.append(ia)
                b.append(ib)
                got.append((cp, False))
            else:  # order the pair so that a > b; the normal then points from b to a
                a.append(ib)
                b.append(ia)
                got.append((cp, True))
        if not a:
            return Points.empty()

        def rows():  # positions (midway between the two surfaces) and normals, for the few readers of them
            pos, normal = [], []
            for cp, flip in got:
                (x0, y0, z0), (x1, y1, z1), (nx, ny, nz) = cp[5], cp[6], cp[7]
                pos.append((0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * (z0 + z1)))
                normal.append((-nx, -ny, -nz) if flip else (nx, ny, nz))
            return pos, normal

        return Points.of_lists(a, b, dist, fresh, rows)  # (arrays made only if asked for)

    def step(self, h: float) -> tuple[Points, dict]:
        self._mode(h)
        self._st = None
        self.p.stepSimulation(self.c)
        self.last_pieces = [h]
        imp = self._impulses(h)
        return self._points(), imp

    def step_free(self, k: int, rates: bool = True, marks: tuple = ()) -> list:
        self._mode(self.dt)
        self._st = None
        p, c = self.p, self.c
        states, done = [], 0
        for j in marks:
            for _ in range(j - done):
                p.stepSimulation(c)
            states.append(self.read())
            self._st = None
            done = j
        for _ in range(k - 1 - done):
            p.stepSimulation(c)
        if rates:
            rate, n, which = p.getBaseVelocity, len(self.bodies), self.rate_bodies
            if which is None or len(which) == n:
                flat = []
                for b in self.bodies:
                    v, w = rate(b, c)
                    flat += v
                    flat += w
                vw = np.fromiter(flat, np.float64, 6 * n).reshape(n, 2, 3)
            else:  # (only the bodies whose rates the stepper reads: the others' rows stay 0)
                vw = np.zeros((n, 2, 3))
                for i in which:
                    vw[i] = rate(self.bodies[i], c)
            self.before_last = (vw[:, 0], vw[:, 1])
        p.stepSimulation(c)
        self.last_pieces = [self.dt] * k
        return states

    def observe(self) -> tuple[Points, dict]:
        imp = self._impulses(self.mode)
        return self._points(), imp

    def distance(self, a: int, b: int, within: float) -> float:
        p, c = self.p, self.c
        pts = p.getClosestPoints(self.uid[a], self.uid[b], within, physicsClientId=c)
        return min((cp[8] for cp in pts), default=within)

    def near_points(self, distance: float) -> Points:
        # manifold points are kept up to Bullet's contact breaking threshold (0.02 m by default)
        pts = self._points()
        keep = pts.dist < distance
        return Points(pts.a[keep], pts.b[keep], pts.pos[keep], pts.normal[keep], pts.dist[keep], pts.fresh[keep])


def _statics_key(spec: SceneSpec) -> tuple:
    """What Bullet is given of the static geometry (a plane's size is drawn, not simulated)."""
    return tuple((st.kind, () if st.kind == "plane" else tuple(np.asarray(st.size, float)[:3].tolist()),
                  tuple(np.asarray(st.position, float).tolist()), tuple(np.asarray(st.quaternion, float).tolist()),
                  float(st.friction), float(st.restitution)) for st in spec.statics)


class PyBulletEngine(Engine):
    """One Bullet world per engine, kept between videos: the object bodies of the last video are
    removed and its static bodies kept when the next video's statics are the same (else, and after
    ``RESET_AFTER_SHAPES`` collision shapes, which Bullet frees only at a reset, the world is reset).
    A video's trajectory does not depend on what was simulated before it (tests/test_engine_reuse.py)."""

    name = "pybullet"
    RESET_AFTER_SHAPES = 1000

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.p = _import_pybullet()
        self.client = self.p.connect(self.p.DIRECT)
        self.statics_key = None  # the statics standing in the world (None: reset before the next video)
        self.static_ids: dict[int, int] = {}
        self.object_ids: list[int] = []
        self.shapes_made = 0
        self.visual = None  # the world's blank visual shape (see blank_visual)
        self.positional = _pybullet_version() in _PARAMETER_ORDER_VERSIONS

    def mode_arguments(self) -> list | None:
        """All of setPhysicsEngineParameter's arguments by position, for this client, every one
        "leave unchanged" (for _BulletWorld._mode to fill in); None where this pybullet's order of
        them was not checked (then keywords are passed)."""
        if not self.positional:
            return None
        return list({**_ENGINE_PARAMETERS, "physicsClientId": self.client}.values())

    def blank_visual(self) -> int:
        """A tiny visual shape shared by every object body of the world. A body without one gets
        its collision shape tessellated by Bullet's built-in renderer (0.3-0.45 ms per sphere,
        cylinder or capsule) for pictures simgen never asks of Bullet (simgen renders its own);
        visual shapes do not take part in the dynamics."""
        if self.visual is None:
            self.visual = self.p.createVisualShape(self.p.GEOM_BOX, halfExtents=[1e-3] * 3, physicsClientId=self.client)
        return self.visual

    def reuse_statics(self, spec: SceneSpec) -> dict:
        """Empty the world of the last video's objects; the standing statics' ids (bullet unique id
        -> simgen id) when they are the ones ``spec`` asks for, else an empty, reset world and {}."""
        p, c = self.p, self.client
        if self.statics_key is not None and self.shapes_made < self.RESET_AFTER_SHAPES and _statics_key(spec) == self.statics_key:
            for b in self.object_ids:
                p.removeBody(b, physicsClientId=c)
            self.object_ids = []
            return dict(self.static_ids)
        p.resetSimulation(physicsClientId=c)
        self.statics_key, self.static_ids, self.object_ids, self.shapes_made, self.visual = None, {}, [], 0, None
        return {}

    def close(self) -> None:
        if self.client is not None:
            try:
                self.p.disconnect(self.client)
            except Exception:  # pragma: no cover - already gone
                pass
            self.client = None

    def simulate(self, spec: SceneSpec) -> Trajectory:
        k = self.steps_per_frame(spec)
        world = _BulletWorld(self, spec)
        stepper = Stepper(world, spec, self.restitution_threshold, self.contact_gap_steps)
        pos, quat, lin, ang = stepper.run()
        p, c = self.p, self.client
        info = [p.getDynamicsInfo(b, -1, physicsClientId=c) for b in world.bodies]
        return Trajectory(
            times=np.arange(spec.frames) * k / spec.physics_hz,
            positions=pos,
            quaternions=quat,
            linear_velocity=lin,
            angular_velocity=ang,
            mass=np.array([i[0] for i in info], np.float64),
            friction=np.array([i[1] for i in info], np.float64),
            restitution=np.array([i[5] for i in info], np.float64),
            contacts=stepper.tracker.events,
            physics_hz=spec.physics_hz,
            engine=self.name,
            extras={"stepper": dict(stepper.stats)},
        )
