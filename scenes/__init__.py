"""Scene families shipped with simgen. Imported as ``simgen.scenes`` (see simgen/__init__.py).

FAMILIES maps each ``scene=<name>`` to the module (in this folder) that samples it.
"""

FAMILIES = {
    "freefall": "freefall",
}
