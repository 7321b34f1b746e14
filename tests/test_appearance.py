"""The look of a sample (simgen/appearance/): drawn from its own stream, so it never changes the
physics; the same seed gives the same look (in this process and a fresh one); every categorical kind
keeps disjoint seen/unseen halves; user environment images and their errors; floor textures tile."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from simgen.appearance.split import APPEARANCE, KINDS, file_half
from simgen.config import load_config
from simgen.errors import ConfigError
from simgen.scenes_registry import available_scenes, make_scene, scene_config

from conftest import run_simgen

FAMILIES = [f for f in available_scenes() if f != "tower"]
SHAPES = {"freefall": "scene.shapes=[sphere,box,cylinder,capsule]"}  # library meshes are physical: leave them out


def _arr(v) -> bytes:
    return np.ascontiguousarray(np.asarray(v, np.float64)).tobytes()


def physics_of(spec) -> bytes:
    """Everything an engine reads from a SceneSpec (plus the family's numeric parameters)."""
    h = hashlib.sha256()
    for o in spec.objects:
        h.update(o.shape.encode())
        for v in (o.size, o.mass, o.friction, o.restitution, o.position, o.quaternion, o.linear_velocity,
                  o.angular_velocity, o.inertia if o.inertia is not None else np.nan):
            h.update(_arr(v))
        if o.mesh is not None:
            h.update(_arr(o.mesh.vertices) + np.asarray(o.mesh.faces).tobytes())
    for st in spec.statics:
        h.update(st.kind.encode())
        for v in (st.size, st.position, st.quaternion, st.friction, st.restitution):
            h.update(_arr(v))
    for v in (spec.gravity, spec.fps, spec.frames, spec.physics_hz):
        h.update(_arr(v))
    for k in sorted(spec.params):
        if not isinstance(spec.params[k], str):  # text params are appearance words (floor_style, ramp_texture)
            h.update(k.encode() + _arr(spec.params[k]))
    return h.digest()


def look_of(spec) -> bytes:
    """Everything a renderer reads besides the physics."""
    h = hashlib.sha256()
    for o in spec.objects:
        m = o.material
        h.update(o.color_name.encode() + _arr(o.color) + m.pattern.encode() + m.name.encode())
        h.update(_arr([m.scale, m.roughness, m.specular, m.seed]) + _arr(m.color2))
    for st in spec.statics:
        h.update((st.texture.tobytes() if st.texture is not None else b"") + _arr(st.texture_scale) + _arr(st.color))
        if st.material is not None:
            h.update(st.material.name.encode() + _arr([st.material.roughness, st.material.specular]))
    for light in spec.lights:
        h.update(_arr(light.direction) + _arr(light.color) + _arr(light.intensity) + bytes([light.cast_shadows]))
    e = spec.environment
    h.update(e.kind.encode() + e.name.encode() + e.mapping.encode() + _arr(e.yaw))
    for v in (e.zenith, e.horizon, e.ground, e.ambient_sky, e.ambient_ground):
        h.update(_arr(v))
    h.update(e.image.tobytes() if e.image is not None else b"")
    h.update(spec.caption.encode() + _arr(spec.camera.cam_to_world))
    return h.digest()


def specs(family: str, n: int, *overrides: str):
    cfg = load_config([f"scene={family}", "render.frames=16", *filter(None, [SHAPES.get(family)]), *overrides])
    scfg = scene_config(cfg.scene)
    return [make_scene(cfg, i, scfg)[0] for i in range(n)]


@pytest.fixture(scope="module")
def env_dir(tmp_path_factory):
    """Eight small environment images: 2:1 panoramas and 4:3 pictures, both halves present."""
    from PIL import Image

    d = tmp_path_factory.mktemp("envs")
    gen = np.random.default_rng(0)
    for i, name in enumerate("abcdefgh"):
        w, h = (64, 32) if i % 2 == 0 else (48, 36)
        img = np.zeros((h, w, 3), np.uint8)
        img[: h // 2] = gen.integers(100, 255, size=3)  # "sky"
        img[h // 2:] = gen.integers(0, 120, size=3)  # "ground"
        Image.fromarray(img).save(d / f"{name}.png")
    halves = {file_half(p.name) for p in d.iterdir()}
    assert halves == {"seen", "unseen"}
    return d


@pytest.mark.parametrize("family", FAMILIES)
def test_look_never_changes_physics(family, env_dir, monkeypatch):
    """Same physics (bit for bit) whatever the look: another appearance half, user environment
    images, another camera setting, or a different appearance stream altogether; the look does change."""
    n = 5
    base = specs(family, n)
    physics, looks = [physics_of(s) for s in base], [look_of(s) for s in base]
    variants = [("scene.appearance=unseen",), (f"render.environment_dir={env_dir}",), ("camera.framing=fixed",)]
    if family not in ("uniform_motion", "parabola", "two_ball_collision"):
        variants.append(("camera.motion=orbit",))
    for ov in variants:
        other = specs(family, n, *ov)
        assert [physics_of(s) for s in other] == physics, ov
        if ov[0].startswith(("scene.appearance", "render.environment_dir")):
            assert sum(look_of(s) != lk for s, lk in zip(other, looks)) >= n - 1, ov

    import simgen.scenes_registry as reg

    real = reg.stream_rng
    monkeypatch.setattr(reg, "stream_rng", lambda seed, stream: real(seed + 12345, stream))
    moved = specs(family, n)
    assert [physics_of(s) for s in moved] == physics
    assert all(look_of(s) != lk for s, lk in zip(moved, looks))


def test_look_is_deterministic_within_and_across_processes():
    """Same seed, same look: twice in this process (caches warm or not) and in a fresh interpreter."""
    here = {fam: [look_of(s).hex() for s in specs(fam, 3)] for fam in FAMILIES}
    assert here == {fam: [look_of(s).hex() for s in specs(fam, 3)] for fam in FAMILIES}
    code = ("import json, sys; sys.path.insert(0, 'tests'); from test_appearance import FAMILIES, look_of, specs; "
            "print(json.dumps({f: [look_of(s).hex() for s in specs(f, 3)] for f in FAMILIES}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    import json

    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


def test_halves_are_disjoint_for_every_kind():
    for kind in KINDS:
        seen, unseen = set(APPEARANCE["seen"][kind]), set(APPEARANCE["unseen"][kind])
        assert seen and unseen and not seen & unseen, kind


def _used(spec) -> dict[str, set]:
    """The categorical appearance a spec uses, by kind of the split."""
    env = spec.environment
    used = {"colors": {o.color_name for o in spec.objects},
            "patterns": {o.material.pattern for o in spec.objects if o.material.pattern != "plain"},
            "floors": {st.material.name for st in spec.statics if st.name == "floor"},
            "textures": {st.material.name for st in spec.statics if st.name == "ramp"},
            "skies": {env.name} if env.kind == "sky" else set(),
            "backdrops": {env.name} if env.kind == "flat" else set(),
            "meshes": {o.mesh.name for o in spec.objects if o.shape == "mesh"}}
    return used


@pytest.mark.parametrize("family", FAMILIES)
def test_appearance_halves_are_respected(family):
    """With appearance=seen|unseen every kind a sample uses comes from that half; across the family's
    samples the kinds it has are all drawn (not one value)."""
    for half in ("seen", "unseen"):
        extra = ["scene.shapes=[sphere,mesh]"] if family in ("freefall", "bounce", "collide") else []
        got: dict[str, set] = {k: set() for k in KINDS}
        for spec in specs(family, 24, f"scene.appearance={half}", *extra):
            for kind, names in _used(spec).items():
                got[kind] |= names
        for kind, names in got.items():
            assert names <= set(APPEARANCE[half][kind]), (family, half, kind, names)
        assert len(got["colors"]) >= 3 and (family in ("uniform_motion", "parabola", "two_ball_collision")
                                            or len(got["patterns"]) >= 2)
        assert len(got["skies"] | got["backdrops"]) >= 2


def test_environment_images_follow_the_halves(env_dir):
    from simgen.appearance.environment import images_for

    allf = {p.stem for p in images_for(env_dir, "all")}
    seen, unseen = ({p.stem for p in images_for(env_dir, h)} for h in ("seen", "unseen"))
    assert seen | unseen == allf and not seen & unseen
    for half, names in (("seen", seen), ("unseen", unseen)):
        ss = specs("bounce", 12, f"render.environment_dir={env_dir}", f"scene.appearance={half}")
        assert all(s.environment.kind == "image" for s in ss)
        assert {s.environment.name for s in ss} <= names
        for s in ss:
            e = s.environment
            pano = e.image.shape[1] == 2 * e.image.shape[0]
            assert e.mapping == ("equirect" if pano else "screen")
            # the ambient tint follows the image: brighter from the (bright) upper half
            assert e.ambient_sky.sum() > e.ambient_ground.sum()
    side = specs("parabola", 4, f"render.environment_dir={env_dir}")
    assert all(s.environment.mapping == "screen" for s in side), "orthographic views stretch the image"


@pytest.mark.parametrize("setup, override, expect", [
    ("missing", "", "is not a folder"),
    ("empty", "", "holds no images"),
    ("corrupt", "", "cannot read image"),
    ("one_half", "scene.appearance={other}", "has no image in the {other} half"),
    (None, "camera.motion=spin", "camera.motion='spin' is not allowed"),
    (None, "camera.framing=loose", "camera.framing='loose' is not allowed"),
    (None, "camera.margin=0.7", "camera.margin=0.7 is out of range"),
    (None, "camera.pan_degrees.hi=90", "camera.pan_degrees.hi=90.0 is out of range"),
    (None, "camera.orbit_degrees={lo:30,hi:10}", "lo=30.0 is greater than hi=10.0"),
    (None, "camera.zoom=2", "there is no config key 'camera.zoom'"),
])
def test_bad_environment_and_camera_keys_are_one_line_config_errors(tmp_path, setup, override, expect):
    from PIL import Image

    ov = []
    if setup:
        d = tmp_path / "env"
        if setup != "missing":
            d.mkdir()
        if setup == "corrupt":
            Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(d / "fine.png")
            (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        if setup == "one_half":
            name = next(f"img{i}.png" for i in range(100) if file_half(f"img{i}.png") == "seen")
            Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(d / name)
            override = override.format(other="unseen")
            expect = expect.format(other="unseen")
        ov.append(f"render.environment_dir={d}")
    if override:
        ov.append(override)
    with pytest.raises(ConfigError) as err:
        load_config(["scene=bounce", *ov])
    msg = str(err.value)
    assert expect in msg and "\n" not in msg, msg


def test_motion_on_a_2d_scene_and_a_bad_image_fail_at_the_command_line(tmp_path):
    for args, expect in ((["scene=parabola", "camera.motion=orbit"], "does not apply to scene=parabola"),
                         ([f"render.environment_dir={tmp_path / 'nope'}"], "is not a folder")):
        out = tmp_path / "out"
        res = run_simgen(*args, f"out={out}", check=False)
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert res.returncode == 2 and len(lines) == 1 and expect in lines[0], res.stderr
        assert not out.exists()


def test_floor_textures_tile_and_every_kind_differs():
    """Every kind tiles without a seam: the step across the wrap (last column to first, last row to
    first) is no larger than the largest step inside the texture (pattern edges included); and every
    sample draws a different texture."""
    from simgen.appearance.floors import FLOOR_KINDS, floor_texture

    gen = np.random.default_rng(3)
    for kind in FLOOR_KINDS:
        for _ in range(4):
            a, b = floor_texture(gen, kind).astype(np.float64), floor_texture(gen, kind).astype(np.float64)
            assert a.shape == (256, 256, 3) and not np.array_equal(a, b)
            for img in (a, a.transpose(1, 0, 2)):
                inside = np.abs(np.diff(img, axis=1)).mean(axis=(0, 2)).max()
                wrap = np.abs(img[:, 0] - img[:, -1]).mean()
                assert wrap <= inside + 1.0, (kind, wrap, inside)


def test_same_look_under_both_engines():
    """The look is drawn before simulation and from no engine setting: identical for pybullet and mujoco."""
    for fam in ("freefall", "ramp_down", "two_ball_collision"):  # a floor, a ramp, a side view
        assert [look_of(s) for s in specs(fam, 3)] == [look_of(s) for s in specs(fam, 3, "engine=mujoco")], fam


def test_single_generator_helpers_still_dress_a_custom_scene():
    """Custom scenes written before ctx.look (one generator for everything) keep their helpers: a
    textured floor of a known kind, a shadow-casting key light plus a fill, distinct colours."""
    from simgen.appearance.floors import FLOOR_WORDS
    from simgen.scenes.common import default_lights, make_floor, pick_colors

    gen = np.random.default_rng(0)
    floor, word = make_floor(gen)
    assert floor.texture.shape == (256, 256, 3) and word in FLOOR_WORDS.values() and floor.material is not None
    key, fill = default_lights(gen)
    assert key.cast_shadows and not fill.cast_shadows and fill.intensity < key.intensity
    assert key.direction @ np.array([0.0, -1.0, 0.0]) < np.cos(np.radians(45)), "not straight behind the objects"
    assert len(set(pick_colors(gen, 4))) == 4


def test_rows_record_the_look_and_show_reports_it(small_dataset):
    """The look columns of written rows are the SceneSpec's (rebuilt from the config and index), and
    python -m simgen.show's summary and contact-sheet labels report them."""
    from conftest import SMALL

    from simgen.data import open_dataset
    from simgen.show import look_label, summary_text

    ds = open_dataset(str(small_dataset))
    cfg = load_config(["seed=7", *SMALL])
    for i in range(len(ds)):
        row = ds[i]
        spec, _ = make_scene(cfg, row["index"])
        key = spec.lights[0]
        assert key.cast_shadows and row["light_direction"].dtype == np.float32
        np.testing.assert_allclose(row["light_direction"], -key.direction / np.linalg.norm(key.direction), atol=1e-6)
        np.testing.assert_allclose(row["light_color"], key.color, atol=1e-6)
        assert row["light_intensity"] == pytest.approx(key.intensity, rel=1e-6)
        assert (row["environment_kind"], row["environment_name"]) == (spec.environment.kind, spec.environment.name)
        assert row["floor_kind"] == spec.statics[0].material.name and row["camera_motion"] == "static"
        assert row["object_pattern"] == [o.material.pattern for o in spec.objects]
        label = look_label(row)
        assert f"{row['floor_kind']} floor" in label and row["environment_name"] in label and "deg up" in label
    text = summary_text(ds)
    assert "look     environments" in text and "floors" in text and "camera static 6" in text


def test_a_floors_colour_is_the_mean_of_its_texture():
    """The floor's flat colour (the static's colour uniform in both renderers) is its texture's mean
    colour, exactly, in every floor kind."""
    from simgen.appearance.floors import FLOOR_KINDS, make_floor

    for i, kind in enumerate(FLOOR_KINDS * 3):
        st, got = make_floor(np.random.default_rng(i), (kind,))
        assert got == kind
        np.testing.assert_array_equal(st.color, st.texture.reshape(-1, 3).astype(np.float64).mean(axis=0) / 255.0)
