"""``python -m simgen [key=value ...]``: generate a dataset.

Overrides use Hydra's syntax: ``scene=bounce n=500 out=datasets/bounce render.fps=24 engine=mujoco``.
``python -m simgen --help`` lists the keys; ``--cfg`` prints the resolved config without running.
"""

from __future__ import annotations

import os
import sys

from simgen.errors import Stopped, UserError

HELP = """usage: python -m simgen [key=value ...] [--cfg] [--help]

Generate synthetic physics videos with exact ground truth into Parquet shards.

Common keys (defaults in brackets):
  scene=NAME           scene family [freefall]; one of: {scenes}
  engine=NAME          physics engine: pybullet | mujoco [pybullet]
  n=INT                number of videos [100]
  seed=INT             run seed; sample i depends only on (seed, i, config) [0]
  out=PATH             output folder or URI (file://, s3://, gs://) [datasets/<scene>]
  shard_size=INT       videos per Parquet file; 0 = auto: ceil(n/64), at most 100 [0]
  workers=INT          worker processes, 0 = all cores [0]
  runner=NAME          local | ray [local]
  runner.max_failures=INT  shards allowed to fail while the rest finish; 0 stops at the first [0]
  split=id|ood         in- or out-of-distribution parameter bands [id]
  sampler=random|grid  random draws or an exhaustive parameter grid [random]
  overwrite=BOOL       replace a folder written with another config [false]
  render.width/height/fps/frames   video size and timing [256/256/16/32]
  render.masks/depth   write masks / depth [true/true]
  engine.physics_hz    physics steps per second, a multiple of render.fps [240]
  render.environment_dir=PATH  folder of backdrop images [procedural skies and backdrops]
  camera.framing=auto|fixed     frame the camera after simulation, or keep the sampler's [auto]
  camera.motion=static|orbit|dolly|pan   camera motion over the clip [static]
  scene.appearance=all|seen|unseen       held-out colours, patterns, floors, skies [all]
  scene.<param>        scene parameters, e.g. scene.max_objects=2 scene.height.hi=2.0

  --cfg                print the resolved configuration and exit
  --help               this message

Ctrl-C or SIGTERM stops a job in seconds (exit 130/143); rerunning the same command resumes it.
python -m simgen.repair OUT   rebuilds OUT/_simgen.json from the shards (checks each one)

Examples:
  python -m simgen scene=freefall n=200 out=datasets/demo
  python -m simgen scene=freefall n=60000 workers=0 engine=mujoco
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    try:
        if "-h" in argv or "--help" in argv:
            from simgen.scenes_registry import available_scenes

            print(HELP.format(scenes=", ".join(available_scenes())))
            return 0
        show_cfg = "--cfg" in argv
        argv = [a for a in argv if a != "--cfg"]
        bad = [a for a in argv if "=" not in a]
        if bad:
            raise UserError(f"Unexpected argument {bad[0]!r}: arguments are key=value overrides (see --help).")
        from simgen.config import load_config

        cfg = load_config(argv)
        if show_cfg:
            from omegaconf import OmegaConf

            print(OmegaConf.to_yaml(cfg))
            return 0
        from simgen.job import run

        run(cfg)
        return 0
    except UserError as exc:
        print(f"simgen: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Stopped as exc:
        print(f"simgen: {exc.message or 'stopped; finished shards are kept, rerun the same command to resume.'}",
              file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("simgen: interrupted; finished shards are kept, rerun the same command to resume.", file=sys.stderr)
        return 130
