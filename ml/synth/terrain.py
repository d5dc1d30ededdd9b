"""Procedural land surface: one fixed geography, rendered in several "years".

The geography (elevation, sea, lakes, rivers, moisture, fields, dunes, towns, roads) is drawn once from the
seed; each year re-renders it with its own season colours, snow line, water level, sun, crop colours and
sensor noise, like yearly cloudless mosaics of the same place. Unique structure (coastlines, rivers, towns,
mountain ridges) makes places tens of km apart distinguishable; dune seas and field districts are
deliberately repetitive, so some places are genuinely ambiguous.

Arrays are in the mosaic's pixel grid (Web Mercator, north up); sizes are given in km on the ground and
converted with the mosaic's ground resolution at its central latitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.synth.noise import fbm, normalise, ridged, smoothstep, value_noise


@dataclass(frozen=True)
class Geography:
    """Static fields of the synthetic region, shape (H, W) float32 unless said otherwise."""

    elevation: np.ndarray  # ~[0, 1] land, negative under the sea
    sea_level: float
    lakeness: np.ndarray  # lake where lakeness > year threshold
    rivers: np.ndarray  # [0, 1] river coverage
    moisture: np.ndarray  # ~N(0, 1)
    mountains: np.ndarray  # [0, 1]
    fields: np.ndarray  # [0, 1] agricultural district mask
    parcel_id: np.ndarray  # int32 parcel index (fields, pivots)
    dunes: np.ndarray  # [-1, 1] dune stripes
    towns: np.ndarray  # [0, 1] built-up density
    roads: np.ndarray  # [0, 1]
    texture: np.ndarray  # fine N(0, 1) texture
    albedo: np.ndarray  # mid-scale N(0, 1) brightness variation (soils, rock outcrops)
    slope_x: np.ndarray  # elevation gradient (for hill shading)
    slope_y: np.ndarray


@dataclass(frozen=True)
class YearStyle:
    """How one year looks: season, snow, water level, sun, crops, noise."""

    year: int
    dryness: float  # 0 green season .. 1 dry / dormant season
    snow_line: float  # elevation above which snow lies
    water_offset: float  # sea/lake level change (elevation units)
    sun_azimuth_deg: float
    sun_elevation_deg: float
    brightness: float
    tint: tuple[float, float, float]
    noise_sigma: float
    crop_seed: int


def make_geography(rng: np.random.Generator, shape: tuple[int, int], km_per_px: float, *,
                   feature_scale: float = 1.0, moisture_bias: float = 0.0, sea_fraction: float = 0.22
                   ) -> Geography:
    """Draw the static geography for a mosaic of ``shape`` pixels at ``km_per_px``.

    ``feature_scale`` multiplies the size of every landform (0.6: a busier terrain of smaller features),
    ``moisture_bias`` shifts the land cover towards forest and fields (positive) or desert (negative) and
    ``sea_fraction`` is the share of the region under the sea: the knobs of the generator variants
    (``ml.synth.variants``); the defaults are the standard generator.
    """
    px = feature_scale / km_per_px  # pixels per km of landform

    base = fbm(rng, shape, 600 * px, octaves=9, smallest_px=1.0)
    mountain_zone = smoothstep(0.3, 1.2, fbm(rng, shape, 400 * px, octaves=3))
    ridges = ridged(rng, shape, 120 * px, octaves=6)
    elevation = 0.35 * base + 1.3 * mountain_zone * ridges + 0.25 * mountain_zone
    elevation = elevation.astype(np.float32)
    sea_level = float(np.quantile(elevation[::4, ::4], sea_fraction))
    elevation = (elevation - sea_level) / max(float(elevation.max()) - sea_level, 1e-6)
    land = elevation > 0

    lakeness = fbm(rng, shape, 40 * px, octaves=4) - 2.0 * mountain_zone
    lakeness[~land] = -10.0

    rivers = _rivers(rng, elevation, px)
    dist_water = _distance_to(~land | (rivers > 0.5), px)
    moisture = normalise(fbm(rng, shape, 300 * px, octaves=5) - 0.8 * np.minimum(dist_water, 3.0))
    if moisture_bias:
        moisture = moisture + np.float32(moisture_bias)

    fields_zone = (
        smoothstep(-0.2, 0.3, moisture + 0.6 * smoothstep(0, 2, 2.0 - dist_water))
        * smoothstep(0.45, 0.2, elevation)
        * land
        * smoothstep(0.0, 0.5, fbm(rng, shape, 80 * px, octaves=3))
    )
    parcel_id = _parcels(rng, shape, px)
    pivots, pivot_id = _pivots(rng, shape, px, land & (moisture < -0.3) & (elevation < 0.3))
    fields_zone = np.maximum(fields_zone, pivots)
    parcel_id = np.where(pivots > 0.5, pivot_id, parcel_id)

    dunes = _dunes(rng, shape, px)
    towns, town_xy = _towns(rng, shape, px, land, elevation, dist_water)
    roads = _roads(rng, shape, town_xy)

    texture = fbm(rng, shape, 6 * px, octaves=4, smallest_px=1.0)
    albedo = fbm(rng, shape, 25 * px, octaves=5, smallest_px=1.0)
    gy, gx = np.gradient(cv2.GaussianBlur(np.maximum(elevation, 0), (0, 0), 1.0))
    relief_km = 25.0  # height of elevation 1.0, so that slopes (height/ground distance) look plausible
    return Geography(
        elevation=elevation,
        sea_level=0.0,
        lakeness=lakeness.astype(np.float32),
        rivers=rivers,
        moisture=moisture,
        mountains=mountain_zone.astype(np.float32),
        fields=fields_zone.astype(np.float32),
        parcel_id=parcel_id,
        dunes=dunes,
        towns=towns,
        roads=roads,
        texture=texture,
        albedo=albedo,
        slope_x=(gx * relief_km / km_per_px).astype(np.float32),
        slope_y=(gy * relief_km / km_per_px).astype(np.float32),
    )


def _distance_to(mask: np.ndarray, px: float) -> np.ndarray:
    """Distance (in units of 100 km) to the nearest True pixel."""
    src = np.where(mask, 0, 255).astype(np.uint8)
    return (cv2.distanceTransform(src, cv2.DIST_L2, 3) / (100 * px)).astype(np.float32)


def _rivers(rng: np.random.Generator, elevation: np.ndarray, px: float) -> np.ndarray:
    """Rivers traced downhill from high ground on a smoothed, coarse elevation, drawn as polylines."""
    h, w = elevation.shape
    scale = 4
    coarse = cv2.resize(elevation, (max(w // scale, 8), max(h // scale, 8)), interpolation=cv2.INTER_AREA)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 2.0)
    ch, cw = coarse.shape
    out = np.zeros((h, w), np.uint8)
    n_sources = max(int(h * w / (120 * px) ** 2 * 1.5), 2)
    candidates = np.argwhere(coarse > 0.25)
    if len(candidates) == 0:
        return out.astype(np.float32)
    steps = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])
    for _ in range(n_sources):
        y, x = candidates[rng.integers(len(candidates))]
        path = [(x, y)]
        for _ in range(4 * (ch + cw)):
            nbrs = np.clip(steps + np.array([y, x]), 0, (ch - 1, cw - 1))
            heights = coarse[nbrs[:, 0], nbrs[:, 1]] + rng.normal(0, 0.004, len(nbrs))
            k = int(np.argmin(heights))
            if heights[k] >= coarse[y, x] + 0.002:
                break  # a pit: the river ends in a lake-like blob
            y, x = nbrs[k]
            path.append((x, y))
            if coarse[y, x] <= 0 or x in (0, cw - 1) or y in (0, ch - 1):
                break
        if len(path) < 6:
            continue
        pts = (np.array(path, np.float32) * scale + scale / 2).astype(np.int32)
        width = max(1, round(px * 0.25 * min(len(path) / 40.0, 2.0)))
        cv2.polylines(out, [pts.reshape(-1, 1, 2)], False, 255, thickness=width, lineType=cv2.LINE_AA)
    return (out.astype(np.float32) / 255.0) * (elevation > 0)


def _parcels(rng: np.random.Generator, shape: tuple[int, int], px: float) -> np.ndarray:
    """Parcel ids of rectangular field grids whose orientation changes from district to district."""
    h, w = shape
    district = 60 * px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle_grid = rng.uniform(0, np.pi, size=(int(h / district) + 2, int(w / district) + 2)).astype(np.float32)
    angle = cv2.resize(angle_grid, (w, h), interpolation=cv2.INTER_NEAREST)
    warp = 3 * px * value_noise(rng, shape, 20 * px)
    u = (xx * np.cos(angle) + yy * np.sin(angle) + warp) / (2.5 * px)
    v = (-xx * np.sin(angle) + yy * np.cos(angle)) / (1.8 * px)
    dist_id = (angle * 1000).astype(np.int64)
    return ((np.floor(u).astype(np.int64) * 73856093) ^ (np.floor(v).astype(np.int64) * 19349663)
            ^ dist_id).astype(np.int64).astype(np.int32)


def _pivots(
    rng: np.random.Generator, shape: tuple[int, int], px: float, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centre-pivot irrigation circles in dry lowland: a classic, repetitive desert-farm pattern."""
    h, w = shape
    mask = np.zeros(shape, np.uint8)
    ids = np.zeros(shape, np.int32)
    radius = max(int(0.4 * px), 1)
    cand = np.argwhere(allowed[:: max(radius, 1), :: max(radius, 1)])
    n_clusters = max(int(h * w / (250 * px) ** 2), 1)
    for c in range(n_clusters if len(cand) else 0):
        cy, cx = cand[rng.integers(len(cand))] * max(radius, 1)
        rows, cols = rng.integers(3, 9), rng.integers(3, 9)
        for i in range(rows):
            for j in range(cols):
                if rng.random() < 0.2:
                    continue
                y, x = int(cy + i * 2.1 * radius), int(cx + j * 2.1 * radius)
                if 0 <= y < h and 0 <= x < w and allowed[y, x]:
                    cv2.circle(mask, (x, y), radius, 255, -1, cv2.LINE_AA)
                    cv2.circle(ids, (x, y), radius, int(c * 1000 + i * 10 + j + 7), -1)
    return mask.astype(np.float32) / 255.0, ids


def _dunes(rng: np.random.Generator, shape: tuple[int, int], px: float) -> np.ndarray:
    """Transverse dune stripes (about 1.5 km apart) bent by noise: same look everywhere in a sand sea."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, np.pi) + 0.4 * value_noise(rng, shape, 150 * px)
    bend = 4 * px * value_noise(rng, shape, 15 * px)
    phase = (xx * np.cos(theta) + yy * np.sin(theta) + bend) * (2 * np.pi / (1.5 * px))
    return np.sin(phase).astype(np.float32)


def _towns(
    rng: np.random.Generator,
    shape: tuple[int, int],
    px: float,
    land: np.ndarray,
    elevation: np.ndarray,
    dist_water: np.ndarray,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Towns near water on low land: noisy blobs of built-up density, 1-8 km across."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    n = max(int(h * w / (45 * px) ** 2), 3)
    xy: list[tuple[int, int]] = []
    for _ in range(n * 4):
        if len(xy) >= n:
            break
        y, x = int(rng.integers(h)), int(rng.integers(w))
        if not land[y, x] or elevation[y, x] > 0.4:
            continue
        if rng.random() > np.exp(-2.0 * dist_water[y, x]):
            continue
        radius = max(rng.uniform(0.5, 4.0) * px, 1.0)
        cv2.circle(out, (x, y), int(radius), 1.0, -1, cv2.LINE_AA)
        xy.append((x, y))
    if xy:
        out = cv2.GaussianBlur(out, (0, 0), max(px * 0.7, 0.5))
        speckle = value_noise(rng, shape, max(px * 0.4, 1.0))
        out = np.clip(out * (0.8 + 0.6 * speckle), 0, 1)
    return out.astype(np.float32), xy


def _roads(rng: np.random.Generator, shape: tuple[int, int], towns: list[tuple[int, int]]) -> np.ndarray:
    """Roads linking each town to its two nearest neighbours, with a kink so they are not ruler-straight."""
    out = np.zeros(shape, np.uint8)
    pts = np.array(towns, np.float32)
    for x, y in towns:
        if len(pts) < 2:
            break
        d = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
        for j in np.argsort(d)[1:3]:
            x2, y2 = towns[int(j)]
            mx = (x + x2) / 2 + rng.normal(0, 0.1) * (y2 - y)
            my = (y + y2) / 2 + rng.normal(0, 0.1) * (x - x2)
            poly = np.array([[x, y], [mx, my], [x2, y2]], np.int32).reshape(-1, 1, 2)
            cv2.polylines(out, [poly], False, 255, 1, cv2.LINE_AA)
    return out.astype(np.float32) / 255.0


def year_style(seed: int, year: int, index: int, n_years: int) -> YearStyle:
    """Seeded look of one year; years alternate between green and dry seasons so they differ a lot."""
    rng = np.random.default_rng([seed, year, 17])
    dryness = float(np.clip((0.15 if index % 2 == 0 else 0.8) + rng.normal(0, 0.1), 0, 1))
    return YearStyle(
        year=year,
        dryness=dryness,
        snow_line=float(rng.uniform(0.75, 1.0)),
        water_offset=float(rng.normal(0, 0.02)),
        sun_azimuth_deg=float(rng.uniform(100, 170)),
        sun_elevation_deg=float(rng.uniform(30, 65)),
        brightness=float(rng.uniform(0.88, 1.12)),
        tint=tuple(float(t) for t in rng.normal(1.0, 0.04, 3)),
        noise_sigma=float(rng.uniform(0.01, 0.025)),
        crop_seed=int(rng.integers(1 << 30)),
    )


_SAND = np.array([0.82, 0.70, 0.50], np.float32)
_ROCK = np.array([0.52, 0.45, 0.38], np.float32)
_GRASS_GREEN = np.array([0.36, 0.50, 0.24], np.float32)
_GRASS_DRY = np.array([0.66, 0.58, 0.38], np.float32)
_FOREST_GREEN = np.array([0.12, 0.28, 0.12], np.float32)
_FOREST_DRY = np.array([0.26, 0.30, 0.18], np.float32)
_SNOW = np.array([0.93, 0.94, 0.97], np.float32)
_DEEP = np.array([0.04, 0.12, 0.25], np.float32)
_SHALLOW = np.array([0.12, 0.35, 0.42], np.float32)
_TOWN = np.array([0.60, 0.57, 0.55], np.float32)
_ROAD = np.array([0.42, 0.40, 0.38], np.float32)
_CROPS = np.array(
    [
        [0.20, 0.45, 0.15], [0.35, 0.55, 0.20], [0.62, 0.55, 0.30], [0.48, 0.36, 0.24],
        [0.72, 0.66, 0.42], [0.28, 0.38, 0.18], [0.55, 0.50, 0.28], [0.15, 0.35, 0.12],
    ],
    np.float32,
)


def render_year(geo: Geography, style: YearStyle) -> np.ndarray:
    """RGB uint8 image (H, W, 3) of the geography as it looks in ``style``'s year."""
    rng = np.random.default_rng([style.crop_seed, 3])
    e = geo.elevation
    t = geo.texture
    d = style.dryness

    desert = smoothstep(-0.4, -1.0, geo.moisture)
    forest = smoothstep(0.5, 1.1, geo.moisture) * smoothstep(0.7, 0.4, e)
    rock = np.clip(smoothstep(0.35, 0.7, e) * geo.mountains, 0, 1)
    grass_c = _GRASS_GREEN * (1 - d) + _GRASS_DRY * d
    forest_c = _FOREST_GREEN * (1 - d) + _FOREST_DRY * d
    sand_mod = (1 + 0.06 * geo.dunes)[..., None]

    img = grass_c * (1 - desert[..., None]) + (_SAND * sand_mod) * desert[..., None]
    img = img * (1 - forest[..., None]) + forest_c * forest[..., None]
    img = img * (1 - rock[..., None]) + _ROCK * rock[..., None]

    # Fields: each parcel gets a crop colour that changes from year to year.
    palette_idx = (geo.parcel_id.astype(np.int64) * 2654435761 + style.crop_seed) % len(_CROPS)
    crop = _CROPS[palette_idx] * (1.0 - 0.35 * d) + _GRASS_DRY * 0.35 * d
    f = geo.fields[..., None]
    img = img * (1 - f) + crop * f

    img *= (1 + 0.08 * t + 0.12 * geo.albedo)[..., None]

    # Hill shading from this year's sun.
    az, el = np.radians(style.sun_azimuth_deg), np.radians(style.sun_elevation_deg)
    light = np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], np.float32)
    nx, ny = -geo.slope_x, geo.slope_y  # image rows grow southwards
    shade = (nx * light[0] + ny * light[1] + light[2]) / np.sqrt(nx * nx + ny * ny + 1.0)
    img *= np.clip(shade / np.sin(el), 0.3, 1.5)[..., None]

    snow = smoothstep(style.snow_line, style.snow_line + 0.08, e + 0.05 * t) * geo.mountains
    img = img * (1 - snow[..., None]) + _SNOW * snow[..., None]

    towns = geo.towns[..., None] * 0.9
    img = img * (1 - towns) + _TOWN * towns
    roads = geo.roads[..., None] * 0.7
    img = img * (1 - roads) + _ROAD * roads

    # Water: sea, lakes (level changes with the year) and rivers.
    sea_depth = style.water_offset - e
    lake = smoothstep(1.4 - 4 * style.water_offset, 1.5 - 4 * style.water_offset, geo.lakeness)
    water = np.clip(np.maximum(np.maximum(smoothstep(-0.002, 0.004, sea_depth), lake), geo.rivers), 0, 1)
    depth = np.clip(sea_depth * 8.0, 0, 1)[..., None]
    water_c = _SHALLOW * (1 - depth) + _DEEP * depth
    water_c = water_c * (1 + 0.03 * t)[..., None]
    img = img * (1 - water[..., None]) + water_c * water[..., None]

    img = img * np.array(style.tint, np.float32) * style.brightness
    img += rng.normal(0, style.noise_sigma, size=img.shape[:2])[..., None].astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
