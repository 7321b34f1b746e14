"""Impacts resolved at their time of impact: Newton's restitution law with Coulomb friction.

One contact *patch* per touching pair (the mean point and normal of its touching points). An
impacting patch must leave with normal velocity ``-e`` times its approach velocity; every other
touching patch of the bodies involved (a ball resting on the floor when another hits it) must not
approach (e = 0). Friction acts in the circular Coulomb cone, ``|P_t| <= mu P_n``, stopping the slip
at the patch when it can. A single patch is solved in closed form (sticking, or sliding along the
direction of the sticking impulse: the classic single-point impact of Routh); several by projected
Gauss-Seidel over the same per-patch law. The result is an instantaneous change of the bodies'
velocities; positions do not move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simgen.spec import quat_to_matrix


@dataclass
class Patch:
    pair: tuple[int, int]  # simgen ids a > b (objects 1..N, statics < 0)
    point: np.ndarray  # [3] world
    normal: np.ndarray  # [3] from b to a
    e: float  # restitution if impacting, else 0
    mu: float


class Bodies:
    """Mass properties of the objects and the velocities being changed (world frame)."""

    def __init__(self, mass: np.ndarray, inertia: np.ndarray):
        self.inv_mass = 1.0 / np.asarray(mass, np.float64)
        self.inv_inertia = 1.0 / np.asarray(inertia, np.float64)  # principal, body frame

    def load(self, pos, quat, vel, omega) -> None:
        self.pos, self.vel, self.omega = pos, vel.copy(), omega.copy()
        self.quat, self._inv_iw = quat, None

    @property
    def inv_iw(self) -> np.ndarray:
        """World-frame inverse inertia tensors R diag(1/I) R^T [n, 3, 3] (computed when needed)."""
        if self._inv_iw is None:
            rot = quat_to_matrix(self.quat)
            self._inv_iw = np.einsum("nij,nj,nkj->nik", rot, self.inv_inertia, rot)
        return self._inv_iw

    def point_velocity(self, body: int, p: np.ndarray) -> np.ndarray:
        if body <= 0:
            return np.zeros(3)
        i = body - 1
        return self.vel[i] + cross(self.omega[i], p - self.pos[i])

    def apply(self, body: int, p: np.ndarray, impulse: np.ndarray) -> None:
        if body <= 0:
            return
        i = body - 1
        self.vel[i] += self.inv_mass[i] * impulse
        self.omega[i] += self.inv_iw[i] @ cross(p - self.pos[i], impulse)

    def k_matrix(self, pair, p: np.ndarray) -> np.ndarray:
        """Velocity change at p of body a relative to b per unit impulse at p (+ on a, - on b)."""
        k = np.zeros((3, 3))
        for body in pair:
            if body <= 0:
                continue
            i = body - 1
            r = p - self.pos[i]
            rx = np.array([[0.0, -r[2], r[1]], [r[2], 0.0, -r[0]], [-r[1], r[0], 0.0]])
            k += self.inv_mass[i] * np.eye(3) - rx @ self.inv_iw[i] @ rx
        return k


def cross(a, b) -> np.ndarray:
    """Cross product of two 3-vectors (numpy.cross is slow for single vectors)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _basis(n: np.ndarray) -> np.ndarray:
    """Orthonormal frame [n, t1, t2] (rows)."""
    a = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    t1 = cross(n, a)
    t1 /= np.linalg.norm(t1)
    return np.array([n, t1, cross(n, t1)])


def _patch_impulse(k: np.ndarray, u: np.ndarray, target_n: float, mu: float, acc: np.ndarray) -> np.ndarray:
    """Impulse increment (contact frame n, t1, t2) for one patch: reach normal velocity
    ``target_n`` (never pulling: accumulated P_n >= 0) and stop the slip within the cone."""
    # sticking: K dP = (target_n - u_n, -u_t)
    want = np.array([target_n - u[0], -u[1], -u[2]])
    try:
        dp = np.linalg.solve(k, want)
    except np.linalg.LinAlgError:
        dp = np.array([want[0] / k[0, 0], 0.0, 0.0])
    total = acc + dp
    if total[0] <= 0.0:  # separating anyway: release this patch
        return -acc
    tn = float(np.hypot(total[1], total[2]))
    if tn <= mu * total[0] + 1e-15:
        return dp
    # sliding: friction mu P_n along the sticking impulse's tangential direction
    d = total[1:] / tn
    col = np.array([1.0, mu * d[0], mu * d[1]])
    denom = float(k[0] @ col)
    if denom <= 1e-15:  # jamming: frictionless instead
        pn = max(acc[0] + (target_n - u[0]) / k[0, 0], 0.0)
        return np.array([pn, 0.0, 0.0]) - acc
    # normal velocity after: u_n + K_n . (P_total - acc) = target_n with P_total = pn * col
    pn = max((target_n - u[0] + float(k[0] @ acc)) / denom, 0.0)
    return pn * col - acc


def resolve(bodies: Bodies, patches: list[Patch], impacting: set, iterations: int = 30, tol: float = 1e-10) -> dict:
    """Solve the impact; updates ``bodies.vel``/``omega``. Returns the normal impulse of every
    patch (N s) by pair."""
    frames = [_basis(p.normal) for p in patches]
    ks = [f @ bodies.k_matrix(p.pair, p.point) @ f.T for p, f in zip(patches, frames)]
    u0 = [f @ (bodies.point_velocity(p.pair[0], p.point) - bodies.point_velocity(p.pair[1], p.point))
          for p, f in zip(patches, frames)]
    targets = [-p.e * min(u[0], 0.0) if p.pair in impacting else 0.0 for p, u in zip(patches, u0)]
    acc = [np.zeros(3) for _ in patches]
    for _ in range(iterations if len(patches) > 1 else 3):
        change = 0.0
        for j, (p, f) in enumerate(zip(patches, frames)):
            u = f @ (bodies.point_velocity(p.pair[0], p.point) - bodies.point_velocity(p.pair[1], p.point))
            dp = _patch_impulse(ks[j], u, targets[j] if p.pair in impacting else max(targets[j], 0.0), p.mu, acc[j])
            if not np.any(dp):
                continue
            acc[j] += dp
            world = f.T @ dp
            bodies.apply(p.pair[0], p.point, world)
            bodies.apply(p.pair[1], p.point, -world)
            change = max(change, float(np.abs(dp).max()))
        if change < tol:
            break
    return {p.pair: float(a[0]) for p, a in zip(patches, acc)}
