"""Astronaut photos of the synthetic Earth: poses drawn like real ones, rendered through the camera.

Distributions are calibrated on the 17,763 real footprints of the EarthLoc benchmark
(shared/real-footprints): the tilt (from the nadir-to-centre distance) and the footprint size quantiles
below were measured there; focal lengths are then whatever gives that footprint at that tilt, clipped to
50-1150 mm. Splits are longitude bands of the region (see :func:`split_bands`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from ml.geo import Bounds, LonLat, lonlat_to_pixel, polygon_area_km2
from ml.synth.camera import (
    BeyondHorizonError,
    CameraPose,
    centre_point,
    footprint,
    pixels_to_lonlat,
    pose_looking_at,
)
from ml.synth.config import SynthConfig
from ml.synth.effects import EffectReport, apply_effects
from ml.synth.variants import get_variant

#: Deciles (0..100 %) of the real off-nadir tilt in degrees (atan(nadir-centre distance / 410 km)).
REAL_TILT_DECILES = (0.4, 16.3, 23.7, 28.8, 33.6, 38.2, 43.2, 48.2, 53.6, 58.9, 88.3)
#: Deciles of the real footprints' sqrt(area) in km.
REAL_SIZE_DECILES_KM = (70.7, 74.6, 79.3, 85.3, 93.1, 104.1, 117.6, 137.2, 174.6, 238.7, 316.2)
FOCAL_RANGE_MM = (50.0, 1150.0)
ALTITUDE_RANGE_KM = (400.0, 420.0)
SPLITS = ("train", "val", "test")
MAX_WATER_FRACTION = 0.6


@dataclass(frozen=True)
class PhotoTruth:
    """Everything known about one rendered photo (the truth; the system only sees part of it)."""

    photo_id: str
    split: str
    area: str  # "train_only" | "shared" | "heldout": which band of the region it shows
    pose: CameraPose
    footprint: tuple[LonLat, LonLat, LonLat, LonLat]
    center: LonLat
    weak_center: LonLat | None
    captured_at: datetime
    camera: str
    years_mixed: tuple[int, int, float]  # the two mosaic years blended and the weight of the first
    effects: EffectReport


def split_bands(region: Bounds) -> dict[str, Bounds]:
    """Longitude bands: train-only (west 45 %), shared (next 25 %), held-out (east 30 %)."""
    lon0, lat0, lon1, lat1 = region
    a = lon0 + 0.45 * (lon1 - lon0)
    b = lon0 + 0.70 * (lon1 - lon0)
    return {
        "train_only": (lon0, lat0, a, lat1),
        "shared": (a, lat0, b, lat1),
        "heldout": (b, lat0, lon1, lat1),
    }


def _interp_quantile(rng: np.random.Generator, deciles: tuple[float, ...]) -> float:
    return float(np.interp(rng.uniform(0, 1), np.linspace(0, 1, len(deciles)), deciles))


def _inside(corners, bounds: Bounds, margin_deg: float) -> bool:
    lon0, lat0, lon1, lat1 = bounds
    return all(
        lon0 + margin_deg <= lo <= lon1 - margin_deg and lat0 + margin_deg <= la <= lat1 - margin_deg
        for lo, la in corners
    )


def sample_pose(
    rng: np.random.Generator, config: SynthConfig, centre_box: Bounds, footprint_box: Bounds
) -> CameraPose:
    """Draw a pose whose centre falls in ``centre_box`` and whose footprint fits ``footprint_box``."""
    size_scale = config.footprint_scale
    for attempt in range(400):
        if attempt and attempt % 50 == 0:
            size_scale *= 0.8  # small regions: settle for smaller footprints rather than loop forever
        centre = (
            float(rng.uniform(centre_box[0], centre_box[2])),
            float(rng.uniform(centre_box[1], centre_box[3])),
        )
        tilt = min(_interp_quantile(rng, REAL_TILT_DECILES), config.max_tilt_deg)
        target = _interp_quantile(rng, REAL_SIZE_DECILES_KM) * size_scale
        altitude = round(float(rng.uniform(*ALTITUDE_RANGE_KM)), 1)  # NASA publishes 0.1 km
        kwargs = {
            "altitude_km": altitude,
            "tilt_deg": tilt,
            "look_azimuth_deg": float(rng.uniform(0, 360)),
            "roll_deg": float(rng.uniform(0, 360)),
            "size_px": config.photo_size,
        }
        focal = altitude * math.sqrt(SENSOR_AREA_MM2) / target
        try:
            for _ in range(2):  # area ~ 1/focal^2: two fixed-point steps match the target size
                focal = float(np.clip(focal, *FOCAL_RANGE_MM))
                pose = pose_looking_at(centre, focal_length_mm=focal, **kwargs)
                area = polygon_area_km2(footprint(pose))
                focal *= math.sqrt(area) / target
            focal = float(np.clip(round(focal), *FOCAL_RANGE_MM))
            pose = pose_looking_at(centre, focal_length_mm=focal, **kwargs)
            corners = footprint(pose)
        except BeyondHorizonError:
            continue
        if _inside(corners, footprint_box, 0.02):
            return pose
    raise RuntimeError(f"could not place a photo inside {footprint_box}; enlarge the region")


SENSOR_AREA_MM2 = 36.0 * 24.0


def render_ground(
    pose: CameraPose, pyramids: list[list[np.ndarray]], weights: tuple[float, float], mosaic_bounds_m: Bounds
) -> np.ndarray:
    """Ground as seen by the camera (float32 RGB [0, 1]): a blend of two years of the mosaic.

    Rays are mapped to mosaic pixels and sampled from the pyramid level whose resolution matches the
    photo's ground sampling, so wide-angle photos do not alias.
    """
    w, h = pose.width_px, pose.height_px
    uu, vv = np.meshgrid(np.arange(w, dtype=np.float64) + 0.5, np.arange(h, dtype=np.float64) + 0.5)
    lon, lat, hit = pixels_to_lonlat(pose, uu, vv)
    base = pyramids[0][0]
    size0 = (base.shape[1], base.shape[0])
    col, row = lonlat_to_pixel(mosaic_bounds_m, size0, np.where(hit, lon, 0.0), np.where(hit, lat, 0.0))
    step = np.hypot(np.diff(col, axis=1), np.diff(row, axis=1))
    scale = float(np.nanmedian(step)) if step.size else 1.0
    level = int(np.clip(math.floor(math.log2(max(scale, 1.0))), 0, len(pyramids[0]) - 1))
    f = 2.0**level
    map_x = (col / f - 0.5).astype(np.float32)
    map_y = (row / f - 0.5).astype(np.float32)
    out = np.zeros((h, w, 3), np.float32)
    for pyramid, weight in zip(pyramids, weights, strict=True):
        img = cv2.remap(pyramid[level], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out += weight * img.astype(np.float32) / 255.0
    out[~hit] = 0.0
    return out


def water_fraction(ground: np.ndarray) -> float:
    """Share of pixels that look like water (blue dominates): used to skip open-sea photos."""
    r, g, b = ground[..., 0], ground[..., 1], ground[..., 2]
    return float(np.mean((b > r + 0.08) & (b >= g)))


def build_pyramid(img: np.ndarray, levels: int = 6) -> list[np.ndarray]:
    """Image pyramid (level k is 2^k times coarser) for alias-free sampling."""
    pyramid = [img]
    for _ in range(levels - 1):
        if min(pyramid[-1].shape[:2]) < 16:
            break
        pyramid.append(cv2.pyrDown(pyramid[-1]))
    return pyramid


# --- NASA-like identifiers, dates and cameras ---------------------------------------------------------
_EXPEDITION_ANCHORS = (
    (datetime(2016, 3, 1, tzinfo=UTC), 47),
    (datetime(2020, 10, 21, tzinfo=UTC), 64),
    (datetime(2023, 9, 27, tzinfo=UTC), 70),
)


def expedition_for(when: datetime) -> int:
    """ISS expedition number at a date (piecewise linear through real expedition start dates)."""
    xs = [a[0].timestamp() for a in _EXPEDITION_ANCHORS]
    ys = [a[1] for a in _EXPEDITION_ANCHORS]
    slope = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    t = when.timestamp()
    if t > xs[-1]:
        return int(ys[-1] + (t - xs[-1]) * slope)
    return int(np.floor(np.interp(t, xs, ys)))


def camera_for(when: datetime, rng: np.random.Generator) -> str:
    """Camera body in use on the ISS at that date (the ones NASA lists for ISS photography)."""
    if when.year < 2017:
        return "NIKON D4"
    if when.year < 2019:
        return "NIKON D5"
    if when.year < 2022:
        return str(rng.choice(["NIKON D5", "NIKON D850"]))
    return str(rng.choice(["NIKON D850", "NIKON Z 9"]))


def capture_time(rng: np.random.Generator, lon: float) -> datetime:
    """A daytime capture (local solar time 08-16 h) between 2016 and 2023."""
    day = datetime(2016, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 8 * 365)))
    local_hours = rng.uniform(8.0, 16.0)
    utc_hours = (local_hours - lon / 15.0) % 24.0
    return day + timedelta(seconds=int(utc_hours * 3600))


def sun_position(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Approximate sun (elevation, azimuth) in degrees (NOAA low-precision formulas, ~0.5 deg)."""
    doy = when.timetuple().tm_yday
    hours = when.hour + when.minute / 60 + when.second / 3600
    g = 2 * math.pi / 365 * (doy - 1 + (hours - 12) / 24)
    decl = (0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
            + 0.000907 * math.sin(2 * g) - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g))
    eqt = 229.18 * (0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
                    - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g))
    solar_minutes = hours * 60 + eqt + 4 * lon
    ha = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(ha)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    az = math.degrees(math.atan2(math.sin(ha), math.cos(ha) * math.sin(phi) - math.tan(decl) * math.cos(phi)))
    return 90.0 - math.degrees(zen), (az + 180.0) % 360.0


def weak_label(rng: np.random.Generator, centre: LonLat, sigma_deg: float) -> LonLat:
    """NASA-style hand-clicked centre: true centre + ~sigma deg of error, rounded to 0.5 deg."""
    lon = centre[0] + rng.normal(0, sigma_deg)
    lat = centre[1] + rng.normal(0, sigma_deg)
    return (round(lon * 2) / 2, round(lat * 2) / 2)


def make_photo(
    rng: np.random.Generator,
    config: SynthConfig,
    *,
    frames: dict[int, int],
    split: str,
    area: str,
    pose: CameraPose,
    pyramids: dict[int, list[np.ndarray]],
    mosaic_bounds_m: Bounds,
) -> tuple[np.ndarray, PhotoTruth] | None:
    """Render one photo (uint8 RGB) and its truth; None when it would show mostly open water.

    Astronauts do photograph the sea, but a photo of water alone cannot be localised by anyone; the
    benchmarks would only measure noise, so such poses are redrawn by the caller.

    ``frames`` holds the last frame number used per expedition, so IDs are unique and increase
    within a mission as on a real camera roll (frame order does not follow capture time).
    """
    years = sorted(pyramids)
    y1, y2 = (int(y) for y in rng.choice(years, size=2, replace=len(years) < 2))
    w1 = float(rng.uniform(0.3, 1.0))
    ground = render_ground(pose, [pyramids[y1], pyramids[y2]], (w1, 1.0 - w1), mosaic_bounds_m)
    if water_fraction(ground) > MAX_WATER_FRACTION:
        return None
    image, effects = apply_effects(
        ground, rng, tilt_deg=pose.tilt_deg, cloud_probability=config.cloud_probability,
        profile=get_variant(config.variant).effects,
    )
    centre = centre_point(pose)
    captured = capture_time(rng, centre[0])
    expedition = expedition_for(captured)
    frame = frames.get(expedition, int(rng.integers(1, 200_000))) + int(rng.integers(1, 400))
    frames[expedition] = frame
    photo_id = f"ISS{expedition:03d}-E-{frame}"
    weak = None
    if split == "train" and rng.random() < config.weak_label_fraction:
        weak = weak_label(rng, centre, config.weak_label_sigma_deg)
    truth = PhotoTruth(
        photo_id=photo_id,
        split=split,
        area=area,
        pose=pose,
        footprint=footprint(pose),
        center=centre,
        weak_center=weak,
        captured_at=captured,
        camera=camera_for(captured, rng),
        years_mixed=(y1, y2, round(w1, 4)),
        effects=effects,
    )
    return image, truth
