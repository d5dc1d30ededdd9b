"""Footprint geometry on constructed homographies: corners, lon/lat, transfer between mosaics, convexity."""

import numpy as np
import pytest

from ml.geo import lonlat_to_mercator, polygon_iou, tile_bounds_mercator
from ml.matching.base import rotation_homography
from ml.matching.geometry import (
    GeoImage,
    expected_ground_size_km,
    footprint_from_homography,
    image_corners,
    is_convex_quad,
    transfer_homography,
    warp_points,
)


def _ref(size=(1000, 800), zoom=10, x=600, y=440):
    bounds = tile_bounds_mercator(zoom, x, y, 4)
    return GeoImage(np.zeros((size[1], size[0], 3), np.uint8), bounds, zoom)


def test_identity_homography_gives_the_reference_corners():
    ref = _ref(size=(400, 400))
    fp = footprint_from_homography(np.eye(3), (400, 400), ref)
    x0, _, _, y1 = ref.bounds_mercator
    expected = [ref.pixel_to_lonlat(c, r) for c, r in [(0, 0), (400, 0), (400, 400), (0, 400)]]
    assert np.allclose(fp, expected)
    lon_tl, lat_tl = fp[0]
    assert np.allclose(lonlat_to_mercator(lon_tl, lat_tl), (x0, y1))  # TL is the north-west corner


def test_scaled_and_shifted_photo_lands_where_constructed():
    ref = _ref()
    H = np.array([[0.5, 0.0, 100.0], [0.0, 0.5, 200.0], [0.0, 0.0, 1.0]])
    fp = footprint_from_homography(H, (384, 256), ref)
    expected = [ref.pixel_to_lonlat(100 + 0.5 * c, 200 + 0.5 * r) for c, r in image_corners((384, 256))]
    assert np.allclose(fp, expected, atol=1e-12)
    assert fp[0][0] < fp[1][0] and fp[1][1] > fp[2][1]  # TL west of TR, TR north of BR


def test_rotated_photo_corners_follow_the_rotation():
    ref = _ref()
    rot = rotation_homography(90, (300, 200))
    H = np.array([[1.0, 0, 50], [0, 1.0, 60], [0, 0, 1]]) @ rot
    fp = footprint_from_homography(H, (300, 200), ref)
    # Rotated 90 deg clockwise: the photo's TL lands at the top-right of its box on the ground.
    tl = ref.lonlat_to_pixel(*fp[0])
    assert np.allclose(tl, (50 + 200, 60), atol=1e-6)


def test_transfer_homography_between_zooms_preserves_the_footprint():
    coarse = _ref(size=(512, 512), zoom=10, x=600, y=440)
    fine = GeoImage(np.zeros((700, 900, 3), np.uint8), tile_bounds_mercator(11, 1201, 881, 3), 11)
    H = np.array([[0.4, 0.05, 120.0], [-0.03, 0.45, 140.0], [1e-5, 2e-5, 1.0]])
    fp_coarse = footprint_from_homography(H, (384, 256), coarse)
    fp_fine = footprint_from_homography(transfer_homography(H, coarse, fine), (384, 256), fine)
    assert np.allclose(fp_coarse, fp_fine, atol=1e-9)
    assert polygon_iou(fp_coarse, fp_fine) > 0.999


def test_convexity_rejects_bowtie_mirror_and_infinite():
    good = image_corners((10, 5))
    assert is_convex_quad(good)
    assert not is_convex_quad(good[[0, 2, 1, 3]])  # self-intersecting
    assert not is_convex_quad(good[[1, 0, 3, 2]])  # mirrored
    assert not is_convex_quad(np.array([[0, 0], [10, 0], [2, 2], [0, 10]]))  # concave
    H_fold = np.array([[1, 0, 0], [0, 1, 0], [-0.2, 0, 1.0]])  # plane folds through infinity at x = 5
    assert not is_convex_quad(warp_points(H_fold, good))


def test_expected_ground_size_follows_altitude_times_sensor_over_focal():
    assert expected_ground_size_km(400, 400, (600, 400)) == pytest.approx((36.0, 24.0))
    assert expected_ground_size_km(400, 400, (400, 600)) == pytest.approx((24.0, 36.0))
    with pytest.raises(ValueError, match="positive"):
        expected_ground_size_km(0, 400, (1, 1))
