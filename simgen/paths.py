"""Where the shipped resources live.

In the source tree ``conf/``, ``scenes/`` and ``assets/`` sit beside the ``simgen/`` package (the
layout of the design card). A wheel installs them inside the package as ``simgen/conf``,
``simgen/scenes`` and ``simgen/assets`` (see ``[tool.setuptools]`` in pyproject.toml), so an installed
``python -m simgen`` finds them from any directory. These helpers return whichever exists.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _resource(name: str) -> Path:
    for cand in (_PKG / name, _PKG.parent / name):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(
        f"simgen cannot find its '{name}' folder (looked in {_PKG / name} and {_PKG.parent / name}); "
        "reinstall simgen with 'pip install .'"
    )


def conf_dir() -> Path:
    return _resource("conf")


def scenes_dir() -> Path:
    return _resource("scenes")


def assets_dir() -> Path:
    return _resource("assets")
