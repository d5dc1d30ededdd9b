"""Search windows cover the search square, overlap by the footprint, and come nearest the weak centre first."""

import math

import numpy as np
import pytest

from ml.matching.windows import axis_starts, search_windows


@pytest.mark.parametrize(("span", "size", "overlap"), [(2800, 1024, 300), (1000, 400, 100), (3000, 1024, 0)])
def test_axis_windows_cover_the_interval_with_the_overlap(span, size, overlap):
    starts = axis_starts(0.0, span, size, overlap)
    assert starts[0] == pytest.approx(0.0) and starts[-1] + size == pytest.approx(span)
    gaps = np.diff(starts)
    assert np.all(size - gaps >= overlap - 1e-9)  # neighbours share at least the overlap


def test_an_interval_smaller_than_a_window_gets_one_centred_window():
    assert axis_starts(10.0, 30.0, 40.0, 5.0) == [0.0]


def test_overlap_must_be_smaller_than_the_window():
    with pytest.raises(ValueError, match="larger than the overlap"):
        axis_starts(0.0, 100.0, 20.0, 20.0)


def test_any_footprint_inside_the_square_fits_wholly_in_one_window():
    bounds, size, footprint = (0.0, 0.0, 2800.0, 2600.0), 1024.0, 250.0
    windows = search_windows(bounds, (1400.0, 1300.0), size, 1.2 * footprint)
    rng = np.random.default_rng(0)
    for x, y in rng.uniform([0, 0], [2800 - footprint, 2600 - footprint], (500, 2)):
        assert any(w[0] <= x and x + footprint <= w[2] and w[1] <= y and y + footprint <= w[3] for w in windows)
    assert all(w[2] - w[0] == pytest.approx(size) and w[3] - w[1] == pytest.approx(size) for w in windows)


def test_windows_are_ordered_by_distance_from_the_weak_centre():
    centre = (500.0, 2400.0)  # near the top-left corner of the square
    windows = search_windows((0.0, 0.0, 2800.0, 2800.0), centre, 1024.0, 300.0)
    dist = [math.hypot((w[0] + w[2]) / 2 - centre[0], (w[1] + w[3]) / 2 - centre[1]) for w in windows]
    assert dist == sorted(dist)
    first = windows[0]
    assert first[0] <= centre[0] <= first[2] and first[1] <= centre[1] <= first[3]
