"""The stepper's broad-phase bounds against brute force: a bound that lets a batch run past an
impact loses that impact (the engine's contact then takes it without restitution)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from simgen.engines.stepping import _strike_time


def first_strike(h: float, come: float, speed: float, phases, kick: float) -> float:
    """When a point ``h`` above a plane, approaching at ``come``, driven by piecewise-constant
    accelerations ``phases`` [(towards the plane, duration)], first arrives at the plane approaching
    at ``speed`` or faster; exact (constant acceleration in each piece). An arrival slower than that is
    held there (the plane takes the point's approach, lets it go at ``kick`` away when the
    acceleration pulls it off)."""
    t, y, u = 0.0, h, come  # time, height, approach speed (dy/dt = -u, du/dt = a)
    for a, d in phases:
        left = d
        while left > 1e-15:
            if y <= 0.0 and u >= 0.0 and a >= 0.0:  # pressed onto the plane: it stays there
                t, u = t + left, 0.0
                break
            roots = []  # y - u s - a s^2 / 2 = 0
            if a == 0.0:
                roots = [y / u] if u > 0.0 else []
            elif u * u + 2.0 * a * y >= 0.0:
                q = math.sqrt(u * u + 2.0 * a * y)
                roots = [(-u - q) / a, (-u + q) / a]
            s = min((r for r in roots if r > 1e-13), default=math.inf)
            if s > left:
                y, u, t = y - u * left - 0.5 * a * left * left, u + a * left, t + left
                break
            t, left = t + s, left - s
            if u + a * s >= speed:
                return t
            y, u = 0.0, -kick
    return math.inf


def brute_force(h: float, come: float, speed: float, acc: float, horizon: float, rng) -> float:
    """The earliest strike over bang-bang controls (three pieces of +-acc on a grid of switch times,
    then full acceleration towards the plane) and random piecewise-constant ones, with the plane
    letting go of a held point at rest or thrown off."""
    grid = np.linspace(0.0, horizon, 25).tolist()
    best = math.inf
    for signs in itertools.product((-acc, acc), repeat=2):
        for d0, d1 in itertools.product(grid, repeat=2):
            for kick in (0.0, 0.5 * speed):
                phases = [(signs[0], d0), (signs[1], d1), (acc, 4.0 * horizon)]
                best = min(best, first_strike(h, come, speed, phases, kick))
    for _ in range(200):
        phases = [(rng.uniform(-acc, acc), rng.uniform(0.0, horizon / 3)) for _ in range(5)] + [(acc, 4.0 * horizon)]
        best = min(best, first_strike(h, come, speed, phases, rng.uniform(0.0, speed)))
    return best


def test_strike_time_is_a_lower_bound_and_tight_where_the_point_can_rise_first():
    rng = np.random.default_rng(7)
    rises = 0
    for _ in range(40):
        acc, speed = rng.uniform(5.0, 25.0), rng.uniform(0.05, 0.3)
        come = rng.choice([rng.uniform(-speed, 0.0), rng.uniform(0.0, 0.5 * speed), 0.0])
        # heights from which falling at full acceleration arrives too slow (the point must rise), or any
        h = rng.choice([rng.uniform(0.0, (speed * speed - come * come) / (2 * acc)), rng.uniform(0.0, 0.02)])
        bound = _strike_time(h, come, speed, acc)
        found = brute_force(h, come, speed, acc, 2.0 * bound, rng)
        assert found >= bound * (1 - 1e-9), (h, come, speed, acc, bound, found)
        # the old bound, max(time to reach, time to get fast), never exceeds the new one
        reach = (math.sqrt(come * come + 2 * acc * h) - come) / acc
        assert bound >= max(reach, (speed - come) / acc) * (1 - 1e-12)
        # where the point can stop short of the plane and rise (come <= 0 here), the rise-then-fall
        # path reaches the bound: it is no more careful than it must be
        if come <= 0.0 and come * come + 2 * acc * h < speed * speed:
            s = (speed - come) / acc
            t1 = (bound - s) / 2.0
            if bound < reach + speed / acc:  # (else: a slow touch and a return are the bound)
                rises += 1
                hit = first_strike(h, come, speed * (1 - 1e-9), [(-acc, t1), (acc, t1 + s + 1e-9)], 0.0)
                assert hit == pytest.approx(bound, rel=1e-6)
    assert rises >= 5  # the case the new bound is for was drawn


def test_strike_time_of_a_resting_point_is_about_twice_the_old_bound():
    acc, speed, h = 10.8, 0.125, 5e-4  # a corner 0.5 mm above the floor, g + 1 m/s^2, half of 0.25 m/s
    old = max(math.sqrt(2 * h / acc), speed / acc)
    new = _strike_time(h, 0.0, speed, acc)
    assert 1.7 * old < new < 2.0 * old
    # falling at full acceleration arrives fast enough: the direct fall is the answer
    assert _strike_time(0.01, 0.0, speed, acc) == pytest.approx(math.sqrt(2 * 0.01 / acc))
    assert _strike_time(0.0, speed, speed, acc) == 0.0
