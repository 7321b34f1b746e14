"""Physics verifier: physical quantities fitted to a predicted 2-D track, in metres, beside the same fit
on the GT masks and the true value.

**Lifting to metres.** A track point (mask centroid, pixels) is a ray of the known camera (the row's
``intrinsics`` and ``cam_to_world`` of the paired GT frame; perspective or orthographic). It is cut with
the GT's **plane of motion** for the quantity: the plane through the GT centre-of-mass positions of the
fitted frames; when those lie on a line (a vertical drop, a slide), the plane through that line that
faces the camera; when they do not move, the plane through them facing the camera. A ray within ~6 deg
of the plane (|cos| < 0.1) gives no point. The same lifting is applied to the GT masks' track, so
``*_fit_gt`` shows what the method itself measures on perfect footage.

Only frames in which the GT object is at least 95 % visible (``visible_fraction``) are fitted: a mask cut
by the image border or by another object has its centroid off the object's centre.

Quantities (per object, NaN where the family or the object makes it uncheckable):

- ``g_fit`` (m/s^2): ``h(t) = h0 + v0 t - g t^2 / 2`` fitted by least squares to the lifted height
  (along -gravity; +z when gravity is zero) over the frames in which the GT object is in **free flight**:
  before its first contact (``first_contact_frame``), at least 4 paired frames. The window is the GT's:
  a prediction that stops falling while the GT still falls gets a wrong g. ``g_true`` = |gravity|.
- ``restitution_fit``: spheres whose first contact is with static geometry (the floor): on the lifted
  height, the first local minimum in the lower half of the fall is the impact, the highest point before
  it the drop apex (it must be seen: between two tracked frames, or the first frame when the GT object
  starts at rest) and the highest point between it and the next impact the rebound apex (not the track's
  last point); ``e = sqrt((apex - h_c) / (drop - h_c))`` with ``h_c`` the centre height at the GT contact
  (contact point + radius). Sampled apexes are low by at most ``g (dt / 2)^2 / 2`` (5 mm at 16 fps).
  ``restitution_true`` = the object's simulated ``restitution`` (the floor's is 1; both engines multiply).
- ``slide_accel_fit`` (m/s^2, down-slope positive): ``ramp_down`` / ``ramp_up`` only: ``s(t)`` along the
  ramp's down-slope direction (from ``params.ramp_angle``) fitted with a quadratic over the frames in which
  the GT box is on the ramp and moving one way (down: until it reaches the ramp's foot; up: until it
  stops). ``slide_accel_true`` = ``g (sin t - mu cos t)`` sliding down, ``g (sin t + mu cos t)`` sliding up.
"""

from __future__ import annotations

import math

import numpy as np

VERIFIER_METRICS = ("g_fit", "g_fit_gt", "g_true", "restitution_fit", "restitution_fit_gt", "restitution_true",
                    "slide_accel_fit", "slide_accel_fit_gt", "slide_accel_true")
MIN_POINTS = 4
MOVING = 0.01  # m/s: slower is at rest (ramp windows)
VISIBLE = 0.95  # frames where the GT object shows less of itself (occluded, leaving the image) are not fitted
GRAZING = 0.1


def rays(uv: np.ndarray, K: np.ndarray, c2w: np.ndarray, projection: str) -> tuple[np.ndarray, np.ndarray]:
    """World origins and unit directions [M, 3] of pixel points uv [M, 2] seen with poses c2w [M, 4, 4]."""
    x = (uv[:, 0] - K[0, 2]) / K[0, 0]
    y = (uv[:, 1] - K[1, 2]) / K[1, 1]
    R, t = c2w[:, :3, :3], c2w[:, :3, 3]
    if projection == "orthographic":
        o_cam = np.stack([x, y, np.zeros_like(x)], -1)
        return np.einsum("mij,mj->mi", R, o_cam) + t, R[:, :, 2]
    d = np.einsum("mij,mj->mi", R, np.stack([x, y, np.ones_like(x)], -1))
    return t, d / np.linalg.norm(d, axis=-1, keepdims=True)


def motion_plane(points: np.ndarray, view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, unit normal) of the plane of motion of GT positions [M, 3]; ``view`` is the camera's
    viewing direction towards them."""
    q = points.mean(axis=0)
    view = view / np.linalg.norm(view)
    if len(points) >= 3:
        _, s, vt = np.linalg.svd(points - q, full_matrices=False)
        s = s / math.sqrt(len(points))
        if len(s) >= 2 and s[1] > 0.01 and s[1] > 0.02 * s[0]:
            return q, vt[2]
        if s[0] > 0.005:
            d = vt[0]
            n = view - (view @ d) * d
            if np.linalg.norm(n) > 1e-6:
                return q, n / np.linalg.norm(n)
    return q, view


def lift(uv: np.ndarray, K, c2w, projection: str, q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Cut the rays of pixel points uv [M, 2] with the plane (q, n): world points [M, 3], NaN where the
    point is missing or the ray grazes the plane."""
    o, d = rays(uv, K, c2w, projection)
    dn = d @ n
    with np.errstate(invalid="ignore", divide="ignore"):
        s = ((q - o) @ n) / dn
    X = o + s[:, None] * d
    X[~np.isfinite(uv).all(axis=1) | (np.abs(dn) < GRAZING)] = np.nan
    return X


def quadratic_fit(t: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Least-squares ``y = c0 + c1 t + c2 t^2`` over finite points; None with fewer than MIN_POINTS."""
    ok = np.isfinite(y) & np.isfinite(t)
    if ok.sum() < MIN_POINTS:
        return None
    return np.polynomial.polynomial.polyfit(t[ok], y[ok], 2)


def _view_dir(c2w: np.ndarray, at: np.ndarray, projection: str) -> np.ndarray:
    return c2w[:3, 2] if projection == "orthographic" else at - c2w[:3, 3]


def _impact(h: np.ndarray, start: int, h_c: float) -> int | None:
    """First local minimum of h at or after ``start`` that lies in the lower half between the highest
    point since ``start`` and the contact height (a bounce, not tracking noise near an apex)."""
    for j in range(max(start, 1), len(h) - 1):
        top = h[start : j + 1].max()
        if h[j] < h[j - 1] and h[j] <= h[j + 1] and h[j] - h_c < 0.5 * (top - h_c):
            return j
    return None


class Verifier:
    """Fits for one GT sample; :meth:`measure` applies them to a track (GT or predicted)."""

    def __init__(self, row: dict, gt_idx: np.ndarray):
        self.row = row
        self.gt_idx = np.asarray(gt_idx)
        self.K = np.asarray(row["intrinsics"], np.float64).reshape(3, 3)
        self.c2w = np.asarray(row["cam_to_world"], np.float64).reshape(-1, 4, 4)[self.gt_idx]
        self.proj = str(row.get("projection") or "perspective")
        g = np.asarray(row["gravity"], np.float64)
        self.g_true = float(np.linalg.norm(g))
        self.up = -g / self.g_true if self.g_true > 0 else np.array([0.0, 0.0, 1.0])
        self.pos = np.asarray(row["positions"], np.float64)  # [T, N, 3]
        vel = row.get("linear_velocity")
        self.vel = np.asarray(vel, np.float64) if vel is not None else np.zeros_like(self.pos)
        self.N = self.pos.shape[1]
        self.fps = float(row["fps"])
        self.shapes = list(row.get("object_shape") or [""] * self.N)
        self.fcf = np.asarray(row["first_contact_frame"], np.float64)
        self.contacts = row.get("contacts") or {}
        self.sizes = row.get("object_size")

    # -- windows, as paired-frame masks [K] ---------------------------------------------------------
    def visible(self, k: int) -> np.ndarray:
        """Paired frames in which the GT object is (nearly) wholly visible: a truncated mask moves its
        centroid off the object's centre."""
        vf = self.row.get("visible_fraction")
        if vf is None:
            return np.ones(len(self.gt_idx), bool)
        v = np.asarray(vf, np.float64)[self.gt_idx, k]
        return ~(v < VISIBLE)  # NaN (not measured) counts as visible

    def flight(self, k: int) -> np.ndarray:
        f = self.fcf[k]
        return np.ones(len(self.gt_idx), bool) if not np.isfinite(f) else self.gt_idx < f

    def _plane(self, k: int, sel: np.ndarray):
        pts = self.pos[self.gt_idx[sel], k]
        i = int(np.nonzero(sel)[0][0])
        return motion_plane(pts, _view_dir(self.c2w[i], pts.mean(axis=0), self.proj))

    def _lift(self, uv: np.ndarray, k: int, sel: np.ndarray) -> np.ndarray:
        q, n = self._plane(k, sel)
        X = np.full((len(uv), 3), np.nan)
        X[sel] = lift(uv[sel], self.K, self.c2w[sel], self.proj, q, n)
        return X

    # -- quantities ----------------------------------------------------------------------------------
    def g_fit(self, uv: np.ndarray, t: np.ndarray, k: int) -> float:
        sel = self.flight(k) & self.visible(k)
        if sel.sum() < MIN_POINTS:
            return float("nan")
        h = self._lift(uv, k, sel) @ self.up
        c = quadratic_fit(t[sel], h[sel])
        return float("nan") if c is None else float(-2.0 * c[2])

    def _first_static_contact(self, k: int) -> tuple[float, np.ndarray | None]:
        """(frame, contact point) of object k's first contact if it is with static geometry, else NaN."""
        c = self.contacts
        if not len(c.get("frame", [])):
            return float("nan"), None
        pos = c.get("position")
        for i in np.argsort(c["frame"], kind="stable"):
            a, b = int(c["body_a"][i]), int(c["body_b"][i])
            if k + 1 in (a, b):
                other = b if a == k + 1 else a
                if other >= 0:
                    return float("nan"), None
                return float(c["frame"][i]), (None if pos is None else np.asarray(pos[i], np.float64))
        return float("nan"), None

    def restitution(self, uv: np.ndarray, t: np.ndarray, k: int) -> float:
        f1, point = self._first_static_contact(k)
        if self.shapes[k] != "sphere" or not np.isfinite(f1):
            return float("nan")
        if point is not None and self.sizes is not None:  # centre height at contact: point + radius
            h_c = float(point @ self.up) + float(np.asarray(self.sizes[k]).ravel()[0])
        else:
            h_c = float((self.pos[:, k] @ self.up).min())
        # the plane of the whole clip (the bounce is in it too)
        h = self._lift(uv, k, np.ones(len(uv), bool)) @ self.up
        h[~self.visible(k)] = np.nan
        ok = np.isfinite(h)
        idx = np.nonzero(ok)[0]
        if len(idx) < 5:
            return float("nan")
        hv = h[idx]
        m1 = _impact(hv, 0, h_c)
        if m1 is None:
            return float("nan")
        j = int(np.argmax(hv[: m1 + 1]))  # drop apex: seen inside the track, or the release at rest
        at_rest = idx[j] == 0 and abs(float(self.vel[self.gt_idx[0], k] @ self.up)) < MOVING
        if not (at_rest or (0 < j and idx[j - 1] == idx[j] - 1 and idx[j + 1] == idx[j] + 1)):
            return float("nan")
        drop = hv[j]
        m2 = _impact(hv, m1 + 1, h_c)
        seg = hv[m1 + 1 : (m2 if m2 is not None else len(hv))]
        if len(seg) < 2:
            return float("nan")
        a = int(np.argmax(seg))
        if a == len(seg) - 1 and m2 is None:  # still rising when the track ends
            return float("nan")
        apex = seg[a]
        if drop - h_c <= 0.02 or apex <= h_c:
            return float("nan")
        return float(math.sqrt((apex - h_c) / (drop - h_c)))

    def slide_window(self, k: int) -> np.ndarray:
        scene = str(self.row.get("scene", ""))
        theta = math.radians(float(self.row["params"]["ramp_angle"]))
        d = np.array([math.cos(theta), 0.0, -math.sin(theta)])
        s = self.pos[:, k] @ d
        v = np.asarray(self.row["linear_velocity"], np.float64)[:, k] @ d
        if scene == "ramp_down":
            size = float(np.max(np.asarray(self.row["object_size"][k])))
            on = (s < -size) & (v > MOVING)
        else:
            on = v < -MOVING
            first_stop = np.nonzero(~on)[0]
            if len(first_stop):
                on[first_stop[0]:] = False
        return on[self.gt_idx]

    def slide_true(self, k: int) -> float:
        theta = math.radians(float(self.row["params"]["ramp_angle"]))
        mu = float(np.asarray(self.row["friction"])[k])
        sign = -1.0 if str(self.row.get("scene")) == "ramp_down" else 1.0
        return self.g_true * (math.sin(theta) + sign * mu * math.cos(theta))

    def slide_accel(self, uv: np.ndarray, t: np.ndarray, k: int) -> float:
        sel = self.slide_window(k) & self.visible(k)
        if sel.sum() < MIN_POINTS:
            return float("nan")
        theta = math.radians(float(self.row["params"]["ramp_angle"]))
        d = np.array([math.cos(theta), 0.0, -math.sin(theta)])
        s = self._lift(uv, k, sel) @ d
        c = quadratic_fit(t[sel], s[sel])
        return float("nan") if c is None else float(2.0 * c[2])

    def is_ramp(self) -> bool:
        return str(self.row.get("scene")) in ("ramp_down", "ramp_up") and "ramp_angle" in (self.row.get("params") or {})


def verify(row: dict, gt_idx: np.ndarray, t_gt: np.ndarray, t_pd: np.ndarray, c_gt: np.ndarray,
           c_pd: np.ndarray) -> dict[str, np.ndarray]:
    """Per-object verifier values [N] for paired tracks c_gt, c_pd [K, N, 2] at times t_gt, t_pd [K]."""
    v = Verifier(row, gt_idx)
    N = v.N
    out = {k: np.full(N, np.nan) for k in VERIFIER_METRICS}
    for k in range(N):
        out["g_fit"][k] = v.g_fit(c_pd[:, k], t_pd, k)
        out["g_fit_gt"][k] = v.g_fit(c_gt[:, k], t_gt, k)
        if np.isfinite(out["g_fit_gt"][k]) or np.isfinite(out["g_fit"][k]):
            out["g_true"][k] = v.g_true
        r_pd, r_gt = v.restitution(c_pd[:, k], t_pd, k), v.restitution(c_gt[:, k], t_gt, k)
        out["restitution_fit"][k], out["restitution_fit_gt"][k] = r_pd, r_gt
        if np.isfinite(r_gt) or np.isfinite(r_pd):
            out["restitution_true"][k] = float(np.asarray(row["restitution"])[k])
        if v.is_ramp():
            out["slide_accel_fit"][k] = v.slide_accel(c_pd[:, k], t_pd, k)
            out["slide_accel_fit_gt"][k] = v.slide_accel(c_gt[:, k], t_gt, k)
            out["slide_accel_true"][k] = v.slide_true(k)
    return out
