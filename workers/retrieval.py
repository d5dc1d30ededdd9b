"""Retrieval for one photo: spatial prior -> candidates -> exact re-rank over rotations.

How the candidate stage is chosen (``tests/benchmarks/retrieval.py`` measures all three): with a spatial
prior (the hand-clicked centre +- its uncertainty, the ISS nadir + the visibility radius of its tilt class,
or a user region) the search space is a share of the database. When PostGIS finds at most
``ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES`` tiles in it, all of them are scored exactly in memory (faster
than any index at that size, and exact); a larger prior goes to one SQL query (pgvector HNSW ordering +
PostGIS filter, iterative scan) for the nearest ``K`` tiles inside it; without a prior, the version's FAISS
index searches every tile. The top ``K`` tiles are scored exactly in float32 over their 4 rotations; the
verification cascade (``workers.verify`` -> ``ml.verification``) takes them from there.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry

from apps.core.geo import bbox_geometry, bbox_polygon
from apps.imagery.selectors import tile_ids_within
from apps.models_registry.models import ROTATIONS, ModelVersion
from apps.models_registry.selectors import tile_embedding_nearest
from apps.photos.models import Photo
from ml.embed import embed_files
from ml.geo import EARTH_RADIUS_KM
from ml.matching.geometry import lonlat_bounds_around
from workers.runtime import LocalizeRuntime

__all__ = [
    "Candidate",
    "Retrieval",
    "SpatialPrior",
    "candidates_as_dicts",
    "photo_image_path",
    "photo_prior",
    "rerank",
    "retrieve",
    "square_around",
    "visibility_radius_km",
]


def visibility_radius_km(altitude_km: float, max_off_nadir_deg: float) -> float:
    """Ground distance from the nadir to where a camera tilted ``max_off_nadir_deg`` points (spherical Earth).

    Capped at the horizon: ~2,260 km from 420 km altitude. A near-vertical photo (<= 30 deg) lies within ~250 km.
    """
    ratio = (EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM
    horizon = math.asin(1.0 / ratio)
    theta = math.radians(max_off_nadir_deg)
    central = math.acos(1.0 / ratio) if theta >= horizon else math.asin(ratio * math.sin(theta)) - theta
    return EARTH_RADIUS_KM * central


@dataclass(frozen=True)
class SpatialPrior:
    """Where the photo's footprint must intersect: a square region around a point, or a user region."""

    kind: str  # "center", "nadir" or "region"
    region: GEOSGeometry  # a polygon, or two across the antimeridian
    center: tuple[float, float] | None = None
    radius_km: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "center": self.center, "radius_km": self.radius_km,
                "bbox": list(self.region.extent)}


def square_around(center: tuple[float, float], radius_km: float) -> GEOSGeometry:
    """The square of half-side ``radius_km`` around ``center``; one crossing the antimeridian wraps around
    (two rectangles, one on either side of lon 180), so tiles on the far side stay candidates."""
    lon0, lat0, lon1, lat1 = lonlat_bounds_around(center, radius_km)
    if lon1 - lon0 >= 360.0:
        return bbox_polygon(-180.0, lat0, 180.0, lat1)
    if lon0 >= -180.0 and lon1 <= 180.0:
        return bbox_polygon(lon0, lat0, lon1, lat1)
    return bbox_geometry(((lon0 + 180.0) % 360.0 - 180.0, lat0, (lon1 + 180.0) % 360.0 - 180.0, lat1))


def photo_prior(
    photo: Photo, *, region: GEOSGeometry | None = None, use_nadir: bool | None = None
) -> SpatialPrior | None:
    """The tightest prior the metadata allows: a user region, else the centre point, else nadir + tilt class."""
    if region is not None:
        return SpatialPrior("region", region)
    margin = 0.0
    altitude = photo.altitude_km or settings.ASTROLOC_LOCALIZE_DEFAULT_ALTITUDE_KM
    if photo.focal_length_mm:
        margin = 0.5 * altitude * 36.0 / photo.focal_length_mm  # half the nadir footprint's long side
    if photo.center_point is not None:
        radius = (photo.center_uncertainty_km or settings.ASTROLOC_LOCALIZE_CENTER_UNCERTAINTY_KM) + margin
        center = (photo.center_point.x, photo.center_point.y)
        return SpatialPrior("center", square_around(center, radius), center, radius)
    use_nadir = settings.ASTROLOC_LOCALIZE_USE_NADIR_PRIOR if use_nadir is None else use_nadir
    if use_nadir and photo.nadir_point is not None:
        max_tilt = settings.ASTROLOC_LOCALIZE_TILT_MAX_DEG.get(photo.tilt_class or "", 90.0)
        if photo.tilt_deg is not None:
            max_tilt = min(max_tilt, photo.tilt_deg + 10.0)
        radius = visibility_radius_km(altitude, max_tilt) + margin
        center = (photo.nadir_point.x, photo.nadir_point.y)
        return SpatialPrior("nadir", square_around(center, radius), center, radius)
    return None


@dataclass(frozen=True)
class Candidate:
    tile_id: int
    rotation: int
    score: float


@dataclass
class Retrieval:
    """Outcome of the candidate + re-rank stages for one photo."""

    prior: SpatialPrior | None
    stage: str  # "exact" (every tile of a small prior), "sql" (pgvector + PostGIS) or "faiss" (no prior)
    candidates: list[Candidate] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def photo_image_path(photo: Photo) -> Path:
    field_file = photo.web_image if photo.web_image else photo.image
    return Path(field_file.path)


def retrieve(
    photo: Photo,
    model_version: ModelVersion,
    runtime: LocalizeRuntime,
    *,
    prior: SpatialPrior | None,
    k: int | None = None,
) -> Retrieval:
    """Embed the photo, generate candidates (exact or SQL under a prior, FAISS without), re-rank exactly."""
    k = k or settings.ASTROLOC_LOCALIZE_CANDIDATES_K
    t0 = time.perf_counter()
    query = embed_files(runtime.model, [photo_image_path(photo)])[0, 0]
    t1 = time.perf_counter()
    exact_max = int(settings.ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES)
    inside = tile_ids_within(region=prior.region, limit=exact_max + 1) if prior is not None and exact_max else []
    if prior is not None and exact_max > 0 and len(inside) <= exact_max:
        stage = "exact"  # every tile of the prior scored exactly: no approximate stage at all
        tile_ids = inside
    elif prior is not None:
        stage = "sql"
        neighbours = tile_embedding_nearest(model_version=model_version, query=query.tolist(),
                                            k=k * len(ROTATIONS), within=prior.region,
                                            ef_search=max(settings.ASTROLOC_LOCALIZE_HNSW_EF_SEARCH, k))
        tile_ids = list(dict.fromkeys(n.tile_id for n in neighbours))[:k]
    else:
        stage = "faiss"
        tile_ids = []
        if runtime.index is not None:
            ids, _ = runtime.index.search(query[None, :], k, rotations=len(ROTATIONS))
            tile_ids = [int(i) for i in ids[0] if i >= 0]
    t2 = time.perf_counter()
    candidates = rerank(query, tile_ids, runtime, limit=k)
    t3 = time.perf_counter()
    return Retrieval(prior, stage, candidates,
                     {"embed": round(t1 - t0, 4), "candidates": round(t2 - t1, 4), "rerank": round(t3 - t2, 4)})


def rerank(query: np.ndarray, tile_ids: list[int], runtime: LocalizeRuntime, limit: int | None = None
           ) -> list[Candidate]:
    """Exact float32 cosine of the query with each candidate tile at its 4 rotations; best rotation wins.

    Returns the best ``limit`` (default all), best first; tiles the version has no descriptors for are skipped.
    """
    known = [t for t in tile_ids if t in runtime.tile_row]
    if not known:
        return []
    rows = np.asarray([runtime.tile_row[t] for t in known])
    scores = np.asarray(runtime.descriptors[rows], dtype=np.float32) @ query.astype(np.float32)  # [K, 4]
    best_rot = scores.argmax(axis=1)
    best = scores.max(axis=1)
    order = np.argsort(-best, kind="stable")[:limit]
    return [Candidate(known[i], ROTATIONS[int(best_rot[i])], float(best[i])) for i in order]


def candidates_as_dicts(candidates: list[Candidate], limit: int) -> list[dict[str, Any]]:
    return [asdict(c) | {"score": round(c.score, 5)} for c in candidates[:limit]]
