"""label_photo (-> ml.verification) end to end on a constructed, georeferenced world: right place accepted, wrong
place rejected, features of the database images extracted once."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from ml.geo import grid_cells, polygon_iou, tile_bounds_mercator, tile_size_m
from ml.labeling import PhotoInput, label_photo
from ml.matching.checks import CheckConfig
from ml.matching.geometry import GeoImage, footprint_from_homography, warp_points
from ml.matching.oblique import incidence_deg, oblique_ground_size_km, tilt_rectification
from ml.matching.registry import create_matcher
from ml.verification import ComputedFeatures, TileImagery, TileRecord, VerifyConfig

ZOOM, SPAN, TILE_PX = 10, 4, 256
REGION = (30.0, 20.0, 31.6, 21.5)


def _world(seed: int, shape) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (shape[0] // 6, shape[1] // 6, 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), (3, 3), 0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Database images cut from one random-texture world; returns (provider, world GeoImage)."""
    cells = grid_cells(REGION, ZOOM, SPAN)
    x0 = min(c.x for c in cells)
    y0 = min(c.y for c in cells)
    nx = max(c.x for c in cells) - x0 + SPAN
    ny = max(c.y for c in cells) - y0 + SPAN
    px = TILE_PX // SPAN
    image = _world(0, (ny * px, nx * px))
    left, _, _, top = tile_bounds_mercator(ZOOM, x0, y0)
    size = tile_size_m(ZOOM)
    geo = GeoImage(image, (left, top - ny * size, left + nx * size, top), ZOOM)
    root: Path = tmp_path_factory.mktemp("world")
    records = []
    for c in cells:
        crop = image[(c.y - y0) * px:(c.y - y0 + SPAN) * px, (c.x - x0) * px:(c.x - x0 + SPAN) * px]
        path = root / f"{c.x}_{c.y}.png"
        cv2.imwrite(str(path), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        records.append(TileRecord(path, c.bounds_lonlat, ZOOM, 2020, f"{c.x}_{c.y}"))
    matcher = create_matcher("sift")
    return TileImagery(records, ComputedFeatures(matcher), matcher), geo


def _photo(geo: GeoImage, H: np.ndarray, size=(300, 200)) -> np.ndarray:
    return cv2.warpPerspective(geo.image, H, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


H = np.array([[0.0, -0.8, 700.0], [0.8, 0.0, 400.0], [0.0, 0.0, 1.0]])  # rotated 90 deg, 240 x 160 px
CONFIG = VerifyConfig(checks=CheckConfig(min_inliers=25), zoom_in=False)


def _input(geo, image, weak_offset_deg=(0.3, -0.2)):
    truth = footprint_from_homography(H, (300, 200), geo)
    center = geo.pixel_to_lonlat(*(H @ [150, 100, 1])[:2])
    km_per_px = geo.km_per_px()
    focal = 400 * 36 / (240 * km_per_px)  # the constructed ground width
    weak = (center[0] + weak_offset_deg[0], center[1] + weak_offset_deg[1])
    return PhotoInput(image, weak, 150.0, focal, 400.0, 0.0, "TEST-E-1"), truth


def test_right_place_gets_an_accurate_footprint(world):
    provider, geo = world
    inp, truth = _input(geo, _photo(geo, H))
    result = label_photo(inp, provider, config=CONFIG)
    assert result.accepted, result.reason
    assert polygon_iou(result.footprint, truth) > 0.9
    assert result.inliers >= 25 and 0.5 <= result.confidence < 1.0
    assert result.matched_tile is not None and result.rotation in (90, 270, 0, 180)


def test_photo_of_elsewhere_is_rejected_with_a_reason(world):
    provider, geo = world
    other = GeoImage(_world(99, geo.image.shape[:2]), geo.bounds_mercator, ZOOM)
    inp, _ = _input(geo, _photo(other, H))
    result = label_photo(inp, provider, config=CONFIG)
    assert not result.accepted
    assert result.reason and result.footprint is None


def test_weak_label_outside_the_imagery_is_rejected(world):
    provider, geo = world
    inp, _ = _input(geo, _photo(geo, H), weak_offset_deg=(20.0, 0.0))
    result = label_photo(inp, provider, config=CONFIG)
    assert not result.accepted and "imagery" in result.reason


def test_right_place_held_back_by_the_threshold_reports_its_candidate(world):
    """What the evaluation needs for the recall of acceptance: the footprint a rejected result would have given."""
    provider, geo = world
    inp, truth = _input(geo, _photo(geo, H))
    result = label_photo(inp, provider, config=VerifyConfig(checks=CheckConfig(min_inliers=100_000), zoom_in=False))
    assert not result.accepted and result.reason.startswith("too few inliers")
    assert result.footprint is None and polygon_iou(result.candidate, truth) > 0.9
    assert result.attempts and "footprint ~" in result.attempts[0]


def test_windowed_search_finds_the_photo_in_a_window_near_the_weak_centre(world):
    provider, geo = world
    inp, truth = _input(geo, _photo(geo, H))
    config = VerifyConfig(checks=CheckConfig(min_inliers=25), zoom_in=False, window_px=640, window_overlap=1.1)
    result = label_photo(inp, provider, config=config)
    assert result.accepted, result.attempts
    assert polygon_iou(result.footprint, truth) > 0.9
    assert "window 1/" in result.attempts[0]


def _oblique_input(geo, tilt=55.0, direction=45.0, altitude=400.0):
    """A photo whose rectification (at ``direction``) is a rotated, scaled view of the world: an oblique photo."""
    size = (300, 200)
    inc = incidence_deg(altitude, tilt)
    _, rect_size = tilt_rectification(size, 100.0, inc, direction)  # the view's size, to place it in the world
    view = np.array([[0.0, -0.8, 400.0 + 0.8 * rect_size[1]], [0.8, 0.0, 400.0], [0.0, 0.0, 1.0]])  # view -> world
    width_km = 0.8 * rect_size[0] * geo.km_per_px()
    focal = 100.0 * oblique_ground_size_km(100.0, altitude, tilt, size)[0] / width_km  # sizes are ~ 1 / focal
    rect, _ = tilt_rectification(size, focal, inc, direction)
    H_photo = view @ rect
    image = cv2.warpPerspective(geo.image, H_photo, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    truth = footprint_from_homography(H_photo, size, geo)
    center = geo.pixel_to_lonlat(*warp_points(H_photo, np.array([[150.0, 100.0]]))[0])
    weak = (center[0] + 0.3, center[1] - 0.2)
    return PhotoInput(image, weak, 150.0, focal, altitude, tilt, "TEST-E-2"), truth


def test_oblique_photo_is_found_through_its_rectified_view(world):
    provider, geo = world
    inp, truth = _oblique_input(geo)
    config = VerifyConfig(checks=CheckConfig(min_inliers=25), zoom_in=False, rectify_min_tilt_deg=40.0)
    result = label_photo(inp, provider, config=config)
    assert result.accepted, result.attempts
    assert result.view.startswith("rectified") and polygon_iou(result.footprint, truth) > 0.8
