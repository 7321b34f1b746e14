"""Turns what the stepper sees into contact events.

An event is either an **impact** (a pair that met approaching, resolved at its time of impact by the
stepper; ``impulse`` is the whole normal impulse of that impact, N s) or the **onset** of a contact
without one: a pair touching after having been apart for more than ``gap_steps`` physics steps that
did not approach measurably (``impulse`` 0). Points of a pair that strike together (a box landing
flat) are one impact, one event. So a bounce is one event, a resting contact is one event, and
solver jitter is not a stream of events.
Body ids: objects 1..N (as in masks), static geometry -1, -2, ...
"""

from __future__ import annotations

import numpy as np

from simgen.spec import ContactEvent

MERGE = 3e-4  # s: an onset seen this close to an impact of the same pair is that impact


class ContactTracker:
    def __init__(self, fps: float, physics_hz: float, gap_steps: int = 2):
        self.fps = float(fps)
        self.gap = max(1, int(gap_steps)) / float(physics_hz)
        self.merge = MERGE
        self.last_seen: dict[tuple[int, int], float] = {}
        self.last_event: dict[tuple[int, int], tuple[float, int]] = {}
        self.events: list[ContactEvent] = []

    def _new(self, t: float, pair, pos, normal, impulse: float) -> None:
        self.last_event[pair] = (t, len(self.events))
        self.events.append(ContactEvent(frame=float(t * self.fps), body_a=pair[0], body_b=pair[1],
                                        position=np.asarray(pos, np.float32), normal=np.asarray(normal, np.float32),
                                        impulse=float(impulse)))

    def touch(self, t: float, touching: dict) -> None:
        """Pairs touching at time ``t`` (s): ``pair -> (impulse of the step, position, normal b->a)``;
        a new one is an onset (impulse 0 until an impact of it is resolved)."""
        for pair, (impulse, pos, normal) in touching.items():
            last = self.last_seen.get(pair)
            if last is None or t - last > self.gap * (1 + 1e-9):
                self._new(t, pair, pos, normal, 0.0)  # an impact of this touch replaces it (impact())
            self.last_seen[pair] = t

    def keep(self, t: float, pairs) -> None:
        """``pairs`` stayed in contact until ``t`` (steps taken without contact queries)."""
        for pair in pairs:
            self.last_seen[pair] = t

    def impact(self, t: float, pair, pos, normal, impulse: float, seen: float | None = None) -> None:
        """An impact of ``pair`` at time ``t`` with normal impulse ``impulse`` (N s). ``seen``: when
        the stepper saw it (the end of the piece of a step in which it found the penetration; the
        impact is dated back to the touch, up to that piece's length earlier)."""
        ev = self.last_event.get(pair)
        tol = self.merge * (1 + 1e-9)
        if (ev is not None and t - tol <= ev[0] <= max(t, seen if seen is not None else t) + tol
                and self.events[ev[1]].impulse == 0.0):
            # the onset this impact began (seen by the piece that found the impact, at its end: a slow
            # impact is dated back from there by depth / approach speed, up to ~2 ms): it is the impact
            event = self.events[ev[1]]
            event.frame, event.position, event.normal = float(t * self.fps), np.asarray(pos, np.float32), np.asarray(normal, np.float32)
            event.impulse = float(impulse)
            self.last_event[pair] = (t, ev[1])
        else:
            self._new(t, pair, pos, normal, impulse)
        self.last_seen[pair] = t
