"""Physics truth of one sample, measured from the stored data alone.

:func:`audit` takes a sample as the reader returns it (``simgen.data.open_dataset(path)[i]``, or
:func:`record` of a SceneSpec and its Trajectory, cast to the stored float32) and measures, against
analytic answers, what the README's engine table promises. Every figure is the worst over the sample
(NaN where the sample has nothing to measure):

- ``penetration_mm``: deepest point of any object below the floor (z = 0) or a ramp's top surface
  (from ``params`` ramp_angle / ramp_length), or overlap of two spheres, any frame.
- ``restitution_first``: | measured / stored e - 1 | at each sphere's first floor impact (stored e >= 0.1,
  impact speed >= 0.5 m/s). Measured e = rebound / impact normal speed, from the ballistic arcs of the
  frames either side (sqrt(v_z^2 + 2 g (z - r))), or from the time between two bounces (g dt / 2)
  when no frame falls inside an arc. An impact whose frame before shows the sphere touching anything
  (another object pushing it, or resting) has no arc to measure its approach from and is skipped.
- ``restitution_fast``: the same for every impact faster than 1 m/s (floor, and sphere-sphere in the
  air: between frames, the floor under two spheres colliding on it changes what the frames show).
- ``elastic_energy`` / ``elastic_momentum``: sphere-sphere collisions in the air with e = 1: relative
  change of the kinetic energy, and |change of total momentum| / sum of |m v|.
- ``flight_mm``: each object's positions before its first contact vs p0 + v0 t + g t^2 / 2 from the
  stored frame-0 state.
- ``g_fit``: |fitted acceleration - g| / |g| (absolute where g = 0) over contact-free flights of at
  least 4 frames.
- ``velocity_mm_s``: stored velocity vs central differences of positions, at frames whose
  neighbours are contact-free (no contact event between them, object clear of every surface) or, on
  ramps, sliding.
- ``ramp_accel_g``: along-slope acceleration vs g (sin theta -+ mu cos theta), in units of g.
- ``impulse``: | stored impulse / (m (v_in + v_out)) - 1 | for measured sphere impacts (m: the sphere's
  mass against the floor, the reduced mass between two spheres touching nothing else).
- ``quat_flips``: frames where q_t . q_{t-1} < 0.
- ``double_events``: contact onsets (impulse 0) dated at most one physics step after an impact of the
  same pair: the impact's own touch stored twice (needs ``physics_hz``; NaN without it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simgen.engines.geometry import bounding_radius, collision_vertices, support_points

RAMP_WIDTH = 0.8  # scenes/_ramp.py
RAMP_THICKNESS = 0.06
CLEAR = 5e-4  # an object this far from every surface counts as airborne (m)
FIRST_MIN_SPEED = 0.5  # first-bounce check: impacts slower than this are settling, not bounces (m/s)
FAST = 1.0  # m/s

METRICS = ("penetration_mm", "restitution_first", "restitution_fast", "elastic_energy", "elastic_momentum",
           "flight_mm", "g_fit", "velocity_mm_s", "ramp_accel_g", "impulse", "quat_flips", "double_events")


def record(spec, traj) -> dict[str, Any]:
    """The stored ground truth of a simulated scene, as the reader returns it (float32 arrays)."""
    cs = traj.contacts
    return {
        "scene": spec.family,
        "fps": float(spec.fps),
        "physics_hz": float(traj.physics_hz),
        "times": np.asarray(traj.times, np.float32),
        "gravity": np.asarray(spec.gravity, np.float32),
        "positions": np.asarray(traj.positions, np.float32),
        "quaternions": np.asarray(traj.quaternions, np.float32),
        "linear_velocity": np.asarray(traj.linear_velocity, np.float32),
        "angular_velocity": np.asarray(traj.angular_velocity, np.float32),
        "mass": np.asarray(traj.mass, np.float32),
        "restitution": np.asarray(traj.restitution, np.float32),
        "friction": np.asarray(traj.friction, np.float32),
        "object_shape": [o.shape for o in spec.objects],
        "object_size": [np.asarray(o.size, np.float32) for o in spec.objects],
        "object_vertices": [collision_vertices(o).astype(np.float32) for o in spec.objects],
        "contacts": {
            "frame": np.array([c.frame for c in cs], np.float32),
            "body_a": np.array([c.body_a for c in cs], np.int32),
            "body_b": np.array([c.body_b for c in cs], np.int32),
            "position": np.array([c.position for c in cs], np.float32).reshape(-1, 3),
            "normal": np.array([c.normal for c in cs], np.float32).reshape(-1, 3),
            "impulse": np.array([c.impulse for c in cs], np.float32),
        },
        "params": dict(spec.params),
    }


class _Sample:
    """Float64 views of a record and the derived quantities every check needs."""

    def __init__(self, rec: dict[str, Any]):
        self.rec = rec
        self.t = np.asarray(rec["times"], np.float64)
        self.fps = float(rec["fps"])
        self.g = np.asarray(rec["gravity"], np.float64)
        self.gn = float(np.linalg.norm(self.g))
        self.x = np.asarray(rec["positions"], np.float64)
        self.q = np.asarray(rec["quaternions"], np.float64)
        self.v = np.asarray(rec["linear_velocity"], np.float64)
        w = rec.get("angular_velocity")
        self.w = np.asarray(w, np.float64) if w is not None else None
        self.m = np.asarray(rec["mass"], np.float64)
        self.e = np.asarray(rec["restitution"], np.float64)
        self.shape = list(rec["object_shape"])
        self.size = [np.asarray(s, np.float64) for s in rec["object_size"]]
        verts = rec.get("object_vertices")
        self.verts = [np.asarray(v, np.float64).reshape(-1, 3) for v in verts] if verts is not None else [None] * len(self.shape)
        self.T, self.N = self.x.shape[:2]
        c = rec["contacts"]
        self.ev_t = np.asarray(c["frame"], np.float64) / self.fps
        self.ev_a = np.asarray(c["body_a"], np.int64)
        self.ev_b = np.asarray(c["body_b"], np.int64)
        self.ev_n = np.asarray(c["normal"], np.float64).reshape(-1, 3)
        self.ev_j = np.asarray(c["impulse"], np.float64)
        p = rec.get("params") or {}
        self.has_floor = str(rec["scene"]) not in ("uniform_motion", "parabola", "two_ball_collision")
        self.ramp = None
        if "ramp_angle" in p and "ramp_length" in p:
            th = math.radians(float(p["ramp_angle"]))
            self.ramp = (np.array([math.cos(th), 0.0, -math.sin(th)]), np.array([math.sin(th), 0.0, math.cos(th)]),
                         float(p["ramp_length"]), th, p)
        self.clear = self._clearance()

    def events_of(self, i: int) -> np.ndarray:
        """Indices of the contact events of object i (0-based), by time."""
        idx = np.nonzero((self.ev_a == i + 1) | (self.ev_b == i + 1))[0]
        return idx[np.argsort(self.ev_t[idx], kind="stable")]

    def depth_below(self, i: int) -> np.ndarray:
        """[T] deepest point of object i below the floor / ramp surface (m; <= 0 when clear)."""
        out = np.full(self.T, -np.inf)
        if self.has_floor:
            pts = support_points(self.shape[i], self.size[i], self.verts[i], self.x[:, i], self.q[:, i], np.array([0, 0, -1.0]))
            out = np.maximum(out, (-pts[..., 2]).max(axis=-1))
        if self.ramp is not None:
            d, n, length, _, _ = self.ramp
            pts = support_points(self.shape[i], self.size[i], self.verts[i], self.x[:, i], self.q[:, i], -n)
            s, h = pts @ d, pts @ n
            inside = (s >= -length) & (s <= 0.0) & (np.abs(pts[..., 1]) <= RAMP_WIDTH / 2) & (h > -RAMP_THICKNESS)
            out = np.maximum(out, np.where(inside, -h, -np.inf).max(axis=-1))
        return out

    def _clearance(self) -> np.ndarray:
        """[T, N] distance of each object from the nearest surface or object (bounding spheres
        between non-spheres: a lower bound)."""
        clear = np.full((self.T, self.N), np.inf)
        for i in range(self.N):
            if self.has_floor or self.ramp is not None:
                clear[:, i] = -self.depth_below(i)
            for j in range(self.N):
                if j == i:
                    continue
                ri = bounding_radius(self.shape[i], self.size[i], self.verts[i])
                rj = bounding_radius(self.shape[j], self.size[j], self.verts[j])
                gap = np.linalg.norm(self.x[:, i] - self.x[:, j], axis=-1) - ri - rj
                clear[:, i] = np.minimum(clear[:, i], gap)
        return clear


def _sphere_pairs(s: _Sample):
    return [(i, j) for i in range(s.N) for j in range(i + 1, s.N) if s.shape[i] == s.shape[j] == "sphere"]


def penetration(s: _Sample) -> float:
    worst = 0.0
    for i in range(s.N):
        if s.has_floor or s.ramp is not None:
            worst = max(worst, float(s.depth_below(i).max()))
    for i, j in _sphere_pairs(s):
        gap = np.linalg.norm(s.x[:, i] - s.x[:, j], axis=-1) - s.size[i][0] - s.size[j][0]
        worst = max(worst, float(-gap.min()))
    return 1000.0 * worst


def _frames_between(s: _Sample, lo: float, hi: float) -> np.ndarray:
    eps = 1e-6
    return np.nonzero((s.t > lo + eps) & (s.t < hi - eps))[0]


def floor_bounces(s: _Sample) -> list[dict]:
    """Every measurable floor impact of every sphere: v_in, v_out, e measured, e stored, impulse."""
    out = []
    if not s.has_floor or s.gn == 0:
        return out
    for i in range(s.N):
        if s.shape[i] != "sphere":
            continue
        r = s.size[i][0]
        idx = s.events_of(i)
        is_floor = (s.ev_b[idx] < 0) & (s.ev_n[idx, 2] > 0.99)

        def speed(f):  # normal speed at the floor of the ballistic arc through frame f
            return math.sqrt(max(s.v[f, i, 2] ** 2 + 2 * s.gn * (s.x[f, i, 2] - r), 0.0))

        nth = 0
        for pos, k in enumerate(idx):
            if not is_floor[pos]:
                continue
            first, nth = nth == 0, nth + 1
            prev_t = s.ev_t[idx[pos - 1]] if pos > 0 else -np.inf
            next_t = s.ev_t[idx[pos + 1]] if pos + 1 < len(idx) else np.inf
            pre, post = _frames_between(s, prev_t, s.ev_t[k]), _frames_between(s, s.ev_t[k], next_t)
            if len(pre):
                if s.clear[pre[-1], i] <= CLEAR:
                    continue  # touching something at the frame before: its approach is no ballistic arc
                v_in = speed(pre[-1])
            elif pos > 0 and is_floor[pos - 1]:  # between two bounces: g dt / 2
                v_in = s.gn * (s.ev_t[k] - prev_t) / 2
            else:
                continue
            if len(post) and (s.clear[post[0], i] > CLEAR or s.t[post[0]] - s.ev_t[k] < 2 * s.e[i] * v_in / s.gn):
                v_out = speed(post[0])  # in the rebound's arc (or resting where it should still fly)
            elif pos + 1 < len(idx) and is_floor[pos + 1]:
                v_out = s.gn * (next_t - s.ev_t[k]) / 2
            else:
                continue  # landed again (too gently for an event) before the next frame
            out.append({"object": i, "first": first, "v_in": v_in, "v_out": v_out, "e": v_out / max(v_in, 1e-12),
                        "e_ref": float(s.e[i]), "impulse": float(s.ev_j[k]), "mass": float(s.m[i])})
    return out


def sphere_collisions(s: _Sample) -> list[dict]:
    """Measurable sphere-sphere impacts (frames on both sides before either sphere's other events)."""
    out = []
    for i, j in _sphere_pairs(s):
        idx = np.union1d(s.events_of(i), s.events_of(j))
        idx = idx[np.argsort(s.ev_t[idx], kind="stable")]
        ts = s.ev_t[idx]
        for k in idx:
            if {int(s.ev_a[k]), int(s.ev_b[k])} != {i + 1, j + 1}:
                continue
            pos = int(np.nonzero(idx == k)[0][0])
            prev_t = ts[pos - 1] if pos > 0 else -np.inf
            next_t = ts[pos + 1] if pos + 1 < len(idx) else np.inf
            pre, post = _frames_between(s, prev_t, s.ev_t[k]), _frames_between(s, s.ev_t[k], next_t)
            if not len(pre) or not len(post):
                continue
            f0, f1 = pre[-1], post[0]
            tc = s.ev_t[k]

            def at(f, t, obj):  # velocity at the impact time: ballistic in the air, as stored on the floor
                air = s.clear[f, obj] > CLEAR or not s.has_floor
                return s.v[f, obj] + (s.g * (t - s.t[f]) if air else 0.0)

            dx = s.x[f0, i] - s.x[f0, j] + (s.v[f0, i] - s.v[f0, j]) * (tc - s.t[f0])
            n = dx / max(np.linalg.norm(dx), 1e-12)
            vi0, vj0, vi1, vj1 = at(f0, tc, i), at(f0, tc, j), at(f1, tc, i), at(f1, tc, j)
            approach = -float((vi0 - vj0) @ n)
            if approach <= 0:
                continue
            sep = float((vi1 - vj1) @ n)
            ke0 = 0.5 * (s.m[i] * vi0 @ vi0 + s.m[j] * vj0 @ vj0)
            ke1 = 0.5 * (s.m[i] * vi1 @ vi1 + s.m[j] * vj1 @ vj1)
            p0 = s.m[i] * vi0 + s.m[j] * vj0
            p1 = s.m[i] * vi1 + s.m[j] * vj1
            scale = s.m[i] * np.linalg.norm(vi0) + s.m[j] * np.linalg.norm(vj0)
            mu = s.m[i] * s.m[j] / (s.m[i] + s.m[j])
            alone = all(s.clear[f, o] > CLEAR for f in (f0, f1) for o in (i, j)) if s.has_floor else True
            out.append({"pair": (i, j), "alone": alone, "v_in": approach, "v_out": sep, "e": sep / approach, "e_ref": float(s.e[i] * s.e[j]),
                        "energy": float(ke1 / ke0 - 1), "momentum": float(np.linalg.norm(p1 - p0) / scale),
                        "impulse": float(s.ev_j[k]), "mass": float(mu)})
    return out


def _flights(s: _Sample, i: int) -> list[np.ndarray]:
    """Frame index runs of object i in contact-free flight: before its first event, and for spheres
    between two floor events with the sphere clear of everything at every frame."""
    idx = s.events_of(i)
    first = s.ev_t[idx].min() if len(idx) else np.inf
    runs = [np.nonzero(s.t < first - 1e-6)[0]]
    if s.shape[i] == "sphere":
        ts = np.sort(s.ev_t[idx])
        for a, b in zip(ts[:-1], ts[1:]):
            f = _frames_between(s, a, b)
            if len(f) and np.all(s.clear[f, i] > CLEAR):
                runs.append(f)
    return runs


def flight(s: _Sample) -> tuple[float, float]:
    """(worst distance from the analytic initial flight in mm, worst relative g error)."""
    worst_x, worst_g = 0.0, np.nan
    for i in range(s.N):
        for n_run, f in enumerate(_flights(s, i)):
            if n_run == 0 and len(f):
                t = s.t[f]
                pred = s.x[0, i] + s.v[0, i] * t[:, None] + 0.5 * s.g * t[:, None] ** 2
                worst_x = max(worst_x, float(np.linalg.norm(s.x[f, i] - pred, axis=-1).max()))
            if len(f) >= 4:
                a = 2.0 * np.polyfit(s.t[f] - s.t[f[0]], s.x[f, i], 2)[0]
                err = float(np.abs(a - s.g).max() / (s.gn if s.gn > 0 else 1.0))
                worst_g = err if np.isnan(worst_g) else max(worst_g, err)
    return 1000.0 * worst_x, worst_g


def velocity(s: _Sample) -> float:
    """Worst |stored velocity - central difference| (mm/s) away from contacts."""
    worst = np.nan
    for i in range(s.N):
        ok = np.zeros(s.T, bool)
        for f in _flights(s, i):
            ok[f] = True
        ok &= s.clear[:, i] > CLEAR
        ok |= _sliding(s, i)
        ev = s.ev_t[s.events_of(i)]
        for f in range(1, s.T - 1):
            if not (ok[f - 1] and ok[f] and ok[f + 1]):
                continue
            if np.any((ev > s.t[f - 1] - 1e-6) & (ev < s.t[f + 1] + 1e-6)):
                continue
            cd = (s.x[f + 1, i] - s.x[f - 1, i]) / (s.t[f + 1] - s.t[f - 1])
            err = 1000.0 * float(np.linalg.norm(s.v[f, i] - cd))
            worst = err if np.isnan(worst) else max(worst, err)
    return worst


def _slope(s: _Sample, i: int):
    d, _, _, _, _ = s.ramp
    return s.x[:, i] @ d, s.v[:, i] @ d


def _sliding(s: _Sample, i: int) -> np.ndarray:
    """[T] frames where object i slides on the ramp, well inside it, moving one way (both
    neighbours too), after settling from its start."""
    out = np.zeros(s.T, bool)
    if s.ramp is None:
        return out
    pos, vel = _slope(s, i)
    half = float(np.max(s.size[i]))
    on = (pos < -half - 0.02) & (pos > -s.ramp[2] + half + 0.02) & (np.abs(vel) > 0.05) & (s.t > 0.05)
    same = np.sign(vel)
    out[1:-1] = on[1:-1] & on[:-2] & on[2:] & (same[:-2] == same[1:-1]) & (same[2:] == same[1:-1])
    return out


def ramp_acceleration(s: _Sample) -> float:
    """|fitted along-slope acceleration - g (sin theta -+ mu cos theta)| / g while sliding one way."""
    if s.ramp is None:
        return np.nan
    _, _, _, th, p = s.ramp
    mu = float(p.get("friction", 0.0))
    worst = np.nan
    for i in range(s.N):
        pos, vel = _slope(s, i)
        half = float(np.max(s.size[i]))
        on = (pos < -half - 0.02) & (s.t > 0.05)
        for sign in (1.0, -1.0):  # down (+) or up (-) the slope
            sel = on & (sign * vel > 0.05)
            if sel.sum() < 6:
                continue
            # one run only: up until it stops, or down from the start
            f = np.nonzero(sel)[0]
            f = f[: np.argmax(np.diff(np.r_[f, f[-1] + 2]) > 1) + 1]
            if len(f) < 6:
                continue
            a = np.polyfit(s.t[f], vel[f], 1)[0]
            expect = s.gn * (math.sin(th) - sign * mu * math.cos(th))
            err = abs(a - expect) / s.gn
            worst = err if np.isnan(worst) else max(worst, err)
    return worst


def double_events(s: _Sample) -> float:
    """Onsets (impulse 0) of a pair dated at most one physics step after an impact of that pair: the
    impact's own touch counted a second time (an impact is dated back from where the step saw it).
    NaN without the physics rate."""
    hz = s.rec.get("physics_hz")
    if hz is None or not len(s.ev_t):
        return np.nan if hz is None else 0.0
    step = 1.0 / float(hz) + 1e-6  # (frames are stored as float32: a few microseconds)
    hits = s.ev_j > 0
    n = 0
    for k in np.nonzero(~hits)[0]:
        same = hits & (s.ev_a == s.ev_a[k]) & (s.ev_b == s.ev_b[k])
        gap = s.ev_t[k] - s.ev_t[same]
        n += bool(np.any((gap >= -1e-6) & (gap <= step)))
    return float(n)


def quat_flips(s: _Sample) -> int:
    if s.T < 2:
        return 0
    return int((np.sum(s.q[1:] * s.q[:-1], axis=-1) < 0).sum())


def _worst(values) -> float:
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    return max(vals) if vals else np.nan


def audit(rec: dict[str, Any]) -> dict[str, float]:
    """Worst figure of every check (see the module docstring) for one stored sample."""
    s = _Sample(rec)
    bounces = floor_bounces(s)
    hits = sphere_collisions(s)
    first = [abs(b["e"] / b["e_ref"] - 1) for b in bounces
             if b["first"] and b["e_ref"] >= 0.1 and b["v_in"] >= FIRST_MIN_SPEED]
    hits = [h for h in hits if h["alone"]]  # the floor's reaction mixes into spheres colliding on it
    fast = [abs(b["e"] / b["e_ref"] - 1) for b in bounces + hits if b["v_in"] > FAST and b["e_ref"] > 0]
    elastic = [h for h in hits if h["e_ref"] >= 0.999]
    impulses = [abs(b["impulse"] / (b["mass"] * (b["v_in"] + b["v_out"])) - 1) for b in bounces + hits
                if b["v_in"] >= FIRST_MIN_SPEED and b.get("alone", True)]
    flight_mm, g_fit = flight(s)
    return {
        "penetration_mm": penetration(s),
        "restitution_first": _worst(first),
        "restitution_fast": _worst(fast),
        "elastic_energy": _worst(abs(h["energy"]) for h in elastic),
        "elastic_momentum": _worst(h["momentum"] for h in elastic),
        "flight_mm": flight_mm,
        "g_fit": g_fit,
        "velocity_mm_s": velocity(s),
        "ramp_accel_g": ramp_acceleration(s),
        "impulse": _worst(impulses),
        "quat_flips": float(quat_flips(s)),
        "double_events": double_events(s),
    }


def impulse_agreement(a: dict[str, Any], b: dict[str, Any], apart: float = 1e-3, speed: float = 0.01,
                      scale: float = 20.0) -> float:
    """Worst relative difference of the impulse between two records of the same scene (e.g. the two
    engines), over the contact events both have (same pair within 1 ms) that begin from the same
    state: at the last frame before the event, the objects in it are within ``apart`` (m) and
    ``speed`` (m/s) of each other in the two records, also in orientation and angular velocity
    (angle and angular velocity difference times the bounding radius: a tumbling body's corner
    strikes with its rotation), neither has another event in between, and each either touches
    something at that frame turning steadily or has flown freely since the frame before it
    (:func:`_steady`).

    States that agree to ``speed`` can only give impulses that agree to 10 % when the event changes
    the velocity by much more than that: events whose impulse moves the lighter object by less than
    ``scale * speed`` (0.2 m/s: a rolling or rocking body's touches at a few cm/s, whose approach
    speed is itself of the order of ``speed``) do not begin from the same state at their own
    scale, and are not compared."""
    sa, sb = _Sample(a), _Sample(b)
    worst = np.nan
    for k in range(len(sa.ev_t)):
        t, pair = sa.ev_t[k], (int(sa.ev_a[k]), int(sa.ev_b[k]))
        match = np.nonzero((sb.ev_a == pair[0]) & (sb.ev_b == pair[1]) & (np.abs(sb.ev_t - t) <= 1e-3))[0]
        if not len(match):
            continue
        kb = int(match[0])
        f = int(np.searchsorted(sa.t, min(t, sb.ev_t[kb]), side="left")) - 1  # last frame before it
        if f < 0:
            continue
        objs = [p - 1 for p in pair if p > 0]
        same = all(np.linalg.norm(sa.x[f, i] - sb.x[f, i]) <= apart and np.linalg.norm(sa.v[f, i] - sb.v[f, i]) <= speed
                   and _same_rotation(sa, sb, f, i, apart, speed) for i in objs)
        alone = all(np.count_nonzero((s.ev_t > sa.t[f]) & (s.ev_t < t + 1e-3) & ((s.ev_a == i + 1) | (s.ev_b == i + 1))) == 1
                    for s in (sa, sb) for i in objs)
        if not (same and alone and all(_steady(x, f, i, speed) for x in (sa, sb) for i in objs)):
            continue
        ja, jb = float(sa.ev_j[k]), float(sb.ev_j[kb])
        if max(abs(ja), abs(jb)) < scale * speed * min(float(sa.m[i]) for i in objs):
            continue
        if max(abs(ja), abs(jb)) > 0:
            err = abs(ja - jb) / max(abs(ja), abs(jb))
            worst = err if np.isnan(worst) else max(worst, err)
    return worst


def _steady(s: _Sample, f: int, i: int, speed: float) -> bool:
    """Object i's frame f shows how it moves on: touching something there and turning steadily
    (its angular velocity changed since frame f - 1 by at most ``speed`` at its bounding radius: a
    box sliding, a ball rolling, carried by that contact), or clear of everything and in flight since
    frame f - 1 (its velocity changed by g dt, to ``speed``).

    A body touching something while its rotation changes is pivoting, rocking or tumbling on it: each
    engine's own contact solver carries it until its next strike (a box tipping over a ramp's foot,
    a cylinder landing on one rim and then the other), and the two engines' solvers part within a
    frame. Clear at f but not in flight since f - 1, it touched something between the two frames (a
    touch no frame shows): for a while after a touch each engine treats new points of that pair by
    its own rules (held-contact thresholds 0.25 and 0.5 m/s). Either way its next strike does not
    begin from the same state even where the frames agree."""
    if f == 0:
        return True
    if s.clear[f, i] <= CLEAR:
        if s.w is None:
            return True
        r = bounding_radius(s.shape[i], s.size[i], s.verts[i])
        return float(np.linalg.norm(s.w[f, i] - s.w[f - 1, i])) * r <= speed
    dv = s.v[f, i] - s.v[f - 1, i] - s.g * (s.t[f] - s.t[f - 1])
    return s.clear[f - 1, i] > CLEAR and float(np.linalg.norm(dv)) <= speed


def _same_rotation(sa: _Sample, sb: _Sample, f: int, i: int, apart: float, speed: float) -> bool:
    """Object i's orientation and angular velocity at frame f agree in the two records to ``apart``
    and ``speed`` at its bounding radius (records without angular velocity: orientation only)."""
    r = bounding_radius(sa.shape[i], sa.size[i], sa.verts[i])
    dot = min(1.0, abs(float(np.dot(sa.q[f, i], sb.q[f, i]))))
    if 2.0 * math.acos(dot) * r > apart:
        return False
    if sa.w is None or sb.w is None:
        return True
    return float(np.linalg.norm(sa.w[f, i] - sb.w[f, i])) * r <= speed
