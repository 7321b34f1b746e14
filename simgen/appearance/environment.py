"""What the camera sees behind the scene, and the ambient light: flat backdrops, procedural skies
(a gradient from the horizon to the zenith, the ground colour below the horizon) and the user's
images (``render.environment_dir=``), each with the key light that suits it (:class:`Lighting`).

Images: PNG, JPEG, WebP, BMP or TIFF (8-bit). A 2:1 image is an equirectangular panorama looked up
by view direction (turned by a random yaw per sample); any other shape is stretched over the frame
(``mapping=screen``, also used for orthographic cameras). The mean colours of an image's upper and
lower halves tint the ambient light from above and below. Images are split between the seen and
unseen halves by a hash of their file name (:func:`simgen.appearance.split.file_half`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from simgen.appearance.lights import Lighting
from simgen.appearance.split import file_half
from simgen.errors import ConfigError, UserError
from simgen.spec import EnvironmentSpec

# name: (zenith, horizon, lighting)
SKIES: dict[str, tuple[tuple, tuple, Lighting]] = {
    "clear": ((0.22, 0.42, 0.82), (0.72, 0.83, 0.95), Lighting((35, 70), (5200, 6500), (3.0, 4.0), 0.35)),
    "hazy": ((0.52, 0.62, 0.78), (0.86, 0.87, 0.86), Lighting((30, 60), (5000, 6200), (2.4, 3.2), 0.42)),
    "overcast": ((0.60, 0.62, 0.66), (0.80, 0.80, 0.80), Lighting((45, 80), (6300, 7500), (1.4, 2.2), 0.55)),
    "dusk": ((0.18, 0.20, 0.42), (0.95, 0.62, 0.38), Lighting((15, 30), (3000, 3800), (2.6, 3.4), 0.30)),
    "morning": ((0.40, 0.52, 0.80), (0.98, 0.82, 0.66), Lighting((20, 40), (4000, 5000), (2.8, 3.6), 0.33)),
    "stormy": ((0.28, 0.31, 0.36), (0.52, 0.55, 0.58), Lighting((40, 75), (6800, 8000), (1.2, 2.0), 0.50)),
}
BACKDROPS: dict[str, tuple[float, float, float]] = {
    "white": (0.92, 0.92, 0.90), "pale blue": (0.85, 0.90, 0.95),
    "cream": (0.95, 0.90, 0.82), "pale green": (0.88, 0.95, 0.88),
}
STUDIO = Lighting((35, 65), (4500, 6500), (2.6, 3.6), 0.40)  # flat backdrops
IMAGE_LIGHTING = Lighting((30, 65), (4200, 6800), (2.4, 3.6), 0.40)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_IMAGE_WIDTH = 2048  # larger images are downscaled once when loaded


def _tint(c) -> np.ndarray:
    c = np.asarray(c, np.float64)
    return c / max(float(c.max()), 1e-3)


def _jitter(rng, c, amount=0.06) -> np.ndarray:
    """A colour varied per sample: overall brightness and a slight per-channel shift."""
    c = np.asarray(c, np.float64) * rng.uniform(1 - amount, 1 + amount) * rng.uniform(0.97, 1.03, size=3)
    return np.clip(c, 0.0, 1.0)


def sky(rng: np.random.Generator, name: str, ground=None) -> tuple[EnvironmentSpec, Lighting]:
    """A procedural sky: horizon-to-zenith gradient; below the horizon ``ground`` (the floor's mean
    colour, so the far floor meets it without a seam) or a darkened horizon."""
    zenith, horizon, lighting = SKIES[name]
    z, h = _jitter(rng, zenith), _jitter(rng, horizon)
    g = np.asarray(ground, np.float64) * 0.85 if ground is not None else 0.55 * h
    amb = lighting.ambient
    env = EnvironmentSpec(kind="sky", zenith=z, horizon=h, ground=g,
                          ambient_sky=amb * _tint(0.5 * (z + h)), ambient_ground=0.6 * amb * _tint(g), name=name)
    return env, lighting


def flat(rng: np.random.Generator, name: str, ground=None) -> tuple[EnvironmentSpec, Lighting]:
    """A flat backdrop colour (studio look; the 2-D law scenes' plain background)."""
    c = _jitter(rng, BACKDROPS[name], 0.02)
    g = np.asarray(ground, np.float64) if ground is not None else c
    amb = STUDIO.ambient
    env = EnvironmentSpec(kind="flat", zenith=c, horizon=c, ground=c, ambient_sky=amb * _tint(c),
                          ambient_ground=0.6 * amb * _tint(g), name=name)
    return env, STUDIO


def image(rng: np.random.Generator, path: str, screen: bool = False) -> tuple[EnvironmentSpec, Lighting]:
    """An environment from a user image (see the module docstring); ``screen`` forces the stretched
    backdrop mapping (orthographic cameras)."""
    img, top, bottom = load_image(str(path))
    h, w = img.shape[:2]
    equirect = not screen and 1.8 <= w / h <= 2.2
    amb = IMAGE_LIGHTING.ambient
    env = EnvironmentSpec(kind="image", zenith=top, horizon=0.5 * (top + bottom), ground=bottom, image=img,
                          mapping="equirect" if equirect else "screen",
                          yaw=float(rng.uniform(0.0, 2.0 * np.pi)) if equirect else 0.0,
                          ambient_sky=np.clip(0.15 + amb * top, 0.0, 1.0),
                          ambient_ground=np.clip(0.1 + 0.6 * amb * bottom, 0.0, 1.0), name=Path(path).stem)
    return env, IMAGE_LIGHTING


def backdrop_color(env: EnvironmentSpec) -> np.ndarray:
    """One colour standing for the environment (for renderers that draw a flat background only)."""
    if env.kind == "flat":
        return np.asarray(env.zenith, np.float64)
    return 0.5 * (np.asarray(env.zenith, np.float64) + np.asarray(env.horizon, np.float64))


# --- user images ----------------------------------------------------------------------------------

def list_images(folder: str | Path) -> list[Path]:
    """The image files in ``folder`` (sorted, not recursive); UserError when it is not a folder of images."""
    p = Path(folder).expanduser()
    if not p.is_dir():
        raise UserError(f"render.environment_dir={str(folder)!r} is not a folder; point it at a folder of "
                        f"{'/'.join(s[1:] for s in IMAGE_SUFFIXES)} images (2:1 panoramas or plain pictures).")
    files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"render.environment_dir={str(folder)!r} holds no images "
                        f"({', '.join(IMAGE_SUFFIXES)}; HDR/EXR are not read: convert them to PNG).")
    return files


def images_for(folder: str | Path, appearance: str) -> list[Path]:
    """The images of ``folder`` allowed by ``appearance`` (all | seen | unseen)."""
    files = list_images(folder)
    return files if appearance == "all" else [f for f in files if file_half(f.name) == appearance]


def check_environment_dir(folder: str | None, appearance: str = "all") -> None:
    """Config-time check (before any work): the folder exists, every image in it can be decoded,
    and the appearance half in use is not empty. Raises ConfigError with one line."""
    if not folder:
        return
    from PIL import Image

    try:
        files = list_images(folder)
    except UserError as exc:
        raise ConfigError(str(exc)) from None
    for f in files:
        try:
            with Image.open(f) as im:
                im.draft("RGB", (64, 64))  # JPEG: decode at a small scale, enough to find a broken file
                im.convert("RGB").load()
        except Exception as exc:  # PIL raises many types for bad files
            raise ConfigError(f"render.environment_dir: cannot read image {str(f)!r} ({type(exc).__name__}: {exc}); "
                              "remove it or replace it with a PNG or JPEG image.") from None
    if appearance != "all" and not images_for(folder, appearance):
        n = {h: sum(file_half(f.name) == h for f in files) for h in ("seen", "unseen")}
        raise ConfigError(f"render.environment_dir={str(folder)!r} has no image in the {appearance} half "
                          f"(images are split by a hash of their file name: {n['seen']} seen, {n['unseen']} unseen); "
                          "add images or use scene.appearance=all.")


@functools.lru_cache(maxsize=8)
def load_image(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint8 [h, w, 3] image, at most MAX_IMAGE_WIDTH wide; mean RGB of its upper half; of its lower
    half), cached per process."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.width > MAX_IMAGE_WIDTH:
                im = im.resize((MAX_IMAGE_WIDTH, max(1, round(im.height * MAX_IMAGE_WIDTH / im.width))),
                               Image.Resampling.BOX)
            img = np.asarray(im, dtype=np.uint8).copy()
    except Exception as exc:
        raise UserError(f"Cannot read environment image {path!r} ({type(exc).__name__}: {exc}).") from None
    h = img.shape[0] // 2
    top = img[: max(h, 1)].reshape(-1, 3).mean(axis=0) / 255.0
    bottom = img[h:].reshape(-1, 3).mean(axis=0) / 255.0 if h else top
    img.flags.writeable = False
    return img, top, bottom
