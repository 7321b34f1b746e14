"""Physics engines behind one interface: ``Engine.simulate(SceneSpec) -> Trajectory``.

Choose with ``engine=pybullet`` or ``engine=mujoco``. Engines never draw random numbers and never
render; they record, at every render frame time ``f / fps``, what the simulation did. Both are driven
by the same event-driven stepper (:mod:`simgen.engines.stepping`): exact free flight, impacts
resolved at their time of impact with Newton's restitution law, the engine's own contact solver for
everything else.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod

from simgen.spec import SceneSpec, Trajectory

ENGINES = {"pybullet": "simgen.engines.pybullet:PyBulletEngine", "mujoco": "simgen.engines.mujoco:MuJoCoEngine"}


class Engine(ABC):
    name: str = "?"

    def __init__(self, physics_hz: float = 240.0, solver_iterations: int = 50, contact_gap_steps: int = 10,
                 contact_erp: float = 0.2, restitution_threshold: float = 0.2, **_):
        self.physics_hz = float(physics_hz)
        self.solver_iterations = int(solver_iterations)
        self.contact_gap_steps = int(contact_gap_steps)
        self.contact_erp = float(contact_erp)
        self.restitution_threshold = float(restitution_threshold)

    @abstractmethod
    def simulate(self, spec: SceneSpec) -> Trajectory:
        """Run the scene for ``spec.frames`` frames at ``spec.fps`` (physics at ``spec.physics_hz``)."""

    def steps_per_frame(self, spec: SceneSpec) -> int:
        ratio = spec.physics_hz / spec.fps
        k = int(round(ratio))
        if k < 1 or abs(ratio - k) > 1e-9:
            raise ValueError(f"physics_hz={spec.physics_hz} is not a whole multiple of fps={spec.fps}")
        return k

    def close(self) -> None:
        pass


def make_engine(name: str, **kwargs) -> Engine:
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {sorted(ENGINES)}")
    mod, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(mod), cls)(**kwargs)
