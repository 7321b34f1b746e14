"""Every bad render key is one clear error before any work starts (and the CLI says it in one line)."""

from __future__ import annotations

import pytest
from conftest import run_simgen

from simgen.config import load_config
from simgen.errors import ConfigError


@pytest.mark.parametrize(
    "override, expect",
    [
        ("render.backend=vulkan", "render.backend='vulkan' is not allowed; choose one of: gl, pyrender"),
        ("render.shadows=perhaps", "'perhaps' is not a valid bool"),
        ("render.msaa=3", "render.msaa=3 is not allowed; choose one of: 1, 2, 4, 8"),
        ("render.shadow_map_size=100", "render.shadow_map_size=100 is not allowed"),
        ("render.flow=maybe", "'maybe' is not a valid bool"),
        ("render.shading=raytraced", "render.shading='raytraced' is not allowed"),
        ("render.width=255", "render.width=255 is odd: H.264 video (yuv420p) needs an even width and height; use render.width=254 or 256."),
        ("render.height=101", "render.height=101 is odd: H.264 video (yuv420p) needs an even width and height; use render.height=100 or 102."),
        ("render.depth_dtype=float64", "render.depth_dtype='float64' is not allowed"),
        ("render.shadow=true", "there is no config key 'render.shadow'"),
    ],
)
def test_bad_render_key_is_one_clear_error(override, expect):
    with pytest.raises(ConfigError) as err:
        load_config([override])
    msg = str(err.value)
    assert expect in msg and override.split("=")[0] in msg and "\n" not in msg


def test_bad_render_key_on_the_command_line(tmp_path):
    out = tmp_path / "out"
    res = run_simgen("render.msaa=16", f"out={out}", check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == ["simgen: error: render.msaa=16 is not allowed; choose one of: 1, 2, 4, 8."]
    assert not out.exists()
