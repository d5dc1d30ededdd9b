"""Reads the web pages need beyond the API's: map aggregation, first view, date histogram, the review queue.

The map asks for one bbox at one zoom. Zoomed out, footprints are aggregated into a grid of centroid cells
(count + mean position per cell), so the browser gets a few hundred points whatever the archive's size:
without filters from the materialized per-cell counts (``apps.web.mapcells``, milliseconds at a million
footprints), with filters by a ``GROUP BY`` over the matching footprints. Zoomed in, or when few footprints
match, it gets the polygons themselves (at most ``MAP_FEATURE_LIMIT``), as GeoJSON text built by the database.
"""

import hashlib
from dataclasses import dataclass, fields, replace
from datetime import UTC

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Centroid
from django.core.cache import cache
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Func,
    Min,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, TruncMonth

from apps.core.constants import JobKind
from apps.core.models import Job
from apps.core.selectors import job_list
from apps.footprints.cache import footprints_stamp
from apps.footprints.models import Footprint
from apps.footprints.selectors import (
    FOOTPRINT_FEATURE_PROPERTIES,
    AsGeoJSONObject,
    FootprintFilter,
    JsonBuildObject,
    footprints_filtered,
)
from apps.imagery.models import BasemapOverview, Mosaic, SatelliteTile
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from apps.photos.selectors import photos_visible
from apps.web.mapcells import (
    map_aggregates_fresh,
    map_cells_rolled_up,
    map_extent_aggregated,
    map_months_aggregated,
)

__all__ = [
    "MAP_FEATURE_LIMIT",
    "MAP_FEATURE_ZOOM",
    "MapData",
    "basemap_layers",
    "batch_followup_jobs",
    "batch_import_job",
    "map_data",
    "map_date_histogram",
    "map_first_view",
    "map_footprints",
    "review_queue",
]

MAP_FEATURE_ZOOM = 7  # from this zoom on, polygons; below it, cells unless few footprints match
MAP_FEATURE_LIMIT = 1000
CELLS_PER_TILE = 4  # grid cells across one 256-px tile width: a cell is ~64 px
LOW_CONFIDENCE = 0.5
WORLD_CELLS_MAX_ZOOM = 4  # up to here a view spans a continent: serve the cached world grid, clipped
WORLD_CELLS_TTL = 300  # seconds; footprint writes change the key at once, photo edits wait for this


class StX(Func):
    function = "ST_X"
    output_field = FloatField()


class StY(Func):
    function = "ST_Y"
    output_field = FloatField()


@dataclass(frozen=True)
class MapData:
    """What the map draws for one view: ``features`` (GeoJSON text) or ``cells``, and how many matched."""

    mode: str
    total: int
    features: list[str]
    cells: list[dict]
    truncated: bool


def map_footprints(*, user, filters: FootprintFilter, q: str = "") -> QuerySet[Footprint]:
    """Visible current footprints matching the API filters and a free-text ``q`` (photo ID or feature text)."""
    qs = footprints_filtered(user=user, filters=filters)
    q = q.strip()
    if q:
        qs = qs.filter(Q(photo__photo_id__icontains=q) | Q(photo__feature_text__icontains=q))
    return qs


MAP_FEATURE_PROPERTIES = {key: FOOTPRINT_FEATURE_PROPERTIES[key]
                          for key in ("photo_id", "source", "confidence", "datetime")}


def _feature_text():
    """A footprint Feature for the map: only what styling and the popup need, 5 decimals (~1 m); the API's
    full properties are one click away on the photo page."""
    has_thumbnail = Case(When(photo__thumbnail="", then=Value(False)), default=Value(True))
    return Cast(JsonBuildObject(
        type=Value("Feature"),
        id=F("pk"),
        geometry=AsGeoJSONObject("polygon", decimals=5),
        properties=JsonBuildObject(**MAP_FEATURE_PROPERTIES, has_thumbnail=has_thumbnail),
    ), TextField())


def _features(qs: QuerySet[Footprint]) -> list[str]:
    return list(qs.order_by("-confidence", "pk").annotate(feature=_feature_text())
                .values_list("feature", flat=True)[:MAP_FEATURE_LIMIT])


def _grid_cells(qs: QuerySet[Footprint], zoom: int) -> list[dict]:
    """Centroid counts on a grid of ``CELLS_PER_TILE`` cells per 256-px tile width at ``zoom``."""
    cell = 360.0 / (2 ** max(zoom, 0)) / CELLS_PER_TILE
    cx, cy = StX(Centroid("polygon")), StY(Centroid("polygon"))
    rows = (qs.annotate(gx=Floor(cx / cell), gy=Floor(cy / cell)).values("gx", "gy")
            .annotate(n=Count("pk"), lon=Avg(cx), lat=Avg(cy)).order_by())
    return [{"lon": round(c["lon"], 4), "lat": round(c["lat"], 4), "count": c["n"]} for c in rows]


def _audience(user) -> str:
    """Who the cached grid is for: the same key only where ``photos_visible`` gives the same rows."""
    if user is None or not user.is_authenticated:
        return "public"
    return "all" if user.is_staff or user.is_superuser else f"user{user.pk}"


def _cached(kind: str, *, user, parts: tuple, compute, stamp: str | None = None):
    """``compute()`` cached per audience and footprint change stamp (``WORLD_CELLS_TTL`` at most)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"web:{kind}:{_audience(user)}:{stamp or footprints_stamp()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, WORLD_CELLS_TTL)
    return value


def _unfiltered(filters: FootprintFilter, q: str) -> bool:
    """Only a bbox (or nothing): what the materialized aggregates answer."""
    default = FootprintFilter()
    return not q.strip() and all(getattr(filters, f.name) == getattr(default, f.name) or not getattr(filters, f.name)
                                 for f in fields(FootprintFilter) if f.name != "bbox")


def _world_cells(*, user, filters: FootprintFilter, zoom: int, q: str, stamp: str) -> list[dict] | None:
    """The whole world's grid for these filters, cached (None when the filters cannot be cached).

    At the zooms it serves, one view covers a continent or more, and computing the grid costs a scan of every
    matching footprint (seconds at a million); so each filter set is computed once per footprint change
    (``footprints_stamp``) or ``WORLD_CELLS_TTL``, then clipped per view.
    """
    if filters.intersects is not None or filters.point is not None:
        return None
    key_filters = replace(filters, bbox=None)
    return _cached("world-cells", user=user, parts=(key_filters, q.strip().lower(), zoom), stamp=stamp,
                   compute=lambda: _grid_cells(map_footprints(user=user, filters=key_filters, q=q), zoom))


def _in_bbox(cell: dict, bbox: tuple[float, float, float, float] | None) -> bool:
    if bbox is None:
        return True
    west, south, east, north = bbox
    return west <= cell["lon"] <= east and south <= cell["lat"] <= north


def map_data(*, user, filters: FootprintFilter, zoom: int, q: str = "") -> MapData:
    """Polygons when zoomed in or when few match; otherwise centroid counts on a grid sized to the zoom.

    Zoomed out, the grid also gives the total, so a view costs one aggregate query: without filters the
    materialized cells (when fresh); with filters, up to ``WORLD_CELLS_MAX_ZOOM``, the world grid from the
    cache, clipped to the view; otherwise a ``GROUP BY`` over the view's footprints.
    """
    qs = map_footprints(user=user, filters=filters, q=q)
    if zoom >= MAP_FEATURE_ZOOM:
        total = qs.count()
        rows = _features(qs)
        return MapData(mode="features", total=total, features=rows, cells=[], truncated=total > len(rows))
    stamp = footprints_stamp()
    if _unfiltered(filters, q) and map_aggregates_fresh(stamp=stamp):
        cells = map_cells_rolled_up(user=user, zoom=zoom, bbox=filters.bbox)
    else:
        world = (_world_cells(user=user, filters=filters, zoom=zoom, q=q, stamp=stamp)
                 if zoom <= WORLD_CELLS_MAX_ZOOM else None)
        cells = [c for c in world if _in_bbox(c, filters.bbox)] if world is not None else _grid_cells(qs, zoom)
    total = sum(c["count"] for c in cells)
    if total <= MAP_FEATURE_LIMIT // 2:
        return MapData(mode="features", total=qs.count(), features=_features(qs), cells=[], truncated=False)
    return MapData(mode="cells", total=total, features=[], truncated=False, cells=cells)


def map_first_view(*, user) -> dict:
    """Where the map opens: the extent of the current footprints ``user`` may see (``of``: "footprints"),
    else of the imagery ("imagery"), else the world (``bounds`` None)."""
    stamp = footprints_stamp()
    if map_aggregates_fresh(stamp=stamp):
        extent = map_extent_aggregated(user=user)
    else:
        extent = _cached("extent", user=user, parts=(), stamp=stamp, compute=lambda: footprints_filtered(
            user=user, filters=FootprintFilter()).aggregate(extent=Extent("polygon"))["extent"])
    if extent is not None:
        return {"bounds": [round(v, 5) for v in extent], "of": "footprints"}
    layers = basemap_layers()
    if layers:
        bounds = [min(b["bounds"][0] for b in layers), min(b["bounds"][1] for b in layers),
                  max(b["bounds"][2] for b in layers), max(b["bounds"][3] for b in layers)]
        return {"bounds": bounds, "of": "imagery"}
    return {"bounds": None, "of": "world"}


def map_date_histogram(*, user, filters: FootprintFilter, q: str = "") -> list[dict]:
    """Current footprints per capture month (UTC) for the filters except the dates and the bbox: the bars the
    map's date brush selects from. ``[{"month": "2020-07", "count": 3}, ...]``, oldest first."""
    undated = replace(filters, bbox=None, datetime_start=None, datetime_end=None)
    stamp = footprints_stamp()
    if _unfiltered(undated, q) and map_aggregates_fresh(stamp=stamp):
        rows = map_months_aggregated(user=user)
    else:
        def live() -> list[tuple]:
            qs = (map_footprints(user=user, filters=undated, q=q).filter(photo__captured_at__isnull=False)
                  .annotate(month=TruncMonth("photo__captured_at", tzinfo=UTC)).values("month")
                  .annotate(n=Count("pk")).order_by("month"))
            return [(row["month"].date(), row["n"]) for row in qs]
        rows = _cached("months", user=user, parts=(undated, q.strip().lower()), stamp=stamp, compute=live)
    return [{"month": f"{month:%Y-%m}", "count": count} for month, count in rows]


def review_queue(*, user) -> QuerySet[Photo]:
    """Visible photos that need a person: status ``needs_review`` or a current footprint below 0.5 confidence."""
    low = Q(footprints__is_current=True, footprints__confidence__lt=LOW_CONFIDENCE)
    return (photos_visible(user=user).filter(Q(status=PhotoStatus.NEEDS_REVIEW) | low)
            .distinct().order_by("captured_at", "photo_id"))


def batch_import_job(*, user, batch_id: int) -> Job | None:
    """The latest ``import`` job of a batch that the user may see (the upload records it in its parameters)."""
    return (job_list(user=user, kind=JobKind.IMPORT).filter(parameters__batch_id=batch_id)
            .order_by("-created_at").first())


def batch_followup_jobs(*, user, batch) -> list[Job]:
    """The label / localize jobs the import queued for the batch's new photos (``report.next_steps``), those the
    user may see, in the order they were queued."""
    enqueued = ((batch.report or {}).get("next_steps") or {}).get("enqueued_jobs") or {}
    ids = [int(pk) for pk in enqueued.values()]
    return list(job_list(user=user).filter(pk__in=ids).order_by("pk")) if ids else []


def basemap_layers() -> list[dict]:
    """One basemap per imagery year with its coverage (lon/lat bounds) and its coarsest zoom (an overview's,
    0 once ``apps.imagery.overviews`` built them; else the coarsest stored one), so the map asks only for
    tiles that exist (the XYZ endpoint answers 404 outside coverage), and the credits its mosaics'
    providers require. Oldest year first."""
    min_zooms = dict(SatelliteTile.objects.values("year").annotate(z=Min("zoom")).values_list("year", "z"))
    overview_zooms = BasemapOverview.objects.values("year").annotate(z=Min("zoom")).values_list("year", "z")
    for year, z in overview_zooms:
        if year in min_zooms:
            min_zooms[year] = min(min_zooms[year], z)
    years = (Mosaic.objects.filter(bounds__isnull=False).values("year").annotate(extent=Extent("bounds"))
             .order_by("year"))
    attributions: dict[int, list[str]] = {}
    for year, text in (Mosaic.objects.exclude(attribution="").order_by("year", "attribution")
                       .values_list("year", "attribution").distinct()):
        attributions.setdefault(year, []).append(text)
    return [{"year": row["year"], "bounds": [round(v, 6) for v in row["extent"]], "min_zoom": min_zooms[row["year"]],
             "attribution": " | ".join(attributions.get(row["year"], []))}
            for row in years if row["year"] in min_zooms]
