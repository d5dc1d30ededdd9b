"""Oblique geometry against the synthetic ISS camera: ground size, and rectification to a nadir view."""

import numpy as np
import pytest

from ml.geo import destination_point, polygon_area_km2
from ml.matching.geometry import expected_ground_size_km, image_corners, warp_points
from ml.matching.oblique import incidence_deg, oblique_ground_size_km, slant_range_km, tilt_rectification
from ml.synth.camera import footprint, lonlat_to_pixels, pose_looking_at

SIZE, FOCAL, ALT = (480, 320), 400.0, 410.0
CENTRE = (35.0, 22.0)


def _pose(tilt, roll):
    return pose_looking_at(CENTRE, altitude_km=ALT, tilt_deg=tilt, look_azimuth_deg=70.0, roll_deg=roll,
                           focal_length_mm=FOCAL, size_px=SIZE)


def _ground_grid(half_km=15.0, n=7):
    """Points around the photo centre: lon/lat and local (east, -north) km, image-like axes."""
    lonlat, local = [], []
    for dx in np.linspace(-half_km, half_km, n):
        for dy in np.linspace(-half_km, half_km, n):
            lon, lat = destination_point(*destination_point(*CENTRE, 90.0, dx), 0.0, dy)
            lonlat.append((lon, lat))
            local.append((dx, -dy))
    return np.array(lonlat), np.array(local)


def _similarity_residual(src: np.ndarray, dst: np.ndarray) -> float:
    """Relative residual of the best rotation + scale + translation mapping src to dst (no reflection)."""
    a = src[:, 0] + 1j * src[:, 1]
    b = dst[:, 0] + 1j * dst[:, 1]
    a, b = a - a.mean(), b - b.mean()
    s = np.vdot(a, b) / np.vdot(a, a)
    return float(np.linalg.norm(b - s * a) / np.linalg.norm(b))


def test_oblique_size_is_the_nadir_rule_at_nadir_and_matches_the_camera_area_when_tilted():
    assert oblique_ground_size_km(FOCAL, ALT, 0.0, SIZE) == pytest.approx(expected_ground_size_km(FOCAL, ALT, SIZE))
    assert slant_range_km(ALT, 0.0) == pytest.approx(ALT)
    for tilt in (30.0, 50.0, 60.0):
        w, h = oblique_ground_size_km(FOCAL, ALT, tilt, SIZE)
        assert w * h == pytest.approx(polygon_area_km2(footprint(_pose(tilt, 0.0))), rel=0.03)


@pytest.mark.parametrize(("tilt", "roll"), [(30.0, 0.0), (50.0, 37.0), (60.0, 200.0), (55.0, 290.0)])
def test_rectification_turns_the_oblique_view_into_a_similarity_of_the_ground(tilt, roll):
    pose = _pose(tilt, roll)
    lonlat, local = _ground_grid()
    u, v, visible = lonlat_to_pixels(pose, lonlat[:, 0], lonlat[:, 1])
    assert visible.all()
    pixels = np.stack([u, v], axis=1)
    assert _similarity_residual(local, pixels) > 0.05  # the raw photo is foreshortened
    H, size = tilt_rectification(SIZE, FOCAL, incidence_deg(ALT, tilt), roll)
    assert _similarity_residual(local, warp_points(H, pixels)) < 0.005
    corners = warp_points(H, image_corners(SIZE))  # the output frame holds the whole rectified photo
    assert np.all(corners >= -1e-6) and np.all(corners <= np.array(size) + 1e-6)


def test_composing_a_match_on_the_rectified_view_gives_the_photo_homography():
    """What label_photo does: H_photo = H_view_match @ H_rectify maps photo corners where the view's corners go."""
    H_rect, _ = tilt_rectification(SIZE, FOCAL, incidence_deg(ALT, 50.0), 90.0)
    H_view = np.array([[0.4, -0.1, 300.0], [0.1, 0.4, 200.0], [0.0, 0.0, 1.0]])  # some match on the view
    corners = image_corners(SIZE)
    direct = warp_points(H_view @ H_rect, corners)
    assert np.allclose(direct, warp_points(H_view, warp_points(H_rect, corners)))


def test_a_view_past_the_horizon_cannot_be_rectified():
    assert tilt_rectification(SIZE, 50.0, 89.0, 0.0) is None  # wide lens at grazing incidence
    with pytest.raises(ValueError, match="misses the Earth"):
        incidence_deg(ALT, 80.0)
