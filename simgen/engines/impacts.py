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
        self.quat = quat

    def inv_iw_of(self, i: int) -> list:
        """World-frame inverse inertia tensor R diag(1/I) R^T of body ``i`` (rows, floats)."""
        x, y, z, w = self.quat[i].tolist()
        s = 2.0 / (x * x + y * y + z * z + w * w)
        r = ((1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)),
             (s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)),
             (s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)))
        d0, d1, d2 = self.inv_inertia[i].tolist()
        out = []
        for a, b, c in r:
            u0, u1, u2 = a * d0, b * d1, c * d2
            out.append([u0 * v[0] + u1 * v[1] + u2 * v[2] for v in r])
        return out

    def point_velocity(self, body: int, p) -> tuple:
        """Velocity v + w x (p - c) of ``body``'s world point ``p``, as floats (a static's is zero;
        plain floats: numpy's per-call cost would dominate on one point)."""
        if body <= 0:
            return 0.0, 0.0, 0.0
        i = body - 1
        (vx, vy, vz), (wx, wy, wz), (cx, cy, cz) = self.vel[i].tolist(), self.omega[i].tolist(), self.pos[i].tolist()
        px, py, pz = p.tolist() if isinstance(p, np.ndarray) else p
        rx, ry, rz = px - cx, py - cy, pz - cz
        return vx + (wy * rz - wz * ry), vy + (wz * rx - wx * rz), vz + (wx * ry - wy * rx)

    def normal_velocity(self, pair: tuple, p, n) -> float:
        """n . (velocity of a's point p - velocity of b's): > 0 separating, < 0 approaching (floats)."""
        (ax, ay, az), (bx, by, bz) = self.point_velocity(pair[0], p), self.point_velocity(pair[1], p)
        nx, ny, nz = n
        return nx * (ax - bx) + ny * (ay - by) + nz * (az - bz)


def _basis(n) -> tuple:
    """Orthonormal frame (n, t1, t2) of a unit normal, as tuples of floats."""
    nx, ny, nz = n
    ax, ay, az = (1.0, 0.0, 0.0) if abs(nx) < 0.9 else (0.0, 1.0, 0.0)
    t = (ny * az - nz * ay, nz * ax - nx * az, nx * ay - ny * ax)
    s = (t[0] * t[0] + t[1] * t[1] + t[2] * t[2]) ** 0.5
    t1 = (t[0] / s, t[1] / s, t[2] / s)
    return (nx, ny, nz), t1, _cross3((nx, ny, nz), t1)


def _cross3(a, b) -> tuple:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _cramer3(k):
    """Cramer's rule for the 3x3 matrix k: the rows of its adjugate and its determinant, None if
    k is singular (made once per patch: the solver's iterations solve with the same k)."""
    (a11, a12, a13), (a21, a22, a23), (a31, a32, a33) = k
    c11, c12, c13 = a22 * a33 - a23 * a32, a23 * a31 - a21 * a33, a21 * a32 - a22 * a31
    det = a11 * c11 + a12 * c12 + a13 * c13
    if det == 0.0 or det != det:
        return None
    return ((c11, a13 * a32 - a12 * a33, a12 * a23 - a13 * a22), (c12, a11 * a33 - a13 * a31, a13 * a21 - a11 * a23),
            (c13, a12 * a31 - a11 * a32, a11 * a22 - a12 * a21), det)


def _solve3(k, b, cramer=False):
    """Solution of the 3x3 system k x = b (Cramer's rule), None if k is singular. ``cramer``:
    ``_cramer3(k)`` if already made."""
    m = _cramer3(k) if cramer is False else cramer
    if m is None:
        return None
    (r10, r11, r12), (r20, r21, r22), (r30, r31, r32), det = m
    b1, b2, b3 = b
    return (b1 * r10 + b2 * r11 + b3 * r12) / det, (b1 * r20 + b2 * r21 + b3 * r22) / det, (b1 * r30 + b2 * r31 + b3 * r32) / det


def _patch_impulse(k, u, target_n: float, mu: float, acc, cramer=False) -> tuple:
    """Impulse increment (contact frame n, t1, t2) for one patch: reach normal velocity
    ``target_n`` (never pulling: accumulated P_n >= 0) and stop the slip within the cone."""
    # sticking: K dP = (target_n - u_n, -u_t)
    want = (target_n - u[0], -u[1], -u[2])
    dp = _solve3(k, want, cramer)
    if dp is None:
        dp = (want[0] / k[0][0], 0.0, 0.0)
    t0, t1, t2 = acc[0] + dp[0], acc[1] + dp[1], acc[2] + dp[2]
    if t0 <= 0.0:
        if u[0] >= target_n:  # separating anyway: release this patch
            return -acc[0], -acc[1], -acc[2]
        # approaching, but stopping its slip as well would take a pull (a box sliding fast as its edge
        # lands, turning hard): it slides, friction against the slip
        s = (u[1] * u[1] + u[2] * u[2]) ** 0.5
        d1, d2 = (-u[1] / s, -u[2] / s) if s > 1e-12 else (0.0, 0.0)
    else:
        tn = (t1 * t1 + t2 * t2) ** 0.5
        if tn <= mu * t0 + 1e-15:
            return dp
        # sliding: friction mu P_n along the sticking impulse's tangential direction
        d1, d2 = t1 / tn, t2 / tn
    c1, c2 = mu * d1, mu * d2
    k0 = k[0]
    denom = k0[0] + k0[1] * c1 + k0[2] * c2
    if denom <= 1e-15:  # jamming: frictionless instead
        pn = max(acc[0] + (target_n - u[0]) / k0[0], 0.0)
        return pn - acc[0], -acc[1], -acc[2]
    # normal velocity after: u_n + K_n . (P_total - acc) = target_n with P_total = pn * col
    pn = max((target_n - u[0] + (k0[0] * acc[0] + k0[1] * acc[1] + k0[2] * acc[2])) / denom, 0.0)
    return pn - acc[0], pn * c1 - acc[1], pn * c2 - acc[2]


def resolve(bodies: Bodies, patches: list[Patch], impacting: set, iterations: int = 30, tol: float = 1e-10) -> dict:
    """Solve the impact; updates ``bodies.vel``/``omega``. Returns the normal impulse of every
    patch (N s) by pair. (Plain floats: a few 3-vectors, where numpy's per-call cost dominates.)"""
    involved = sorted({b - 1 for p in patches for b in p.pair if b > 0})
    inv_m = {i: float(bodies.inv_mass[i]) for i in involved}
    iw = {i: bodies.inv_iw_of(i) for i in involved}
    pos = {i: bodies.pos[i].tolist() for i in involved}
    vel = {i: bodies.vel[i].tolist() for i in involved}
    om = {i: bodies.omega[i].tolist() for i in involved}
    rows = []  # per patch: frame, K in the frame, the two bodies with their lever arms
    for p in patches:
        f = _basis(p.normal.tolist())
        px, py, pz = p.point.tolist()
        ends = []
        kw = [[0.0] * 3 for _ in range(3)]  # world-frame K: sum of m I - [r]x Iw [r]x
        for body, sign in ((p.pair[0], 1.0), (p.pair[1], -1.0)):
            if body <= 0:
                continue
            i = body - 1
            cx, cy, cz = pos[i]
            x, y, z = px - cx, py - cy, pz - cz
            ends.append((i, sign, (x, y, z)))
            (i00, i01, i02), (i10, i11, i12), (i20, i21, i22) = iw[i]
            # A = [r]x Iw (rows of [r]x: (0, -z, y), (z, 0, -x), (-y, x, 0)), unrolled
            a = ((-z * i10 + y * i20, -z * i11 + y * i21, -z * i12 + y * i22),
                 (z * i00 - x * i20, z * i01 - x * i21, z * i02 - x * i22),
                 (-y * i00 + x * i10, -y * i01 + x * i11, -y * i02 + x * i12))
            m = inv_m[i]
            for u in range(3):  # K -= A [r]x (columns of [r]x: (0, z, -y), (-z, 0, x), (y, -x, 0))
                a0, a1, a2 = a[u]
                row = kw[u]
                row[0] -= a1 * z - a2 * y
                row[1] -= a2 * x - a0 * z
                row[2] -= a0 * y - a1 * x
                row[u] += m
        (k00, k01, k02), (k10, k11, k12), (k20, k21, k22) = kw
        kf = []
        for f0, f1, f2 in f:
            g0, g1, g2 = f0 * k00 + f1 * k10 + f2 * k20, f0 * k01 + f1 * k11 + f2 * k21, f0 * k02 + f1 * k12 + f2 * k22
            kf.append([g0 * fv[0] + g1 * fv[1] + g2 * fv[2] for fv in f])
        rows.append((f, kf, ends))

    def rel_velocity(f, ends) -> tuple:
        ux = uy = uz = 0.0
        for i, sign, (rx, ry, rz) in ends:
            (vx, vy, vz), (wx, wy, wz) = vel[i], om[i]
            ux += sign * (vx + wy * rz - wz * ry)
            uy += sign * (vy + wz * rx - wx * rz)
            uz += sign * (vz + wx * ry - wy * rx)
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = f
        return a0 * ux + a1 * uy + a2 * uz, b0 * ux + b1 * uy + b2 * uz, c0 * ux + c1 * uy + c2 * uz

    targets = []
    for p, (f, _, ends) in zip(patches, rows):
        un = rel_velocity(f, ends)[0]
        targets.append(-p.e * min(un, 0.0) if p.pair in impacting else 0.0)
    # per patch, what every iteration uses: its target normal velocity, friction, Cramer's rule of K
    fixed = [(targets[j] if p.pair in impacting else max(targets[j], 0.0), p.mu, _cramer3(kf))
             for j, (p, (_, kf, _)) in enumerate(zip(patches, rows))]
    acc = [(0.0, 0.0, 0.0) for _ in patches]
    for _ in range(iterations if len(patches) > 1 else 1):  # (one patch: closed form, a second pass moves it < 1e-13)
        change = 0.0
        for j, ((f, kf, ends), (target, mu, cramer)) in enumerate(zip(rows, fixed)):
            u = rel_velocity(f, ends)
            dp = _patch_impulse(kf, u, target, mu, acc[j], cramer)
            if not (dp[0] or dp[1] or dp[2]):
                continue
            a = acc[j]
            acc[j] = (a[0] + dp[0], a[1] + dp[1], a[2] + dp[2])
            (n0, n1, n2), (s0, s1, s2), (u0, u1, u2) = f
            d0, d1, d2 = dp
            wx, wy, wz = n0 * d0 + s0 * d1 + u0 * d2, n1 * d0 + s1 * d1 + u1 * d2, n2 * d0 + s2 * d1 + u2 * d2
            for i, sign, (rx, ry, rz) in ends:
                m = inv_m[i] * sign
                v = vel[i]
                vel[i] = [v[0] + m * wx, v[1] + m * wy, v[2] + m * wz]
                tx, ty, tz = sign * (ry * wz - rz * wy), sign * (rz * wx - rx * wz), sign * (rx * wy - ry * wx)
                (I00, I01, I02), (I10, I11, I12), (I20, I21, I22) = iw[i]
                w0, w1, w2 = om[i]
                om[i] = [w0 + I00 * tx + I01 * ty + I02 * tz, w1 + I10 * tx + I11 * ty + I12 * tz,
                         w2 + I20 * tx + I21 * ty + I22 * tz]
            change = max(change, abs(dp[0]), abs(dp[1]), abs(dp[2]))
        if change < tol:
            break
    for i in involved:
        bodies.vel[i] = vel[i]
        bodies.omega[i] = om[i]
    return {p.pair: float(a[0]) for p, a in zip(patches, acc)}
