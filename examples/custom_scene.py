"""A scene family of your own: a ball thrown at a stack of boxes ("tower").

A family is a module with a ``Config`` dataclass (its schema) and ``sample(cfg, rng, ctx) ->
SceneSpec``; its defaults live in ``<conf_dir>/scene/<name>.yaml``. Physics (sizes, masses, poses,
velocities) is drawn from ``rng``; the look (colours, patterns, floor, lights, sky) from ``ctx.look``,
the sample's appearance stream, so changing the look never changes the physics. After simulation the
camera is framed to the trajectory (``camera.framing=auto``); the sampler's camera gives the view
direction. Register it, then use
``scene=<name>`` like a built-in family (the local and Ray runners pass the registration on to their
workers, which import the module by name, so it must be importable there: here the examples/ folder
is on sys.path because this script lives in it).

    python examples/custom_scene.py datasets/tower --n 8
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np

from simgen.config import Range, bounded
from simgen.scenes.common import floor_phrase, make_object, orbit_camera
from simgen.spec import SceneSpec


@dataclass
class Config:
    name: str = "tower"
    boxes: Range = bounded(Range(2, 4), ge=1, doc="boxes in the stack")
    box_size: float = bounded(0.1, gt=0, le=1, doc="half extent of a box, m")
    ball_speed: Range = bounded(Range(2.0, 4.0, ood_lo=1.0, ood_hi=5.0), gt=0, doc="m/s towards the tower")
    ball_radius: float = bounded(0.08, gt=0, le=1, doc="m")


def sample(cfg: Config, rng: np.random.Generator, ctx) -> SceneSpec:
    k = int(round(cfg.boxes.sample(rng)))
    colors = ctx.look.colors(k + 1)
    floor, floor_kind = ctx.look.floor()
    objects = []
    h = cfg.box_size
    for i in range(k):  # a stack of cubes, resting exactly on each other
        box = make_object(rng, "box", h, 0.6, 0.1, colors[i], density=500.0)
        box.size = np.full(3, h)
        from simgen.shapes import principal_inertia

        box.mass = 500.0 * 8 * h**3
        box.inertia = principal_inertia("box", box.size, box.mass)
        box.position = np.array([0.0, 0.0, h + 2 * h * i])
        objects.append(box)
    speed = cfg.ball_speed.sample(rng, ctx.split)
    ball = make_object(rng, "sphere", cfg.ball_radius, 0.5, 0.5, colors[k], density=2000.0)
    ball.position = np.array([-1.0, 0.0, h * k])
    # aim at the top half of the tower, compensating the drop over the flight time
    t = 1.0 / speed
    ball.linear_velocity = np.array([speed, 0.0, 0.5 * 9.81 * t])
    objects.append(ball)
    ctx.look.dress(objects)  # patterned materials
    camera = orbit_camera(rng, ctx.width, ctx.height, np.array([-0.3, 0.0, 0.4]), Range(2.6, 3.0),
                          Range(10.0, 20.0), Range(-10.0, 10.0), 45.0)
    environment, lights = ctx.look.stage(camera, ground=floor.color)  # sky or backdrop, key and fill lights
    return SceneSpec(
        family="tower", objects=objects, statics=[floor], camera=camera, lights=lights, environment=environment,
        gravity=np.array([0.0, 0.0, -9.81]), fps=ctx.fps, frames=ctx.frames, physics_hz=ctx.physics_hz,
        params={"boxes": k, "ball_speed": speed}, caption=f"A {colors[k]} ball is thrown at a tower of {k} boxes "
        f"on {floor_phrase(floor_kind)} at {speed:.1f} m/s.", tags=["projectile motion", "collision", "friction"],
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=8)
    args, overrides = ap.parse_known_args(argv)  # the rest: simgen key=value overrides
    from simgen.cli import main as simgen_main
    from simgen.scenes_registry import register

    register("tower", "custom_scene", conf_dir=os.path.join(os.path.dirname(os.path.abspath(__file__)), "custom_conf"))
    return simgen_main(["scene=tower", f"n={args.n}", f"out={args.out}", *overrides])


if __name__ == "__main__":
    sys.exit(main())
