"""The export formats by name."""

from __future__ import annotations

from simgen.errors import UserError
from simgen.export.base import Format, Options


def _registry() -> dict[str, type[Format]]:
    from simgen.export.cosmos import Cosmos
    from simgen.export.diffsynth import DiffSynth
    from simgen.export.finetrainers import Finetrainers
    from simgen.export.mp4 import Mp4
    from simgen.export.musubi import Musubi
    from simgen.export.pisa import Pisa

    return {f.name: f for f in (Mp4, Cosmos, DiffSynth, Musubi, Finetrainers, Pisa)}


def format_names() -> list[str]:
    return list(_registry())


def make_format(name: str, options: Options | None = None) -> Format:
    reg = _registry()
    if name not in reg:
        raise UserError(f"--format {name!r} is not known; use one of: {', '.join(reg)}.")
    return reg[name](options or Options())


def formats_accepting(option: str) -> list[str]:
    return [n for n, f in _registry().items() if option in f.accepts]
