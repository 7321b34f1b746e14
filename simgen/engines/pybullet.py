"""PyBullet engine.

Mapping of SceneSpec parameters (documented in the README):

- physics rate: ``setTimeStep(1 / physics_hz)`` with ``numSubSteps=0``; frames are recorded every
  ``physics_hz / fps`` steps.
- damping: linear and angular damping are set to 0 (PyBullet's default of 0.04 would bend free fall).
- friction and restitution: Bullet combines the two bodies' values by multiplication. Static geometry
  is given friction and restitution from its StaticSpec (1.0 by default), so against the floor the
  effective coefficients are the object's own. Between two objects they are the products.
- restitution: Bullet by default creates contact points a little before bodies touch and
  corrects penetration with a stiff ERP; both make the rebound depend on where in a step the
  impact falls (measured apex/e^2 h0 from 0.3 to 1.3). simgen sets ``contactProcessingThreshold=0``
  on every body (contacts only when touching) and a small ``contactERP`` (``engine.contact_erp``,
  default 0.015). A body lands up to v*dt deep and Bullet removes that depth through the contact
  velocity, so the rebound gains contact_erp * depth / dt (at most contact_erp * v, at any physics
  rate): with 0.015 the first apex is e^2 h0 within 5 % at 240 and 480 Hz (24 bounce scenes); a
  smaller value is more exact but leaves resting and sliding bodies deeper in what they touch.
- inertia: set explicitly from the shape (``localInertiaDiagonal``), exact for primitives and for
  meshes (trimesh), where Bullet would otherwise use an AABB approximation.
"""

from __future__ import annotations

import numpy as np

from simgen.engines import Engine
from simgen.engines.contacts import ContactTracker, ordered
from simgen.spec import SceneSpec, Trajectory


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


class PyBulletEngine(Engine):
    name = "pybullet"

    def __init__(self, contact_erp: float = 0.015, **kwargs):
        super().__init__(**kwargs)
        self.contact_erp = float(contact_erp)
        self.p = _import_pybullet()
        self.client = self.p.connect(self.p.DIRECT)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.p.disconnect(self.client)
            except Exception:  # pragma: no cover - already gone
                pass
            self.client = None

    def _collision_shape(self, obj) -> int:
        p, c = self.p, self.client
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
        p, c = self.p, self.client
        if st.kind == "plane":
            return p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
        if st.kind == "box":
            return p.createCollisionShape(p.GEOM_BOX, halfExtents=np.asarray(st.size[:3], float).tolist(), physicsClientId=c)
        raise ValueError(f"unknown static kind {st.kind!r}")

    def simulate(self, spec: SceneSpec) -> Trajectory:
        p, c = self.p, self.client
        k = self.steps_per_frame(spec)
        dt = 1.0 / spec.physics_hz
        p.resetSimulation(physicsClientId=c)
        p.setPhysicsEngineParameter(
            fixedTimeStep=dt,
            numSubSteps=0,
            numSolverIterations=self.solver_iterations,
            deterministicOverlappingPairs=1,
            contactERP=self.contact_erp,
            physicsClientId=c,
        )
        p.setGravity(*np.asarray(spec.gravity, float).tolist(), physicsClientId=c)

        ids: dict[int, int] = {}  # bullet unique id -> simgen id
        for j, st in enumerate(spec.statics):
            b = p.createMultiBody(
                baseMass=0.0,
                baseCollisionShapeIndex=self._static_shape(st),
                basePosition=np.asarray(st.position, float).tolist(),
                baseOrientation=np.asarray(st.quaternion, float).tolist(),
                physicsClientId=c,
            )
            p.changeDynamics(b, -1, lateralFriction=float(st.friction), restitution=float(st.restitution),
                             contactProcessingThreshold=0.0, physicsClientId=c)
            ids[b] = -(j + 1)
        bodies = []
        for i, obj in enumerate(spec.objects):
            b = p.createMultiBody(
                baseMass=float(obj.mass),
                baseCollisionShapeIndex=self._collision_shape(obj),
                basePosition=np.asarray(obj.position, float).tolist(),
                baseOrientation=np.asarray(obj.quaternion, float).tolist(),
                physicsClientId=c,
            )
            dyn = dict(
                lateralFriction=float(obj.friction),
                restitution=float(obj.restitution),
                linearDamping=0.0,
                angularDamping=0.0,
                rollingFriction=0.0,
                spinningFriction=0.0,
                contactProcessingThreshold=0.0,
            )
            if obj.inertia is not None:
                dyn["localInertiaDiagonal"] = np.asarray(obj.inertia, float).tolist()
            p.changeDynamics(b, -1, physicsClientId=c, **dyn)
            p.resetBaseVelocity(
                b, np.asarray(obj.linear_velocity, float).tolist(), np.asarray(obj.angular_velocity, float).tolist(), physicsClientId=c
            )
            ids[b] = i + 1
            bodies.append(b)

        n, T = len(bodies), spec.frames
        pos = np.zeros((T, n, 3), np.float64)
        quat = np.zeros((T, n, 4), np.float64)
        lin = np.zeros((T, n, 3), np.float64)
        ang = np.zeros((T, n, 3), np.float64)

        def record(f: int) -> None:
            for i, b in enumerate(bodies):
                x, q = p.getBasePositionAndOrientation(b, physicsClientId=c)
                v, w = p.getBaseVelocity(b, physicsClientId=c)
                pos[f, i], quat[f, i], lin[f, i], ang[f, i] = x, q, v, w

        tracker = ContactTracker(spec.fps, spec.physics_hz, self.contact_gap_steps)
        record(0)
        step = 0
        for f in range(1, T):
            for _ in range(k):
                p.stepSimulation(physicsClientId=c)
                step += 1
                touching = {}
                for cp in p.getContactPoints(physicsClientId=c):
                    a, b = ids.get(cp[1]), ids.get(cp[2])
                    # cp[8]: signed distance, cp[9]: normal force. Bullet keeps manifold points a
                    # little apart (margin): a pair touches when it penetrates or pushes.
                    if a is None or b is None or (cp[8] > 1e-4 and cp[9] <= 0.0):
                        continue
                    pair, sign = ordered(a, b)
                    impulse = float(cp[9]) * dt  # normal force over the step -> impulse
                    prev = touching.get(pair)
                    if prev is None:
                        touching[pair] = (np.asarray(cp[6]), sign * np.asarray(cp[7]), impulse)
                    else:  # several manifold points: average the point, sum the impulse
                        touching[pair] = (0.5 * (prev[0] + np.asarray(cp[6])), prev[1], prev[2] + impulse)
                tracker.update(step, touching)
            record(f)

        mass = np.zeros(n)
        fric = np.zeros(n)
        rest = np.zeros(n)
        for i, b in enumerate(bodies):
            info = p.getDynamicsInfo(b, -1, physicsClientId=c)
            mass[i], fric[i], rest[i] = info[0], info[1], info[5]
        return Trajectory(
            times=np.arange(T) * k * dt,
            positions=pos,
            quaternions=quat,
            linear_velocity=lin,
            angular_velocity=ang,
            mass=mass,
            friction=fric,
            restitution=rest,
            contacts=tracker.events,
            physics_hz=spec.physics_hz,
            engine=self.name,
        )
