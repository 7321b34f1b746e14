"""Scene families shipped with simgen. Imported as ``simgen.scenes`` (see simgen/__init__.py).

FAMILIES maps each ``scene=<name>`` to the module (in this folder) that samples it.
"""

FAMILIES = {
    "freefall": "freefall",
    "bounce": "bounce",
    "collide": "collide",
    "throw_horizontal": "throw_horizontal",
    "throw_parabolic": "throw_parabolic",
    "ramp_down": "ramp_down",
    "ramp_up": "ramp_up",
    "uniform_motion": "uniform_motion",
    "parabola": "parabola",
    "two_ball_collision": "two_ball_collision",
}
