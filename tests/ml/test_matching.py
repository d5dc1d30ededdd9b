"""Matcher, rotations, checks and refinement on an image warped by a known homography."""

import cv2
import numpy as np
import pytest

from ml.geo import tile_bounds_mercator
from ml.matching import CheckConfig, PhotoPrior, check_homography, create_matcher, match_rotations, refine_homography
from ml.matching.base import rotate_image, rotation_homography
from ml.matching.geometry import GeoImage, image_corners, warp_points


def _texture(size=512, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8)
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _photo_of(ref: np.ndarray, H: np.ndarray, size=(240, 160)) -> np.ndarray:
    """The view of ``ref`` whose photo->ref homography is H."""
    return cv2.warpPerspective(ref, H, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


H_TRUE = np.array([[0.9, 0.25, 150.0], [-0.2, 0.85, 170.0], [1e-4, -5e-5, 1.0]])


def _corner_err(H, size=(240, 160)) -> float:
    return float(np.abs(warp_points(H, image_corners(size)) - warp_points(H_TRUE, image_corners(size))).max())


@pytest.fixture(scope="module")
def matcher():
    return create_matcher("sift", max_features=3000)


def test_rotation_homography_matches_numpy_rotation():
    img = np.arange(6 * 4).reshape(4, 6)
    for rot in (90, 180, 270):
        out = rotate_image(img, rot)
        R = rotation_homography(rot, (6, 4))
        p = warp_points(R, np.array([[1.5, 2.5]]))[0]  # centre of pixel (1, 2)
        assert out[int(p[1]), int(p[0])] == img[2, 1]


def test_sift_recovers_a_known_homography_at_every_rotation(matcher):
    ref = _texture()
    photo = _photo_of(ref, H_TRUE)
    for rot in (0, 90, 180, 270):
        query = rotate_image(photo, rot)
        res = match_rotations(matcher, query, ref)
        H = res.homography @ rotation_homography(rot, (240, 160))  # back to the unrotated photo
        assert res.num_inliers >= 50
        assert _corner_err(H) < 2.0


def test_unrelated_images_are_rejected_by_the_checks(matcher):
    res = match_rotations(matcher, _photo_of(_texture(seed=1), H_TRUE), _texture(seed=2))
    verdict = check_homography(res.homography, res.num_inliers, (240, 160), (512, 512), config=CheckConfig())
    assert not verdict.ok and verdict.reason


def test_refinement_improves_a_perturbed_homography(matcher):
    ref = _texture()
    photo = _photo_of(ref, H_TRUE)
    rough = H_TRUE @ np.array([[1.04, 0.02, 6.0], [-0.02, 0.97, -5.0], [0, 0, 1]])
    refined = refine_homography(matcher, photo, ref, rough, iterations=2)
    assert _corner_err(rough) > 8
    assert _corner_err(refined.homography) < 1.5


def test_checks_name_their_reason():
    size, ref_size = (300, 200), (1000, 1000)
    H = np.array([[1.0, 0, 100], [0, 1.0, 100], [0, 0, 1]])
    assert check_homography(H, 5, size, ref_size, config=CheckConfig(min_inliers=10)).reason.startswith("too few")
    mirror = np.array([[-1.0, 0, 500], [0, 1.0, 100], [0, 0, 1]])
    assert "convex" in check_homography(mirror, 99, size, ref_size).reason
    stretched = np.array([[3.0, 0, 100], [0, 0.3, 100], [0, 0, 1]])
    assert "aspect" in check_homography(stretched, 99, size, ref_size, prior=PhotoPrior(tilt_deg=0)).reason
    # Ground checks: 1000 px over a zoom-10 4x4 image (~156 km); the photo covers ~47 km wide.
    ref = GeoImage(np.zeros((1000, 1000, 3), np.uint8), tile_bounds_mercator(10, 600, 440, 4), 10)
    center = ref.pixel_to_lonlat(250, 200)
    ok_prior = PhotoPrior(focal_length_mm=300, altitude_km=400, tilt_deg=0, weak_center=center, uncertainty_km=50)
    assert check_homography(H, 99, size, ref_size, ref=ref, prior=ok_prior).ok
    assert "area" in check_homography(H, 99, size, ref_size, ref=ref,
                                      prior=PhotoPrior(focal_length_mm=1200, altitude_km=400, tilt_deg=0)).reason
    far = PhotoPrior(focal_length_mm=300, altitude_km=400, weak_center=(center[0] + 3, center[1]), uncertainty_km=100)
    assert "weak label" in check_homography(H, 99, size, ref_size, ref=ref, prior=far).reason


def test_unknown_matcher_and_missing_weights_give_actionable_errors():
    with pytest.raises(ValueError, match="choose one of"):
        create_matcher("nope")
    with pytest.raises((ImportError, FileNotFoundError), match=r"kornia|weights"):
        create_matcher("kornia-loftr", weights_path="/nonexistent/loftr.ckpt")


def test_keypoint_cap_grows_with_the_image_so_a_small_footprint_keeps_its_keypoints():
    """A fixed cap spreads its keypoints over the whole mosaic; the density cap keeps them per area."""
    big = _texture(1536, seed=3)  # 2.4 Mpx
    fixed = create_matcher("sift", max_features=300, features_per_mpx=None).extract(big)
    dense = create_matcher("sift", max_features=300, features_per_mpx=2000).extract(big)
    assert len(fixed.keypoints) <= 300
    assert len(dense.keypoints) > 3 * len(fixed.keypoints)
    assert len(dense.keypoints) <= 5000  # 2000 per Mpx x 2.4 Mpx, rounded to thousands
    small = _texture(256, seed=3)  # 0.07 Mpx: the absolute cap is the floor, not the density
    assert len(create_matcher("sift", max_features=300, features_per_mpx=2000).extract(small).keypoints) <= 300


def test_homography_sending_a_corner_towards_infinity_is_rejected():
    """Convex, right aspect on average, but one side 1000 x its opposite: no camera sees the ground so."""
    good = np.float32([[100, 100], [400, 110], [390, 300], [110, 290]])
    bad = np.float32([[100, 100], [900, 100], [400, 300], [399, 300.3]])
    for quad, ok in ((good, True), (bad, False)):
        H = cv2.getPerspectiveTransform(image_corners((300, 200)).astype(np.float32), quad)
        verdict = check_homography(H, 50, (300, 200), (1000, 1000), config=CheckConfig(min_inliers=10))
        assert verdict.ok is ok, verdict.reason
        assert ok or "opposite sides" in verdict.reason


def test_affine_query_views_match_a_foreshortened_photo():
    """A photo squashed 2.2 x along one axis (an oblique or squashed frame): the plain SIFT query loses most
    matches, the pooled affine views (stretch 2 along x and y) get them back, and the homography still maps the
    unstretched photo."""
    ref = _texture(seed=3)
    squash = np.array([[1 / 2.2, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    H = H_TRUE @ np.linalg.inv(squash)  # photo px -> ref px of the squashed photo
    photo = _photo_of(ref, H, size=(110, 160))
    plain = create_matcher("sift", max_features=3000)
    views = create_matcher("sift", max_features=3000, affine_tilts=(2.0,))
    res_plain = plain.match_features(plain.extract_query(photo), plain.extract(ref))
    res_views = views.match_features(views.extract_query(photo), views.extract(ref))
    assert res_views.num_inliers >= 2 * max(res_plain.num_inliers, 10)
    corners = image_corners((110, 160))
    assert np.abs(warp_points(res_views.homography, corners) - warp_points(H, corners)).max() < 3.0


def test_inverted_view_matches_a_contrast_inverted_photo():
    """Water bright in the photo (glint, ice) and dark in the mosaic: only the inverted view matches."""
    ref = _texture(seed=4)
    photo = 255 - _photo_of(ref, H_TRUE)
    plain = create_matcher("sift", max_features=3000)
    inverted = create_matcher("sift", max_features=3000, inverted_view=True)
    assert plain.match_features(plain.extract_query(photo), plain.extract(ref)).num_inliers < 10
    res = inverted.match_features(inverted.extract_query(photo), inverted.extract(ref))
    assert res.num_inliers >= 50 and _corner_err(res.homography) < 2.0


def test_one_to_one_keeps_one_match_per_reference_keypoint():
    ref = _texture(seed=5)
    m = create_matcher("sift", max_features=3000, one_to_one=True, ratio=0.95)
    res = m.match_features(m.extract_query(_photo_of(ref, H_TRUE)), m.extract(ref))
    refs = {tuple(np.round(p, 3)) for p in res.ref_points}
    assert len(refs) == len(res.ref_points) and res.num_inliers >= 50
    with pytest.raises(ValueError, match="affine tilts"):
        create_matcher("sift", affine_tilts=(0.5,))
