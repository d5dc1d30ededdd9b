"""ml.verification on the constructed world of test_labeling: stored features round-trip, the union of
overlapping database images keeps each point once, and the cascade finds the right candidate among wrong ones."""

import numpy as np
import pytest

from ml.geo import polygon_iou
from ml.matching.checks import CheckConfig
from ml.verification import (
    CascadeConfig,
    PhotoQuery,
    SearchBounds,
    VerifyConfig,
    decode_features,
    encode_features,
    extract_tile_features,
    feature_key,
    verify_candidates,
)
from tests.ml.test_labeling import H, _input, _photo, world  # noqa: F401  (world is a fixture)

CONFIG = VerifyConfig(checks=CheckConfig(min_inliers=25), zoom_in=False, max_years=1)


def test_stored_features_round_trip_and_are_versioned(world):  # noqa: F811
    imagery, geo = world
    features = extract_tile_features(imagery.matcher, geo.image[:256, :256])
    back = decode_features(encode_features(features))
    assert np.array_equal(back.keypoints, features.keypoints) and back.size == (256, 256)
    assert np.abs(back.float_descriptors() - features.float_descriptors()).max() < 1e-6
    assert len(features.keypoints) > 50 and features.descriptors.dtype == np.uint8
    assert feature_key("sift") != feature_key("sift", {"ratio": 0.9}) != feature_key("orb")


def test_overlapping_images_contribute_each_point_once(world):  # noqa: F811
    imagery, _ = world
    rec = imagery.records[len(imagery.records) // 2]
    area = imagery.features(rec.bounds, rec.zoom, rec.year)
    assert len(area.tiles) > 1, "database images of the world overlap (span 4, stride 2)"
    # SIFT gives one point several orientations (same place, other descriptor); two images give the same pair.
    seen = {(round(float(x), 1), round(float(y), 1), d.tobytes()) for (x, y), d in
            zip(area.keypoints, np.rint(area.descriptors * 255).astype(np.uint8), strict=True)}
    assert len(seen) == len(area.keypoints)
    alone = imagery.source.tile_features([rec])[rec.tile_id]
    assert len(area.keypoints) > len(alone.keypoints)


def _ranked(imagery, truth, wrong_first: int):
    right = [r for r in imagery.records if polygon_iou(truth, _box(r.bounds)) > 0.05]
    wrong = [r for r in imagery.records if polygon_iou(truth, _box(r.bounds)) == 0.0]
    return wrong[:wrong_first] + right[:1]


def _box(b):
    return ((b[0], b[3]), (b[2], b[3]), (b[2], b[1]), (b[0], b[1]))


def test_cascade_verifies_the_right_candidate_behind_wrong_ones(world):  # noqa: F811
    imagery, geo = world
    inp, truth = _input(geo, _photo(geo, H))
    photo = PhotoQuery(inp.image, inp.focal_length_mm, inp.altitude_km, inp.tilt_deg)
    ranked = _ranked(imagery, truth, wrong_first=4)

    result = verify_candidates(photo, ranked, imagery, matcher=imagery.matcher, config=CONFIG,
                               cascade=CascadeConfig(budget_candidates=10, budget_seconds=60, cheap_min_inliers=8))

    assert result.best is not None and result.best[0] == 4
    assert polygon_iou(result.best[1].footprint, truth) > 0.9
    cheap = {o.rank: o.cheap_inliers for o in result.outcomes}
    assert cheap[4] > max(cheap[r] for r in range(4)), cheap
    assert all(o.verification is None for o in result.outcomes if o.rank < 4), "wrong ones stop at the cheap test"


def test_cascade_within_a_budget_that_misses_the_right_candidate_publishes_nothing(world):  # noqa: F811
    imagery, geo = world
    inp, truth = _input(geo, _photo(geo, H))
    photo = PhotoQuery(inp.image, inp.focal_length_mm, inp.altitude_km, inp.tilt_deg)
    ranked = _ranked(imagery, truth, wrong_first=4)

    for cheap in (8, None):  # with and without the cheap test
        result = verify_candidates(photo, ranked, imagery, matcher=imagery.matcher, config=CONFIG,
                                   cascade=CascadeConfig(budget_candidates=3, cheap_min_inliers=cheap))
        assert result.best is None and len(result.outcomes) == 3
        assert result.reason()


def test_candidate_bounds_reach_as_far_as_a_footprint_meeting_the_image():
    image = (30.0, 20.0, 30.7, 20.7)  # ~78 km, a zoom 11 database image
    plain = SearchBounds.around_tile(image, 2020, "t")
    wide = SearchBounds.around_tile(image, 2020, "t", footprint_reach_km=180.0)
    assert plain.years == (2020,) and plain.radius_km == pytest.approx(2 * 0.5 * 103.5, rel=0.05)
    assert wide.radius_km == pytest.approx(plain.radius_km / 2 + 180.0, rel=1e-6)
    assert SearchBounds.around_tile(image, 2020, "t", footprint_reach_km=5.0).radius_km == plain.radius_km
    photo = PhotoQuery(np.zeros((200, 300, 3), np.uint8), 50.0, 400.0, 0.0)
    assert photo.reach_km() == pytest.approx(0.5 * 288.0 * np.hypot(1, 2 / 3), rel=1e-3)
