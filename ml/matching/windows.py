"""Search windows: cover a weak label's search square with overlapping windows, nearest to the weak centre first.

Why: one mosaic of the whole search square (~650 km) has to be downscaled to stay matchable, and then a long
lens's footprint is a few dozen pixels, while the whole square's keypoints compete with the few on the
footprint in the ratio test. Matching smaller windows at full resolution keeps the footprint large and the
distractors few. Windows overlap by more than a footprint, so every footprint inside the square lies wholly
inside at least one window; the weak label is usually right within ~100 km, so windows are tried nearest
first and the search stops at the first accepted one.
"""

from __future__ import annotations

import math

from ml.geo import Bounds

__all__ = ["axis_starts", "search_windows"]


def axis_starts(lo: float, hi: float, size: float, overlap: float) -> list[float]:
    """Start coordinates of windows of ``size`` covering [lo, hi], neighbours overlapping by >= ``overlap``.

    Windows are spread evenly with the first starting at ``lo`` and the last ending at ``hi``; a single
    window (centred) when ``size`` covers the interval.
    """
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError(f"window size {size} must be positive and larger than the overlap {overlap}")
    span = hi - lo
    if span <= size:
        return [lo + (span - size) / 2]
    n = math.ceil((span - overlap) / (size - overlap))
    n = max(n, 2)
    step = (span - size) / (n - 1)
    return [lo + i * step for i in range(n)]


def search_windows(bounds: Bounds, center: tuple[float, float], size: float, overlap: float) -> list[Bounds]:
    """Square windows of side ``size`` covering ``bounds`` (any linear units, e.g. EPSG:3857 metres).

    Neighbouring windows overlap by at least ``overlap`` (set it above the expected footprint's width), so
    any footprint inside ``bounds`` fits wholly in one window. Sorted by the distance of the window centre
    from ``center`` (the weak label), nearest first.
    """
    x0, y0, x1, y1 = bounds
    windows = [(sx, sy, sx + size, sy + size) for sy in axis_starts(y0, y1, size, overlap)
               for sx in axis_starts(x0, x1, size, overlap)]
    cx, cy = center
    return sorted(windows, key=lambda w: math.hypot((w[0] + w[2]) / 2 - cx, (w[1] + w[3]) / 2 - cy))
