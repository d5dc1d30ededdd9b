"""What stands between the ground and an astronaut's JPEG: clouds, haze, optics and the camera.

Each effect is a small function on a float32 RGB image in [0, 1] so that they can be tested and tuned
alone; :func:`apply_effects` draws their strengths from a seeded generator and reports the cloud cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ml.synth.noise import fbm, smoothstep


@dataclass(frozen=True)
class EffectReport:
    """What was applied to one photo (kept in the ground truth)."""

    cloud_pct: float
    haze: float
    blur_sigma: float
    reflection: bool
    dark_frame: bool
    jpeg_quality: int
    #: Effects of a generator variant (``EffectProfile``): name -> strength drawn; empty for the standard one.
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EffectProfile:
    """Ranges the effects are drawn from. The defaults are the standard generator (``bench`` and the other
    presets); the generator variants (``ml.synth.variants``) widen them and switch on the camera effects the
    standard photos do not have, each drawn uniformly from its (low, high) range per photo."""

    vignette: tuple[float, float] = (0.0, 0.5)
    jpeg_quality: tuple[int, int] = (70, 96)  # numpy integers(low, high): high excluded
    #: Green vegetation turned towards straw and the image brightened, the photo taken in another season.
    season: tuple[float, float] | None = None
    #: Semi-transparent cirrus veil over the whole frame (opacity).
    thin_cloud: tuple[float, float] | None = None
    #: Lateral chromatic aberration: red and blue magnified by +-this fraction about the image centre.
    chromatic: tuple[float, float] | None = None
    #: Linear motion blur length in pixels, any direction.
    motion_blur_px: tuple[float, float] | None = None


def clouds(rng: np.random.Generator, shape: tuple[int, int], cover: float) -> np.ndarray:
    """Cloud opacity in [0, 1] covering about ``cover`` of the image, with soft, fractal edges."""
    h, w = shape
    if cover <= 0:
        return np.zeros(shape, np.float32)
    n = fbm(rng, shape, max(h, w) / 2.5, octaves=6, smallest_px=1.0)
    thr = float(np.quantile(n, 1.0 - cover))
    return smoothstep(thr - 0.15, thr + 0.35, n).astype(np.float32)


def add_clouds(img: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Composite clouds and their shadows (the cloud mask shifted and darkened) onto the ground."""
    h, w = alpha.shape
    dx, dy = rng.integers(-w // 20 - 1, w // 20 + 2), rng.integers(-h // 20 - 1, h // 20 + 2)
    shadow = np.roll(alpha, (int(dy), int(dx)), axis=(0, 1))
    img = img * (1.0 - 0.45 * shadow[..., None])
    brightness = rng.uniform(0.85, 1.0)
    cloud_colour = np.array([brightness, brightness, min(brightness * 1.03, 1.0)], np.float32)
    return img * (1.0 - alpha[..., None]) + cloud_colour * alpha[..., None]


def haze(img: np.ndarray, strength: float, gradient: float, colour: np.ndarray) -> np.ndarray:
    """Atmospheric veil, thicker towards the image top for oblique photos (longer path through the air)."""
    h = img.shape[0]
    ramp = strength + gradient * np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None, None]
    ramp = np.clip(ramp, 0.0, 0.9)
    return img * (1.0 - ramp) + colour * ramp


def colour_shift(img: np.ndarray, gains: np.ndarray, gamma: float, saturation: float) -> np.ndarray:
    """White balance, exposure curve and saturation differences between cameras and days."""
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * saturation
    return np.clip(img * gains, 0, 1) ** gamma


def vignette(img: np.ndarray, strength: float) -> np.ndarray:
    """Radial darkening of the corners (lens + cupola window)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    return img * (1.0 - strength * r2 / 2.0)[..., None]


def reflection(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A window reflection: a large, soft, tinted bright patch."""
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    centre = (int(rng.integers(w)), int(rng.integers(h)))
    axes = (int(rng.uniform(0.2, 0.6) * w), int(rng.uniform(0.1, 0.4) * h))
    cv2.ellipse(layer, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    layer = cv2.GaussianBlur(layer, (0, 0), max(h, w) / 15)
    tint = rng.uniform(0.5, 1.0, 3).astype(np.float32)
    return np.clip(img + 0.35 * layer[..., None] * tint, 0, 1)


def season_shift(img: np.ndarray, strength: float) -> np.ndarray:
    """Vegetation of another season: green pixels turn towards straw, the scene gets brighter and flatter."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    green = np.clip((g - np.maximum(r, b)) * 8.0, 0.0, 1.0)[..., None] * strength
    straw = np.stack([g * 1.15 + 0.05, g * 0.95 + 0.03, b * 0.8], axis=-1)
    out = img * (1.0 - green) + straw * green
    return np.clip(out * (1.0 + 0.25 * strength) + 0.04 * strength, 0.0, 1.0)


def thin_cloud(img: np.ndarray, rng: np.random.Generator, opacity: float) -> np.ndarray:
    """A veil of cirrus over the whole frame: streaky, never opaque, so the ground shows through everywhere."""
    h, w = img.shape[:2]
    streaks = cv2.resize(fbm(rng, (h, max(w // 4, 8)), max(h, w) / 6, octaves=4), (w, h))
    veil = np.clip(opacity * (0.6 + 0.4 * streaks), 0.0, 0.9)[..., None]
    return img * (1.0 - veil) + np.float32(0.92) * veil


def chromatic_aberration(img: np.ndarray, amount: float) -> np.ndarray:
    """Red magnified by (1 + amount), blue by (1 - amount) about the centre: colour fringes at the edges."""
    h, w = img.shape[:2]
    out = img.copy()
    for channel, scale in ((0, 1.0 + amount), (2, 1.0 - amount)):
        M = np.array([[scale, 0.0, (1 - scale) * w / 2], [0.0, scale, (1 - scale) * h / 2]], np.float32)
        out[..., channel] = cv2.warpAffine(np.ascontiguousarray(img[..., channel]), M, (w, h),
                                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def motion_blur(img: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    """Linear blur of ``length_px`` along ``angle_deg`` (the station moves ~7 km/s under a long exposure)."""
    size = max(3, int(np.ceil(length_px)) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.radians(angle_deg)) * length_px / 2, np.sin(np.radians(angle_deg)) * length_px / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return cv2.filter2D(img, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def apply_effects(
    img: np.ndarray, rng: np.random.Generator, *, tilt_deg: float, cloud_probability: float,
    profile: EffectProfile | None = None,
) -> tuple[np.ndarray, EffectReport]:
    """Apply a random, plausible set of degradations; returns uint8 RGB and what was done.

    The standard ``profile`` draws exactly what it always drew (same seed, same bytes); a variant's extra
    effects draw afterwards from the same generator.
    """
    profile = profile or EffectProfile()
    h, w = img.shape[:2]
    extra: dict[str, float] = {}
    if profile.season:
        extra["season"] = float(rng.uniform(*profile.season))
        img = season_shift(img, extra["season"])
    cover = float(rng.uniform(0.02, 0.7)) if rng.random() < cloud_probability else 0.0
    alpha = clouds(rng, (h, w), cover)
    img = add_clouds(img, alpha, rng)
    cloud_pct = float(np.mean(alpha > 0.5) * 100.0)

    strength = float(rng.uniform(0.0, 0.2))
    gradient = float(rng.uniform(0.0, 0.35) * tilt_deg / 60.0)
    img = haze(img, strength, gradient, np.array([0.65, 0.72, 0.85], np.float32))
    img = colour_shift(
        img,
        rng.normal(1.0, 0.07, 3).astype(np.float32),
        float(rng.uniform(0.8, 1.25)),
        float(rng.uniform(0.6, 1.3)),
    )
    img = vignette(img, float(rng.uniform(*profile.vignette)))
    if profile.thin_cloud:
        extra["thin_cloud"] = float(rng.uniform(*profile.thin_cloud))
        img = thin_cloud(img, rng, extra["thin_cloud"])
    if profile.chromatic:
        extra["chromatic"] = float(rng.uniform(*profile.chromatic))
        img = chromatic_aberration(img, extra["chromatic"])
    if profile.motion_blur_px:
        extra["motion_blur_px"] = float(rng.uniform(*profile.motion_blur_px))
        img = motion_blur(img, extra["motion_blur_px"], float(rng.uniform(0.0, 180.0)))
    has_reflection = bool(rng.random() < 0.05)
    if has_reflection:
        img = reflection(img, rng)
    blur = float(rng.uniform(0.0, 1.2))
    if blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    dark = bool(rng.random() < 0.02)
    if dark:
        img = img * rng.uniform(0.03, 0.12)
    img = img + rng.normal(0, rng.uniform(0.005, 0.02), img.shape).astype(np.float32)
    out = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    report = EffectReport(
        cloud_pct=round(cloud_pct, 2),
        haze=round(strength + gradient, 3),
        blur_sigma=round(blur, 3),
        reflection=has_reflection,
        dark_frame=dark,
        jpeg_quality=int(rng.integers(*profile.jpeg_quality)),
        extra=extra,
    )
    return out, report
