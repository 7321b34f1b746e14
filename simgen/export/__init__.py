"""``python -m simgen.export``: hand a simgen dataset to the fine-tuning and evaluation tools people use.

Formats (one module each): ``mp4``, ``cosmos``, ``diffsynth``, ``musubi``, ``finetrainers``, ``pisa``.
Library use::

    from simgen.export import export, Options
    export(["datasets/freefall"], "musubi", "exports/musubi", options=Options(frames="4k+1"))
"""

from simgen.export.base import Options
from simgen.export.run import Result, export

__all__ = ["export", "Options", "Result"]
