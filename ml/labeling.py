"""Automated labeling: a weakly labeled photo (centre point +- uncertainty) becomes a footprint, or a reason.

Why: ~300k NASA photos carry only a hand-clicked centre (about +-1 deg). AstroLoc turns them into training
pairs by matching each photo against the satellite database around that point (several zooms, 4 rotations),
refining the homography on the surrounding imagery (EarthMatch), and accepting only geometrically sound
results above a calibrated inlier threshold. This module is the pure part of the ``label`` job: it takes
arrays and tile records, never Django rows, so the worker feeds it from the database and the evaluation
(``python -m ml.labeling_eval``) feeds it from the synthetic Earth.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ml.geo import Bounds, LonLat, bounds_to_polygon, lonlat_to_mercator, mercator_to_lonlat, polygon_iou
from ml.matching.base import BaseMatcher, MatchResult, match_rotations
from ml.matching.calibration import calibrated_min_inliers
from ml.matching.checks import CheckConfig, PhotoPrior, check_homography
from ml.matching.geometry import (
    GeoImage,
    expected_ground_size_km,
    lonlat_bounds_around,
    mercator_bounds,
    transfer_homography,
)
from ml.matching.oblique import oblique_ground_size_km, rectified_views
from ml.matching.refine import refine_homography
from ml.matching.registry import create_matcher
from ml.matching.windows import search_windows

__all__ = [
    "ImageryProvider",
    "LabelConfig",
    "LabelResult",
    "PhotoInput",
    "TileMosaicProvider",
    "TileRecord",
    "default_check_config",
    "expected_ground_width_km",
    "label_photo",
    "search_bounds_mercator",
]


@dataclass(frozen=True)
class PhotoInput:
    """A photo to label: RGB uint8 pixels and the metadata the matching uses."""

    image: np.ndarray
    weak_center: LonLat  # (lon, lat) of the hand-clicked centre
    uncertainty_km: float = 300.0  # search radius around it (+-1 deg at 2.5 sigma ~ 280 km)
    focal_length_mm: float | None = None
    altitude_km: float | None = 410.0
    tilt_deg: float | None = None
    photo_id: str = ""


@dataclass(frozen=True)
class TileRecord:
    """One stored database image: what the Django side hands over for each SatelliteTile row."""

    path: Path
    bounds: Bounds  # lon_min, lat_min, lon_max, lat_max
    zoom: int
    year: int | None = None
    tile_id: str = ""  # e.g. the SatelliteTile primary key, echoed back as the matched tile


class ImageryProvider(Protocol):
    """Source of georeferenced surrounding imagery for a search area."""

    def zooms(self) -> list[int]: ...

    def years(self) -> list[int | None]: ...

    def resolution_m(self, zoom: int) -> float:
        """Web Mercator metres per pixel of a mosaic at ``zoom``."""
        ...

    def mosaic(self, bounds_lonlat: Bounds, zoom: int, year: int | None) -> GeoImage | None:
        """The imagery covering ``bounds_lonlat`` (clipped to what exists), or None if nothing does."""
        ...


class TileMosaicProvider:
    """Assembles a Mercator-linear mosaic from stored database images (TileRecord list).

    Database images of one zoom lie on one XYZ grid, so pasting them at their Mercator offsets gives a
    seamless mosaic. Mosaics larger than ``max_side_px`` are downscaled (matching a 4000 px mosaic buys
    nothing at that zoom). Tile images are cached (LRU, ``cache_tiles`` entries).
    """

    def __init__(self, records: Sequence[TileRecord], *, max_side_px: int = 2048, cache_tiles: int = 512) -> None:
        if not records:
            raise ValueError("no tile records: the provider needs at least one database image")
        self.records = list(records)
        self.max_side_px = max_side_px
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._cache_tiles = cache_tiles
        self._merc = {id(r): mercator_bounds(r.bounds) for r in self.records}
        self._res: dict[int, float] = {}

    @classmethod
    def from_synth(cls, dataset, **kwargs) -> TileMosaicProvider:
        """Provider over a :class:`ml.synth.loader.SynthDataset`'s tiles."""
        return cls([TileRecord(t.path, t.bounds, t.zoom, t.year, f"{t.year}/{t.zoom}/{t.x}_{t.y}")
                    for t in dataset.tiles], **kwargs)

    def zooms(self) -> list[int]:
        return sorted({r.zoom for r in self.records})

    def years(self) -> list[int | None]:
        return sorted({r.year for r in self.records}, key=lambda y: (y is None, -(y or 0)))  # newest first

    def resolution_m(self, zoom: int) -> float:
        if zoom not in self._res:
            rec = next((r for r in self.records if r.zoom == zoom), None)
            if rec is None:
                raise ValueError(f"no database images at zoom {zoom}; available: {self.zooms()}")
            b = self._merc[id(rec)]
            self._res[zoom] = (b[2] - b[0]) / self._read(rec.path).shape[1]
        return self._res[zoom]

    def mosaic(self, bounds_lonlat: Bounds, zoom: int, year: int | None) -> GeoImage | None:
        qx0, qy0, qx1, qy1 = mercator_bounds(bounds_lonlat)
        recs = [r for r in self.records if r.zoom == zoom and r.year == year and _overlaps(self._merc[id(r)],
                                                                                          (qx0, qy0, qx1, qy1))]
        if not recs:
            return None
        res = self.resolution_m(zoom)
        tx0 = min(self._merc[id(r)][0] for r in recs)
        ty1 = max(self._merc[id(r)][3] for r in recs)
        # Snap the requested window to the tiles' pixel grid and clip it to the covered area.
        x0 = tx0 + math.floor((max(qx0, tx0) - tx0) / res) * res
        y1 = ty1 - math.floor((ty1 - min(qy1, ty1)) / res) * res
        x1 = min(qx1, max(self._merc[id(r)][2] for r in recs))
        y0 = max(qy0, min(self._merc[id(r)][1] for r in recs))
        w, h = round((x1 - x0) / res), round((y1 - y0) / res)
        if w < 8 or h < 8:
            return None
        canvas = np.zeros((h, w, 3), np.uint8)
        for r in recs:
            b = self._merc[id(r)]
            img = self._read(r.path)
            c0, r0 = round((b[0] - x0) / res), round((y1 - b[3]) / res)
            tw, th = round((b[2] - b[0]) / res), round((b[3] - b[1]) / res)
            if img.shape[1] != tw or img.shape[0] != th:
                img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
            sx0, sy0 = max(0, -c0), max(0, -r0)
            dx0, dy0 = max(0, c0), max(0, r0)
            cw, ch = min(tw - sx0, w - dx0), min(th - sy0, h - dy0)
            if cw > 0 and ch > 0:
                canvas[dy0:dy0 + ch, dx0:dx0 + cw] = img[sy0:sy0 + ch, sx0:sx0 + cw]
        bounds_m = (x0, y1 - h * res, x0 + w * res, y1)
        scale = self.max_side_px / max(w, h)
        if scale < 1.0:
            canvas = cv2.resize(canvas, (max(1, round(w * scale)), max(1, round(h * scale))),
                                interpolation=cv2.INTER_AREA)
        return GeoImage(canvas, bounds_m, zoom, year, tuple(recs))

    def _read(self, path: Path) -> np.ndarray:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"cannot read database image {path}: missing or not an image file")
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        self._cache[path] = img
        if len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return img


def _overlaps(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def default_check_config(matcher_name: str = "opencv-sift") -> CheckConfig:
    """Check tolerances with the calibrated inlier threshold of ``matcher_name``."""
    return CheckConfig(min_inliers=calibrated_min_inliers(matcher_name))


@dataclass(frozen=True)
class LabelConfig:
    """How hard to search. Defaults are what ``python -m ml.labeling_eval`` reports numbers for."""

    matcher: str = "sift"
    #: Constructor options of the matcher (e.g. ``{"ratio": 0.9}``), as (name, value) pairs (hashable).
    matcher_options: tuple[tuple[str, object], ...] = ()
    rotations: tuple[int, ...] = (0, 90, 180, 270)
    #: Zooms tried (best-suited first) and years tried per zoom before giving up.
    max_zooms: int = 2
    max_years: int = 2
    #: Preferred width (px) of the expected footprint in the search mosaic; picks the zoom order.
    target_footprint_px: float = 320.0
    min_footprint_px: float = 24.0
    #: Query is resized to the mosaic's scale times this factor (clamped), see _query_scale.
    query_oversample: float = 1.5
    max_query_side: int = 768
    #: Inliers needed for a coarse match to be worth refining (the final gate is ``checks.min_inliers``).
    coarse_min_inliers: int = 10
    refine_iterations: int = 3
    #: After acceptance, re-refine on a finer zoom mosaic around the footprint (EarthMatch zoom-in).
    zoom_in: bool = True
    #: Windowed search: when the search square at a zoom is wider than ``window_px`` x 1.25 native pixels, it
    #: is matched as windows of ``window_px`` (nearest the weak centre first, at most ``max_windows``)
    #: overlapping by ``window_overlap`` expected footprints, instead of one downscaled mosaic. 0: off.
    window_px: int = 1024
    window_overlap: float = 1.5
    max_windows: int = 16
    #: Oblique photos (known tilt >= ``rectify_min_tilt_deg``): when the plain query finds nothing, the query
    #: is also matched rectified to nadir (see ml.matching.oblique) for each of these roll directions.
    rectify_min_tilt_deg: float | None = 40.0
    rectify_directions: tuple[float, ...] = (0.0, 22.5, 45.0, 67.5, 90.0, 112.5, 135.0, 157.5)
    checks: CheckConfig | None = None  # None: calibrated defaults

    def check_config(self, matcher_name: str) -> CheckConfig:
        return self.checks or default_check_config(matcher_name)


@dataclass(frozen=True)
class LabelResult:
    """Outcome for one photo. ``accepted`` -> footprint (TL, TR, BR, BL lon/lat) else ``reason``."""

    accepted: bool
    footprint: tuple[LonLat, ...] | None = None
    center: LonLat | None = None
    confidence: float = 0.0
    inliers: int = 0
    matched_tile: TileRecord | None = None
    zoom: int | None = None
    year: int | None = None
    rotation: int | None = None
    reason: str = ""
    homography: np.ndarray | None = None  # photo px -> ``mosaic_bounds`` px (of ``mosaic_size``)
    mosaic_bounds: Bounds | None = None  # EPSG:3857
    mosaic_size: tuple[int, int] | None = None
    attempts: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    #: Rejected only for the inlier threshold (every geometric check passed at the coarse gate): the footprint
    #: it would have given. Lets an evaluation measure the recall of the acceptance threshold.
    candidate: tuple[LonLat, ...] | None = None
    #: How the coarse match was found: "" (the photo as it is) or "rectified <direction> deg" (oblique).
    view: str = ""


def label_photo(
    photo: PhotoInput,
    provider: ImageryProvider,
    *,
    config: LabelConfig | None = None,
    matcher: BaseMatcher | None = None,
) -> LabelResult:
    """Localize one weakly labeled photo; return an accepted footprint or the reason it was not found.

    For the best-suited zooms (expected footprint ~ ``target_footprint_px`` wide) and the newest years:
    mosaic of the search area -> match at 4 rotations -> coarse checks -> EarthMatch refinement ->
    optional refinement on a finer zoom around the footprint -> full checks with the calibrated inlier
    threshold. The first accepted result wins; otherwise the most-inlier attempt's reason is reported.
    """
    start = time.perf_counter()
    cfg = config or LabelConfig()
    matcher = matcher or create_matcher(cfg.matcher, **dict(cfg.matcher_options))
    checks = cfg.check_config(matcher.name)
    prior = PhotoPrior(photo.focal_length_mm, photo.altitude_km, photo.tilt_deg, photo.weak_center,
                       photo.uncertainty_km)
    ground_w = expected_ground_width_km(photo.focal_length_mm, photo.altitude_km, photo.tilt_deg,
                                        (photo.image.shape[1], photo.image.shape[0]))
    margin_km = 0.75 * ground_w if ground_w else 0.0
    search = lonlat_bounds_around(photo.weak_center, photo.uncertainty_km + margin_km)
    lat_cos = math.cos(math.radians(photo.weak_center[1]))

    def footprint_px(zoom: int) -> float | None:
        return None if ground_w is None else ground_w * 1000 / lat_cos / provider.resolution_m(zoom)

    zooms = _zoom_order(provider.zooms(), footprint_px, cfg)
    views = _rectified_views(photo, cfg)
    attempts: list[str] = []
    best_reject: tuple[int, str] = (-1, "no satellite imagery around the weak label")
    candidate = None
    for zoom in zooms[: cfg.max_zooms]:
        windows = _windows(search, photo.weak_center, footprint_px(zoom), provider.resolution_m(zoom), cfg)
        for k, bounds in enumerate(windows):
            for year in provider.years()[: cfg.max_years]:
                mosaic = provider.mosaic(bounds, zoom, year)
                if mosaic is None:
                    continue
                outcome = _attempt(photo, mosaic, provider, matcher, cfg, checks, prior, footprint_px, views)
                window = f" window {k + 1}/{len(windows)}" if len(windows) > 1 else ""
                attempts.append(f"z{zoom} {year}{window}{_footprint_note(footprint_px(zoom), mosaic, provider)}: "
                                + _outcome_note(outcome))
                if outcome.accepted:
                    return replace(outcome, attempts=tuple(attempts), seconds=time.perf_counter() - start)
                if outcome.inliers > best_reject[0]:
                    best_reject = (outcome.inliers, outcome.reason)
                    candidate = outcome.candidate
    return LabelResult(False, inliers=max(best_reject[0], 0), reason=best_reject[1], attempts=tuple(attempts),
                       seconds=time.perf_counter() - start, candidate=candidate)


def _footprint_note(fp: float | None, mosaic: GeoImage, provider: ImageryProvider) -> str:
    return "" if fp is None else f" (footprint ~{fp * mosaic.size[0] / _native_width(mosaic, provider):.0f} px)"


def _outcome_note(outcome: LabelResult) -> str:
    if not outcome.accepted:
        return outcome.reason
    return f"accepted ({outcome.inliers} inliers{', ' + outcome.view if outcome.view else ''})"


def expected_ground_width_km(focal_length_mm: float | None, altitude_km: float | None, tilt_deg: float | None,
                             size: tuple[int, int]) -> float | None:
    """Ground width (km) a photo of ``size`` (w, h) should cover: the oblique rule when the tilt is known (a
    60 deg photo covers ~2.5 x the nadir width), else the nadir one; None without focal length or altitude.
    The search margin, the zoom order and the query scale follow from it; the label job loads tiles with it."""
    if not (focal_length_mm and altitude_km):
        return None
    if tilt_deg:
        try:
            return oblique_ground_size_km(focal_length_mm, altitude_km, tilt_deg, size)[0]
        except ValueError:  # a tilt past the horizon: a metadata error, fall back to the nadir size
            pass
    return expected_ground_size_km(focal_length_mm, altitude_km, size)[0]


def _windows(search: Bounds, center: LonLat, footprint_px: float | None, res_m: float, cfg: LabelConfig
             ) -> list[Bounds]:
    """The search square as one area, or as windows of ``cfg.window_px`` native pixels (nearest first) when
    one mosaic of it would be downscaled and a window still holds a footprint with room around it."""
    x0, y0, x1, y1 = mercator_bounds(search)
    side_px = max(x1 - x0, y1 - y0) / res_m
    if not cfg.window_px or footprint_px is None or side_px <= 1.25 * cfg.window_px:
        return [search]
    overlap_px = cfg.window_overlap * footprint_px
    if overlap_px >= 0.5 * cfg.window_px:
        return [search]
    windows = search_windows((x0, y0, x1, y1), lonlat_to_mercator(*center), cfg.window_px * res_m,
                             overlap_px * res_m)[: cfg.max_windows]
    return [(*mercator_to_lonlat(wx0, wy0), *mercator_to_lonlat(wx1, wy1)) for wx0, wy0, wx1, wy1 in windows]


def _rectified_views(photo: PhotoInput, cfg: LabelConfig) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The photo rectified to nadir per roll direction, or [] when it is not oblique enough for the config."""
    if cfg.rectify_min_tilt_deg is None or photo.tilt_deg is None or photo.tilt_deg < cfg.rectify_min_tilt_deg:
        return []
    return rectified_views(photo.image, photo.focal_length_mm, photo.altitude_km, photo.tilt_deg,
                           cfg.rectify_directions)


def _native_width(mosaic: GeoImage, provider: ImageryProvider) -> float:
    """Width in pixels the mosaic had at its zoom's full resolution (before any downscaling)."""
    return (mosaic.bounds_mercator[2] - mosaic.bounds_mercator[0]) / provider.resolution_m(mosaic.zoom)


def _zoom_order(zooms: list[int], footprint_px, cfg: LabelConfig) -> list[int]:
    """Zooms where the expected footprint is closest to the target width; coarse first without a focal."""
    if footprint_px(zooms[0]) is None:
        return sorted(zooms)
    usable = [z for z in zooms if footprint_px(z) >= cfg.min_footprint_px] or [max(zooms)]
    return sorted(usable, key=lambda z: abs(math.log(footprint_px(z) / cfg.target_footprint_px)))


def _query_scale(photo_w: int, footprint_px: float | None, cfg: LabelConfig, max_side: int) -> float:
    """Scale applied to the photo before matching: near the mosaic's scale (SIFT then sees the same
    detail in both images), never enlarging, at most ``max_query_side``."""
    scale = 1.0 if footprint_px is None else cfg.query_oversample * footprint_px / photo_w
    scale = min(scale, 1.0, cfg.max_query_side / max_side)
    return max(scale, min(1.0, 64.0 / photo_w))


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)


def _attempt(photo, mosaic, provider, matcher, cfg, checks, prior, footprint_px, views=()) -> LabelResult:
    h, w = photo.image.shape[:2]
    # Expected footprint width in this mosaic's pixels (it may have been downscaled from the zoom's).
    fp = None if footprint_px(mosaic.zoom) is None else footprint_px(mosaic.zoom) * mosaic.size[0] / _native_width(
        mosaic, provider)
    scale = _query_scale(w, fp, cfg, max(w, h))
    query = _resized(photo.image, scale)
    S = np.diag([scale, scale, 1.0])
    ref_feats = matcher.extract(mosaic.image)
    coarse = match_rotations(matcher, query, ref_feats, cfg.rotations, ref_extracted=True)
    coarse_cfg = replace(checks, min_inliers=cfg.coarse_min_inliers)
    H = None if coarse.homography is None else coarse.homography @ S  # photo px -> mosaic px
    inliers, rotation, view = coarse.num_inliers, coarse.rotation, ""
    verdict = check_homography(H, inliers, (w, h), mosaic.size, ref=mosaic, prior=prior, config=coarse_cfg)
    if not verdict.ok and views:
        H_r, n_r, direction = _match_rectified(matcher, views, ref_feats, scale, cfg)
        verdict_r = check_homography(H_r, n_r, (w, h), mosaic.size, ref=mosaic, prior=prior, config=coarse_cfg)
        if verdict_r.ok:
            H, inliers, rotation, verdict, view = H_r, n_r, None, verdict_r, f"rectified {direction:g} deg"
        else:
            inliers = max(inliers, n_r)
    if not verdict.ok:
        return LabelResult(False, inliers=inliers, reason=verdict.reason, zoom=mosaic.zoom, year=mosaic.year)
    ref = mosaic
    # EarthMatch refinement works on the photo itself (the crop it warps from the mosaic takes its perspective).
    refined = refine_homography(matcher, query, mosaic.image, H @ np.linalg.inv(S), iterations=cfg.refine_iterations)
    if refined.homography is not None and refined.num_inliers >= inliers:
        H, inliers = refined.homography @ S, refined.num_inliers
    if cfg.zoom_in:
        H, ref, inliers = _zoom_in(photo, H, ref, inliers, verdict.footprint, provider, matcher, cfg, footprint_px)
    final = check_homography(H, inliers, (w, h), ref.size, ref=ref, prior=prior, config=checks)
    if not final.ok:
        loose = check_homography(H, inliers, (w, h), ref.size, ref=ref, prior=prior, config=coarse_cfg)
        return LabelResult(False, inliers=inliers, reason=final.reason, zoom=ref.zoom, year=ref.year,
                           candidate=loose.footprint if loose.ok else None)
    return LabelResult(
        True,
        footprint=final.footprint,
        center=final.center,
        confidence=_confidence(inliers, checks.min_inliers),
        inliers=inliers,
        matched_tile=_matched_tile(final.footprint, ref.tiles),
        zoom=ref.zoom,
        year=ref.year,
        rotation=rotation,
        homography=H,
        mosaic_bounds=ref.bounds_mercator,
        mosaic_size=ref.size,
        view=view,
    )


def _match_rectified(matcher, views, ref_feats, scale: float, cfg: LabelConfig):
    """Best match of the rectified views (one rotation each: SIFT is rotation invariant, the rectification is
    what it lacked); returns (homography photo px -> ref px, inliers, direction) of the most-inlier view."""
    best: tuple[np.ndarray | None, int, float] = (None, 0, 0.0)
    for direction, H_view, image in views:
        s = min(scale, cfg.max_query_side / max(image.shape[:2]))
        res: MatchResult = matcher.match_features(matcher.extract(_resized(image, s)), ref_feats)
        if res.homography is not None and res.num_inliers > best[1]:
            best = (res.homography @ np.diag([s, s, 1.0]) @ H_view, res.num_inliers, direction)
    return best


def _zoom_in(photo, H, ref, inliers, footprint, provider, matcher, cfg, footprint_px):
    """Refine again on the finest zoom that still does not out-resolve the photo, around the footprint."""
    h, w = photo.image.shape[:2]
    finer = [z for z in provider.zooms() if ref.zoom is not None and z > ref.zoom
             and footprint_px(z) is not None and footprint_px(z) <= 1.5 * w]
    if not finer or footprint is None:
        return H, ref, inliers
    zoom = max(finer)
    lons, lats = zip(*footprint, strict=True)
    dlon, dlat = (max(lons) - min(lons)) * 0.5, (max(lats) - min(lats)) * 0.5
    fine = provider.mosaic((min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat), zoom, ref.year)
    if fine is None:
        return H, ref, inliers
    scale = _query_scale(w, footprint_px(zoom), cfg, max(w, h))
    query = _resized(photo.image, scale)
    S = np.diag([scale, scale, 1.0])
    H0 = transfer_homography(H, ref, fine) @ np.linalg.inv(S)
    refined = refine_homography(matcher, query, fine.image, H0, iterations=cfg.refine_iterations)
    if refined.homography is None or refined.num_inliers < inliers:
        return H, ref, inliers
    return refined.homography @ S, fine, refined.num_inliers


def _confidence(inliers: int, threshold: int) -> float:
    """Monotone score in [0.5, 1): 0.5 at the acceptance threshold, approaching 1 with many more inliers."""
    return float(1.0 - 0.5 * math.exp(-(inliers - threshold) / max(threshold, 1)))


def _matched_tile(footprint, tiles) -> TileRecord | None:
    """The database image of the mosaic that overlaps the footprint best (IoU): the Footprint's matched tile."""
    best, best_iou = None, 0.0
    for rec in tiles:
        iou = polygon_iou(footprint, bounds_to_polygon(rec.bounds))
        if iou > best_iou:
            best, best_iou = rec, iou
    return best


def search_bounds_mercator(center: LonLat, radius_km: float) -> Bounds:
    """EPSG:3857 bounds of the search square (for callers selecting tiles in PostGIS)."""
    lon0, lat0, lon1, lat1 = lonlat_bounds_around(center, radius_km)
    x0, y0 = lonlat_to_mercator(lon0, lat0)
    x1, y1 = lonlat_to_mercator(lon1, lat1)
    return (x0, y0, x1, y1)
