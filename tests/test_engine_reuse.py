"""An engine keeps its world between videos (PyBullet: the statics stand, the objects are removed):
what was simulated before must not change a video's trajectory by a single bit."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from simgen.config import load_config
from simgen.engines import make_engine
from simgen.scenes_registry import make_scene, scene_config

FAMILIES = ("freefall", "bounce", "two_ball_collision", "ramp_down", "collide")
PER_FAMILY = 3  # 15 specs; ramp_down's statics differ from scene to scene (the world is rebuilt)


def specs() -> list:
    out = []
    for family in FAMILIES:
        cfg = load_config([f"scene={family}", "out=/tmp/unused"])
        sc = scene_config(cfg.scene)
        out += [make_scene(cfg, i, sc)[0] for i in range(PER_FAMILY)]
    return out


def arrays(traj) -> list:
    return [traj.positions, traj.quaternions, traj.linear_velocity, traj.angular_velocity,
            np.array([(c.frame, c.body_a, c.body_b, c.impulse) for c in traj.contacts], np.float64).reshape(-1, 4)]


@pytest.mark.parametrize("name", ("pybullet", "mujoco"))
def test_trajectory_independent_of_previous_videos(name):
    scenes = specs()
    fresh = []
    for s in scenes:  # each spec in an engine of its own
        eng = make_engine(name)
        fresh.append(arrays(eng.simulate(s)))
        eng.close()
    eng = make_engine(name)
    # A, B, A: every spec after a spec of its own family (same statics: the world is kept), after
    # another family's and after itself; then the whole list backwards
    order = []
    for i in range(len(scenes)):
        order += [i, (i + 1) % len(scenes), i]
    order += list(reversed(range(len(scenes))))
    for i in order:
        got = arrays(eng.simulate(scenes[i]))
        for a, b in zip(got, fresh[i]):
            assert a.shape == b.shape and np.array_equal(a, b), f"{name}: spec {i} differs after other videos"
    eng.close()
