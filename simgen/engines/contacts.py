"""Turns per-step contact points into contact onset events.

Engines report, each physics step, the touching pairs with a point, a normal and a normal impulse.
An *onset* is a step where a pair touches after having been apart for at least ``gap_steps`` steps
(so one bounce is one event, a resting contact is one event, and solver jitter is not a stream of
events). Body ids: objects 1..N (as in masks), static geometry -1, -2, ...
"""

from __future__ import annotations

import numpy as np

from simgen.spec import ContactEvent


class ContactTracker:
    def __init__(self, fps: float, physics_hz: float, gap_steps: int = 2):
        self.fps = fps
        self.dt = 1.0 / physics_hz
        self.gap_steps = max(1, int(gap_steps))
        self.last_seen: dict[tuple[int, int], int] = {}
        self.events: list[ContactEvent] = []

    def update(self, step: int, touching: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, float]]) -> None:
        """``step`` is the number of steps taken so far (the state after it); ``touching`` maps an
        ordered pair (a > b, objects before statics) to (position, normal from b to a, impulse)."""
        for pair, (pos, normal, impulse) in touching.items():
            last = self.last_seen.get(pair)
            if last is None or step - last > self.gap_steps:
                self.events.append(
                    ContactEvent(
                        frame=float(step * self.dt * self.fps),
                        body_a=pair[0],
                        body_b=pair[1],
                        position=np.asarray(pos, dtype=np.float32),
                        normal=np.asarray(normal, dtype=np.float32),
                        impulse=float(impulse),
                    )
                )
            self.last_seen[pair] = step


def ordered(a: int, b: int) -> tuple[tuple[int, int], float]:
    """Order a pair so that the larger id comes first (objects before statics); returns the
    pair and the sign to apply to a normal given as pointing from b to a."""
    return ((a, b), 1.0) if a > b else ((b, a), -1.0)
