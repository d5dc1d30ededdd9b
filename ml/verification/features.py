"""Local features of database images, computed once and read back, and of the photo, computed once per scale.

Why: verifying a candidate used to rebuild a pixel mosaic around it and run the detector on it for every
candidate, zoom, window and rotation (3-6 s per candidate, 99 % of a localization). The features of a stored
database image do not depend on the photo, so they are extracted once per image and matcher (a step of the
``embed`` job on the platform), stored, and a search area's features are the union of its images' features
(``ml.verification.imagery``). The photo's own features depend only on the scale it is matched at, so
:class:`QueryFeatures` extracts each (scale, rotation, view) once per photo, however many candidates it meets.

Features are versioned by :func:`feature_key` (matcher name + options + format), so changing the matcher or
its options never mixes keypoints of two detectors. Only keypoint matchers (``extract`` returns keypoints
and descriptors, e.g. ``OpenCVFeatures``) can be precomputed; detector-free matchers are refused by name.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from ml.geo import Bounds
from ml.matching.base import BaseMatcher, rotate_image

__all__ = [
    "FEATURE_FORMAT",
    "ComputedFeatures",
    "FeatureSource",
    "MissingFeaturesError",
    "QueryFeatures",
    "TileFeatures",
    "TileRecord",
    "decode_features",
    "encode_features",
    "extract_tile_features",
    "feature_key",
    "matcher_features",
    "read_rgb",
    "resized",
]

#: Bumped when the stored layout or the quantisation changes: old rows then no longer match the key.
FEATURE_FORMAT = 1
#: Float descriptors (RootSIFT lies in [0, 1]) are stored as uint8 at this scale: a quarter of the bytes,
#: and a rounding error (<= 0.002 per dimension) far below the distance margins of the ratio test. Bump
#: FEATURE_FORMAT too when a matcher's ``extract`` changes without a change of its options: the key then changes.
DESCRIPTOR_SCALE = 255.0


@dataclass(frozen=True)
class TileRecord:
    """One stored database image: what the Django side hands over for each SatelliteTile row."""

    path: Path
    bounds: Bounds  # lon_min, lat_min, lon_max, lat_max
    zoom: int
    year: int | None = None
    tile_id: str = ""  # e.g. the SatelliteTile primary key, echoed back as the matched tile


@dataclass(frozen=True)
class TileFeatures:
    """Keypoints of one database image in its own pixels, with descriptors in their stored form."""

    keypoints: np.ndarray  # (N, 2) float32, pixel (x, y) of the image, (0, 0) its top-left corner
    descriptors: np.ndarray  # (N, D) uint8 (quantised float descriptors, or binary ones as they are)
    size: tuple[int, int]  # (width, height) of the image the keypoints were found in
    scale: float | None = DESCRIPTOR_SCALE  # descriptor / scale gives the float descriptor; None: binary

    def float_descriptors(self) -> np.ndarray:
        if self.scale is None:
            return self.descriptors
        return self.descriptors.astype(np.float32) / np.float32(self.scale)


class MissingFeaturesError(LookupError):
    """A database image has no stored features for the matcher: the embed job has not described it yet."""


def feature_key(matcher_name: str, options: dict[str, Any] | None = None) -> str:
    """Version string of stored features: matcher name, a hash of its options, the storage format."""
    blob = json.dumps(options or {}, sort_keys=True, default=str).encode()
    return f"{matcher_name}:{hashlib.sha1(blob).hexdigest()[:10]}:f{FEATURE_FORMAT}"


def read_rgb(path: Path) -> np.ndarray:
    """An image file as RGB uint8; a missing or unreadable file raises ValueError naming it."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}: missing or not an image file")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _arrays(features: Any, matcher: BaseMatcher) -> tuple[np.ndarray, np.ndarray | None]:
    kp, desc = getattr(features, "keypoints", None), getattr(features, "descriptors", None)
    if kp is None:
        raise ValueError(f"matcher {matcher.name} has no keypoints to precompute: verification against stored "
                         "features needs a keypoint matcher (sift, orb)")
    return np.asarray(kp, np.float32).reshape(-1, 2), desc


def extract_tile_features(matcher: BaseMatcher, image: np.ndarray) -> TileFeatures:
    """The one place where a database image is described (the embed job and on-the-fly labeling call it)."""
    kp, desc = _arrays(matcher.extract(image), matcher)
    size = (int(image.shape[1]), int(image.shape[0]))
    if desc is None or len(kp) == 0:
        return TileFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8), size)
    if desc.dtype == np.uint8:
        return TileFeatures(kp, desc, size, None)
    # RootSIFT lies in [0, 1]; a matcher with larger float descriptors gets its own scale (stored with them).
    scale = DESCRIPTOR_SCALE / max(1.0, float(np.abs(desc).max()))
    quantised = np.clip(np.rint(desc * scale), 0, 255).astype(np.uint8)
    return TileFeatures(kp, quantised, size, scale)


def encode_features(features: TileFeatures) -> bytes:
    """Bytes for storage (an uncompressed .npz: descriptors do not compress)."""
    buf = io.BytesIO()
    np.savez(buf, keypoints=features.keypoints, descriptors=features.descriptors,
             size=np.asarray(features.size, np.int32),
             scale=np.asarray(-1.0 if features.scale is None else features.scale, np.float32))
    return buf.getvalue()


def decode_features(blob: bytes) -> TileFeatures:
    with np.load(io.BytesIO(bytes(blob))) as data:
        scale = float(data["scale"])
        return TileFeatures(data["keypoints"], data["descriptors"], (int(data["size"][0]), int(data["size"][1])),
                            None if scale < 0 else scale)


def matcher_features(matcher: BaseMatcher, keypoints: np.ndarray, descriptors: np.ndarray) -> Any:
    """Keypoints and float descriptors in the matcher's own feature type (what ``match_features`` takes)."""
    from ml.matching.opencv import OpenCVFeatures

    return OpenCVFeatures(np.ascontiguousarray(keypoints, np.float32),
                          np.ascontiguousarray(descriptors) if len(keypoints) else None)


class FeatureSource(Protocol):
    """Where the features of database images come from: stored rows (localization) or extraction (labeling)."""

    def tile_features(self, records: Sequence[TileRecord]) -> dict[str, TileFeatures]:
        """Features by ``tile_id``; raises MissingFeaturesError (naming the tiles) when some cannot be had."""
        ...


class ComputedFeatures:
    """Features extracted from the image files when asked (LRU-cached): labeling and the evaluation, which run
    before (or without) the embed job. ``stored`` (tile records -> the features it has) is asked first, so stored
    rows are reused where they exist."""

    def __init__(self, matcher: BaseMatcher, *,
                 stored: Callable[[Sequence[TileRecord]], dict[str, TileFeatures]] | None = None,
                 cache_tiles: int = 4096, reader: Callable[[Path], np.ndarray] = read_rgb) -> None:
        self.matcher = matcher
        self.stored = stored
        self.reader = reader
        self._cache: OrderedDict[str, TileFeatures] = OrderedDict()
        self._cache_tiles = cache_tiles

    def tile_features(self, records: Sequence[TileRecord]) -> dict[str, TileFeatures]:
        out = {r.tile_id: self._cache[r.tile_id] for r in records if r.tile_id in self._cache}
        todo = [r for r in records if r.tile_id not in out]
        if todo and self.stored is not None:
            found = self.stored(todo)
            out.update(found)
            todo = [r for r in todo if r.tile_id not in found]
        for r in todo:
            out[r.tile_id] = extract_tile_features(self.matcher, self.reader(r.path))
        for tid in (r.tile_id for r in records):
            self._cache[tid] = out[tid]
            self._cache.move_to_end(tid)
        while len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return out


class QueryFeatures:
    """The photo's features per (view, scale, rotation), extracted once however many areas it is matched to.

    ``image`` is the photo or one of its rectified views; ``view`` names it ("" for the photo itself).
    """

    def __init__(self, matcher: BaseMatcher) -> None:
        self.matcher = matcher
        self._cache: dict[tuple[str, float, int], Any] = {}
        self.seconds = 0.0

    def get(self, image: np.ndarray, scale: float, rotation: int = 0, view: str = "") -> Any:
        key = (view, round(scale, 4), rotation % 360)
        if key not in self._cache:
            t0 = time.perf_counter()
            self._cache[key] = self.matcher.extract_query(rotate_image(resized(image, scale), rotation))
            self.seconds += time.perf_counter() - t0
        return self._cache[key]


def resized(image: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
