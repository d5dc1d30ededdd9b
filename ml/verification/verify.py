"""Geometric verification of one photo inside search bounds, against precomputed database-image features.

The one verifier of the platform: the ``label`` job (weak label -> bounds) and the ``localize`` job (retrieval
candidate -> bounds, through ``ml.verification.cascade``) both call :func:`verify_photo`. For the best-suited
zooms (expected footprint ~ ``target_footprint_px`` wide) and the allowed years, in windows nearest the
bounds' centre first: the area's stored features (``ml.verification.imagery``) are matched with the photo's
(extracted once per scale, ``QueryFeatures``) at 4 rotations, the homography passes the coarse checks, is
refined on the features inside the footprint (distractors removed, the EarthMatch idea without warping any
pixels), optionally again on a finer zoom around the footprint, and must pass every check with the
calibrated inlier threshold. The first accepted area wins; otherwise the most-inlier attempt's reason is
reported. No database image is read or described here: only their stored features are.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ml.geo import Bounds, LonLat, bounds_to_polygon, lonlat_to_mercator, mercator_to_lonlat, polygon_iou
from ml.matching.base import BaseMatcher, MatchResult, rotation_homography
from ml.matching.calibration import calibrated_min_inliers
from ml.matching.checks import CheckConfig, PhotoPrior, check_homography
from ml.matching.geometry import (
    image_corners,
    is_convex_quad,
    lonlat_bounds_around,
    mercator_bounds,
    transfer_homography,
    warp_points,
)
from ml.matching.oblique import rectified_views
from ml.matching.windows import search_windows
from ml.verification.features import QueryFeatures, TileRecord
from ml.verification.imagery import GeoFeatures, TileImagery
from ml.verification.search import PhotoQuery, SearchBounds

__all__ = ["Verification", "VerifyConfig", "default_check_config", "footprint_px", "match_rotations_cached",
           "query_scale", "verify_photo"]


def default_check_config(matcher_name: str = "opencv-sift") -> CheckConfig:
    """Check tolerances with the calibrated inlier threshold of ``matcher_name``."""
    return CheckConfig(min_inliers=calibrated_min_inliers(matcher_name))


@dataclass(frozen=True)
class VerifyConfig:
    """How hard to search. Defaults are what ``python -m ml.labeling_eval`` reports numbers for."""

    matcher: str = "sift"
    #: Constructor options of the matcher (e.g. ``{"ratio": 0.9}``), as (name, value) pairs (hashable).
    matcher_options: tuple[tuple[str, object], ...] = ()
    rotations: tuple[int, ...] = (0, 90, 180, 270)
    #: Zooms tried (best-suited first) and years tried per zoom before giving up.
    max_zooms: int = 2
    max_years: int = 2
    #: Preferred width (px) of the expected footprint at a zoom's resolution; picks the zoom order.
    target_footprint_px: float = 320.0
    min_footprint_px: float = 24.0
    #: Query is resized to the zoom's scale times this factor (clamped), see _query_scale.
    query_oversample: float = 1.5
    max_query_side: int = 768
    #: Inliers needed for a coarse match to be worth refining (the final gate is ``checks.min_inliers``).
    coarse_min_inliers: int = 10
    refine_iterations: int = 3
    #: Margin around the warped photo (share of its size) whose features stay in the refinement.
    refine_margin: float = 0.15
    #: After acceptance, re-refine on a finer zoom around the footprint (EarthMatch zoom-in).
    zoom_in: bool = True
    #: Windowed search: when the search square at a zoom is wider than ``window_px`` x 1.25 native pixels, it
    #: is matched as windows of ``window_px`` (nearest the bounds' centre first, at most ``max_windows``)
    #: overlapping by ``window_overlap`` expected footprints, instead of all at once. 0: off.
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
class Verification:
    """Outcome for one photo and bounds. ``accepted`` -> footprint (TL, TR, BR, BL lon/lat) else ``reason``."""

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
    homography: np.ndarray | None = None  # photo px -> ``frame_bounds`` px (of ``frame_size``)
    frame_bounds: Bounds | None = None  # EPSG:3857
    frame_size: tuple[int, int] | None = None
    attempts: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    #: Rejected only for the inlier threshold (every geometric check passed at the coarse gate): the footprint
    #: it would have given. Lets an evaluation measure the recall of the acceptance threshold.
    candidate: tuple[LonLat, ...] | None = None
    #: How the coarse match was found: "" (the photo as it is) or "rectified <direction> deg" (oblique).
    view: str = ""
    #: Where the time went: "query" (photo feature extraction), "match" (everything else).
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Search:
    """Per-call state shared by the attempts: the photo, its cached features and the tolerances."""

    photo: PhotoQuery
    imagery: TileImagery
    matcher: BaseMatcher
    cfg: VerifyConfig
    checks: CheckConfig
    prior: PhotoPrior
    query: QueryFeatures
    ground_w: float | None
    lat_cos: float
    views: list[tuple[float, np.ndarray, np.ndarray]]

    def footprint_px(self, zoom: int) -> float | None:
        return footprint_px(self.ground_w, self.lat_cos, self.imagery.resolution_m(zoom))

    def scale(self, zoom: int) -> float:
        w, h = self.photo.size
        return query_scale(w, self.footprint_px(zoom), self.cfg, max(w, h))


def footprint_px(ground_w_km: float | None, lat_cos: float, resolution_m: float) -> float | None:
    """Expected footprint width in pixels of imagery at ``resolution_m`` Mercator metres per pixel."""
    return None if ground_w_km is None else ground_w_km * 1000 / lat_cos / resolution_m


def verify_photo(
    photo: PhotoQuery,
    bounds: SearchBounds,
    imagery: TileImagery,
    *,
    matcher: BaseMatcher,
    config: VerifyConfig | None = None,
    query: QueryFeatures | None = None,
) -> Verification:
    """Verify ``photo`` inside ``bounds``: an accepted footprint, or the reason none was found.

    Pass the same ``query`` for every call on one photo: its features are then extracted once per scale.
    """
    start = time.perf_counter()
    cfg = config or VerifyConfig()
    query = query or QueryFeatures(matcher)
    query_before = query.seconds
    ground_w = photo.ground_width_km()
    search_state = _Search(
        photo, imagery, matcher, cfg, cfg.check_config(matcher.name),
        PhotoPrior(photo.focal_length_mm, photo.altitude_km, photo.tilt_deg, bounds.center, bounds.radius_km),
        query, ground_w, math.cos(math.radians(bounds.center[1])), _rectified_views(photo, cfg))
    margin_km = 0.75 * ground_w if ground_w else 0.0
    search = lonlat_bounds_around(bounds.center, bounds.radius_km + margin_km)
    years = list(bounds.years) if bounds.years is not None else imagery.years()
    zooms = _zoom_order(imagery.zooms(), search_state.footprint_px, cfg)
    attempts: list[str] = []
    best_reject: tuple[int, str] = (-1, f"no satellite imagery around the {bounds.source}")
    candidate = None

    def done(result: Verification) -> Verification:
        total = time.perf_counter() - start
        q = query.seconds - query_before
        return replace(result, attempts=tuple(attempts), seconds=total,
                       timings={"query": round(q, 4), "match": round(total - q, 4)})

    for zoom in zooms[: cfg.max_zooms]:
        fp = search_state.footprint_px(zoom)
        windows = _windows(search, bounds.center, fp, imagery.resolution_m(zoom), cfg)
        for k, area in enumerate(windows):
            for year in years[: cfg.max_years]:
                ref = imagery.features(area, zoom, year)
                if ref is None:
                    continue
                outcome = _attempt(search_state, ref)
                window = f" window {k + 1}/{len(windows)}" if len(windows) > 1 else ""
                note = "" if fp is None else f" (footprint ~{fp:.0f} px)"
                attempts.append(f"z{zoom} {year}{window}{note}: {_outcome_note(outcome)}")
                if outcome.accepted:
                    return done(outcome)
                if outcome.inliers > best_reject[0]:
                    best_reject = (outcome.inliers, outcome.reason)
                    candidate = outcome.candidate
    return done(Verification(False, inliers=max(best_reject[0], 0), reason=best_reject[1], candidate=candidate))


def _outcome_note(outcome: Verification) -> str:
    if not outcome.accepted:
        return outcome.reason
    return f"accepted ({outcome.inliers} inliers{', ' + outcome.view if outcome.view else ''})"


def _windows(search: Bounds, center: LonLat, footprint_px: float | None, res_m: float, cfg: VerifyConfig
             ) -> list[Bounds]:
    """The search square as one area, or as windows of ``cfg.window_px`` native pixels (nearest first) when
    it is much wider than a window and a window still holds a footprint with room around it."""
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


def _rectified_views(photo: PhotoQuery, cfg: VerifyConfig) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The photo rectified to nadir per roll direction, or [] when it is not oblique enough for the config."""
    if cfg.rectify_min_tilt_deg is None or photo.tilt_deg is None or photo.tilt_deg < cfg.rectify_min_tilt_deg:
        return []
    return rectified_views(photo.image, photo.focal_length_mm, photo.altitude_km, photo.tilt_deg,
                           cfg.rectify_directions)


def _zoom_order(zooms: list[int], footprint_px, cfg: VerifyConfig) -> list[int]:
    """Zooms where the expected footprint is closest to the target width; coarse first without a focal."""
    if footprint_px(zooms[0]) is None:
        return sorted(zooms)
    usable = [z for z in zooms if footprint_px(z) >= cfg.min_footprint_px] or [max(zooms)]
    return sorted(usable, key=lambda z: abs(math.log(footprint_px(z) / cfg.target_footprint_px)))


def query_scale(photo_w: int, footprint_px: float | None, cfg: VerifyConfig, max_side: int) -> float:
    """Scale applied to the photo before matching: near the imagery's scale (the detector then sees the same
    detail in both), never enlarging, at most ``max_query_side``."""
    scale = 1.0 if footprint_px is None else cfg.query_oversample * footprint_px / photo_w
    scale = min(scale, 1.0, cfg.max_query_side / max_side)
    return max(scale, min(1.0, 64.0 / photo_w))


def match_rotations_cached(s: _Search, scale: float, ref_features) -> MatchResult:
    """The photo at ``scale`` matched at each rotation against ``ref_features``; the most inliers win, and the
    homography maps the unrotated, scaled photo."""
    w, h = round(s.photo.size[0] * scale), round(s.photo.size[1] * scale)
    best = MatchResult.empty()
    for rotation in s.cfg.rotations:
        res = s.matcher.match_features(s.query.get(s.photo.image, scale, rotation), ref_features)
        if res.num_inliers <= best.num_inliers:
            continue
        rot = rotation_homography(rotation, (w, h))
        best = MatchResult(res.query_points, res.ref_points, res.inlier_mask, res.homography @ rot, rotation,
                           res.extra)
    return best


def _attempt(s: _Search, ref: GeoFeatures) -> Verification:
    w, h = s.photo.size
    scale = s.scale(ref.zoom)
    S = np.diag([scale, scale, 1.0])
    frame = ref.frame()
    coarse = match_rotations_cached(s, scale, ref.features)
    coarse_cfg = replace(s.checks, min_inliers=s.cfg.coarse_min_inliers)
    H = None if coarse.homography is None else coarse.homography @ S  # photo px -> frame px
    inliers, rotation, view = coarse.num_inliers, coarse.rotation, ""
    verdict = check_homography(H, inliers, (w, h), ref.size, ref=frame, prior=s.prior, config=coarse_cfg)
    if not verdict.ok and s.views:
        H_r, n_r, direction = _match_rectified(s, ref, scale)
        verdict_r = check_homography(H_r, n_r, (w, h), ref.size, ref=frame, prior=s.prior, config=coarse_cfg)
        if verdict_r.ok:
            H, inliers, rotation, verdict, view = H_r, n_r, None, verdict_r, f"rectified {direction:g} deg"
        else:
            inliers = max(inliers, n_r)
    if not verdict.ok:
        return Verification(False, inliers=inliers, reason=verdict.reason, zoom=ref.zoom, year=ref.year)
    refined = refine_on_features(s, ref, scale, H @ np.linalg.inv(S))
    if refined.homography is not None and refined.num_inliers >= inliers:
        H, inliers = refined.homography @ S, refined.num_inliers
    if s.cfg.zoom_in:
        H, ref, inliers = _zoom_in(s, H, ref, inliers, verdict.footprint)
        frame = ref.frame()
    final = check_homography(H, inliers, (w, h), ref.size, ref=frame, prior=s.prior, config=s.checks)
    if not final.ok:
        loose = check_homography(H, inliers, (w, h), ref.size, ref=frame, prior=s.prior, config=coarse_cfg)
        return Verification(False, inliers=inliers, reason=final.reason, zoom=ref.zoom, year=ref.year,
                            candidate=loose.footprint if loose.ok else None)
    return Verification(
        True,
        footprint=final.footprint,
        center=final.center,
        confidence=_confidence(inliers, s.checks.min_inliers),
        inliers=inliers,
        matched_tile=_matched_tile(final.footprint, ref.tiles),
        zoom=ref.zoom,
        year=ref.year,
        rotation=rotation,
        homography=H,
        frame_bounds=ref.bounds_mercator,
        frame_size=ref.size,
        view=view,
    )


def _match_rectified(s: _Search, ref: GeoFeatures, scale: float):
    """Best match of the rectified views (one rotation each: the detector is rotation invariant, the
    rectification is what it lacked); (homography photo px -> frame px, inliers, direction) of the best."""
    best: tuple[np.ndarray | None, int, float] = (None, 0, 0.0)
    for direction, H_view, image in s.views:
        sc = min(scale, s.cfg.max_query_side / max(image.shape[:2]))
        res = s.matcher.match_features(s.query.get(image, sc, 0, f"rectified {direction:g}"), ref.features)
        if res.homography is not None and res.num_inliers > best[1]:
            best = (res.homography @ np.diag([sc, sc, 1.0]) @ H_view, res.num_inliers, direction)
    return best


def refine_on_features(s: _Search, ref: GeoFeatures, scale: float, H: np.ndarray) -> MatchResult:
    """Refine the scaled-photo -> frame homography ``H`` by matching against the features inside the warped
    photo (plus ``refine_margin``) only: the rest of the area no longer competes in the ratio test, so more
    of the footprint's correspondences survive. Each iteration restricts to the previous estimate; the most
    inliers win; an estimate that stops being a convex quad ends the loop."""
    w, h = round(s.photo.size[0] * scale), round(s.photo.size[1] * scale)
    m = s.cfg.refine_margin
    grown = np.array([[-m * w, -m * h], [(1 + m) * w, -m * h], [(1 + m) * w, (1 + m) * h], [-m * w, (1 + m) * h]])
    feats = s.query.get(s.photo.image, scale, 0)
    best = MatchResult.empty()
    current = np.asarray(H, np.float64)
    for it in range(s.cfg.refine_iterations):
        polygon = warp_points(current, grown)
        if not is_convex_quad(polygon):
            break
        res = s.matcher.match_features(feats, ref.within(s.matcher, polygon))
        if res.homography is None or not is_convex_quad(warp_points(res.homography, image_corners((w, h)))):
            break
        if res.num_inliers > best.num_inliers:
            best = MatchResult(res.query_points, res.ref_points, res.inlier_mask, res.homography, 0,
                               {"iteration": it + 1})
        current = res.homography
    return best


def _zoom_in(s: _Search, H, ref: GeoFeatures, inliers: int, footprint):
    """Refine again on the finest zoom that still does not out-resolve the photo, around the footprint."""
    w, _ = s.photo.size
    finer = [z for z in s.imagery.zooms() if z > ref.zoom and s.footprint_px(z) is not None
             and s.footprint_px(z) <= 1.5 * w]
    if not finer or footprint is None:
        return H, ref, inliers
    zoom = max(finer)
    lons, lats = zip(*footprint, strict=True)
    dlon, dlat = (max(lons) - min(lons)) * 0.5, (max(lats) - min(lats)) * 0.5
    fine = s.imagery.features((min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat), zoom,
                              ref.year)
    if fine is None:
        return H, ref, inliers
    scale = s.scale(zoom)
    S = np.diag([scale, scale, 1.0])
    H0 = _transfer(H, ref, fine) @ np.linalg.inv(S)
    refined = refine_on_features(s, fine, scale, H0)
    if refined.homography is None or refined.num_inliers < inliers:
        return H, ref, inliers
    return refined.homography @ S, fine, refined.num_inliers


def _transfer(H: np.ndarray, src: GeoFeatures, dst: GeoFeatures) -> np.ndarray:
    """A photo -> ``src`` frame homography re-expressed in ``dst`` frame pixels (both Mercator-linear)."""
    return transfer_homography(H, src.frame(), dst.frame())


def _confidence(inliers: int, threshold: int) -> float:
    """Monotone score in [0.5, 1): 0.5 at the acceptance threshold, approaching 1 with many more inliers."""
    return float(1.0 - 0.5 * math.exp(-(inliers - threshold) / max(threshold, 1)))


def _matched_tile(footprint, tiles) -> TileRecord | None:
    """The database image of the area that overlaps the footprint best (IoU): the Footprint's matched tile."""
    best, best_iou = None, 0.0
    for rec in tiles:
        iou = polygon_iou(footprint, bounds_to_polygon(rec.bounds))
        if iou > best_iou:
            best, best_iou = rec, iou
    return best
