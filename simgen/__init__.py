"""simgen: synthetic physics videos with exact ground truth."""

from __future__ import annotations

import importlib.util
import sys

__version__ = "0.1.0"
SCHEMA_VERSION = 2  # 2: flow, object_vertices, the look columns, per-frame cam_to_world


def _register_scenes_package() -> None:
    """Make the scene families importable as ``simgen.scenes`` in both layouts.

    A wheel ships them as the real subpackage ``simgen/scenes``; in the source tree they live in
    the top-level ``scenes/`` folder, which is loaded here under the same name so that pickles and
    worker processes refer to one module path either way."""
    if "simgen.scenes" in sys.modules:
        return
    from simgen.paths import scenes_dir

    path = scenes_dir()
    spec = importlib.util.spec_from_file_location(
        "simgen.scenes", path / "__init__.py", submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["simgen.scenes"] = module
    spec.loader.exec_module(module)


_register_scenes_package()
