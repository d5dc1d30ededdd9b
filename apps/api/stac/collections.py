"""The STAC collections: astronaut photos (one item per localized photo) and satellite mosaics per year.

Each collection says where its items come from (a visibility-filtered queryset), which queryables map to
which database columns (the CQL2 filter and sortby use the same map), and how a row becomes an item.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.gis.db.models import Extent
from django.db.models import CharField, DateTimeField, F, Func, Max, Min, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse

from apps.footprints.constants import FootprintSource
from apps.footprints.selectors import AsGeoJSONObject, footprints_visible
from apps.imagery.selectors import mosaic_list, mosaic_years

__all__ = ["ASTRONAUT_PHOTOS", "STAC_VERSION", "StacCollection", "collection_extent", "collection_get",
           "collections_all"]

STAC_VERSION = "1.0.0"
VIEW_EXT = "https://stac-extensions.github.io/view/v1.0.0/schema.json"
EO_EXT = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
ASTRONAUT_PHOTOS = "astronaut-photos"
MOSAIC_PREFIX = "satellite-mosaics-"
ISS_FIRST_CREW = datetime(2000, 11, 2, tzinfo=UTC)  # before this no astronaut photo from the ISS exists


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _bbox_of(geometry: dict | None) -> list[float] | None:
    if not geometry:
        return None
    xs, ys = [], []
    stack = [geometry["coordinates"]]
    while stack:
        c = stack.pop()
        if c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        else:
            stack.extend(c)
    return [min(xs), min(ys), max(xs), max(ys)]


@dataclass(frozen=True)
class Queryable:
    path: str  # ORM path
    schema: dict[str, Any]
    sortable: bool = True


@dataclass(frozen=True)
class StacCollection:
    id: str
    title: str
    description: str
    queryables: dict[str, Queryable]
    items: Callable[[Any], QuerySet]  # user -> annotated queryset
    columns: list[str]
    to_item: Callable[[dict, Any], dict]  # (row, request) -> item without links
    default_sort: list[tuple[str, bool]] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    year: int | None = None

    def q_fields(self) -> dict[str, str]:
        return {name: q.path for name, q in self.queryables.items()}


NUMBER = {"type": "number"}
STRING = {"type": "string"}
DATETIME = {"type": "string", "format": "date-time", "title": "Acquired"}
GEOMETRY = {"$ref": "https://geojson.org/schema/Geometry.json", "title": "Footprint"}

PHOTO_QUERYABLES: dict[str, Queryable] = {
    "id": Queryable("photo__photo_id", {**STRING, "title": "Mission-roll-frame ID"}),
    "geometry": Queryable("polygon", GEOMETRY, sortable=False),
    "datetime": Queryable("photo__captured_at", DATETIME),
    "eo:cloud_cover": Queryable("photo__cloud_pct", {**NUMBER, "minimum": 0, "maximum": 100}),
    "view:off_nadir": Queryable("photo__tilt_deg", {**NUMBER, "minimum": 0, "maximum": 90}),
    "view:sun_elevation": Queryable("photo__sun_elevation_deg", {**NUMBER, "minimum": -90, "maximum": 90}),
    "view:sun_azimuth": Queryable("photo__sun_azimuth_deg", {**NUMBER, "minimum": 0, "maximum": 360}),
    "astroloc:mission": Queryable("photo__mission", {**STRING, "title": "Mission, e.g. ISS064"}),
    "astroloc:focal_length_mm": Queryable("photo__focal_length_mm", NUMBER),
    "astroloc:altitude_km": Queryable("photo__altitude_km", NUMBER),
    "astroloc:tilt_class": Queryable("photo__tilt_class", {**STRING, "enum": ["NV", "LO", "HO"]}),
    "astroloc:camera": Queryable("photo__camera", STRING),
    "astroloc:source": Queryable("source", {**STRING, "enum": FootprintSource.values}),
    "astroloc:confidence": Queryable("confidence", {**NUMBER, "minimum": 0, "maximum": 1}),
    "astroloc:model_version": Queryable("model_version__name", STRING),
}

MOSAIC_QUERYABLES: dict[str, Queryable] = {
    "id": Queryable("stac_id", STRING),
    "geometry": Queryable("bounds", GEOMETRY, sortable=False),
    "datetime": Queryable("stac_start", DATETIME),
    "astroloc:year": Queryable("year", {"type": "integer"}),
    "astroloc:resolution_m": Queryable("resolution_m", NUMBER),
}


def _photo_items(user) -> QuerySet:
    return (footprints_visible(user=user).filter(is_current=True)
            .annotate(geometry_json=Cast(AsGeoJSONObject("polygon"), CharField())))


PHOTO_COLUMNS = [
    "geometry_json", "photo__photo_id", "photo__mission", "photo__captured_at", "photo__created_at",
    "photo__camera", "photo__focal_length_mm", "photo__altitude_km", "photo__tilt_class", "photo__tilt_deg",
    "photo__cloud_pct", "photo__sun_elevation_deg", "photo__sun_azimuth_deg", "photo__feature_text",
    "photo__nadir_point", "photo__center_point", "photo__image", "photo__web_image", "photo__thumbnail", "source",
    "confidence", "inliers", "model_version__name", "created_at",
]


def _photo_item(row: dict, request) -> dict:
    geometry = json.loads(row["geometry_json"])
    photo_id = row["photo__photo_id"]
    props: dict[str, Any] = {"datetime": _iso(row["photo__captured_at"])}
    if props["datetime"] is None:  # unknown capture time: bounded by the first ISS crew and the import
        props.update(start_datetime=_iso(ISS_FIRST_CREW), end_datetime=_iso(row["photo__created_at"]))
    nadir = row["photo__nadir_point"]
    props.update({
        "title": photo_id,
        "eo:cloud_cover": row["photo__cloud_pct"],
        "view:off_nadir": row["photo__tilt_deg"],
        "view:sun_elevation": row["photo__sun_elevation_deg"],
        "view:sun_azimuth": row["photo__sun_azimuth_deg"],
        "astroloc:mission_roll_frame": photo_id,
        "astroloc:mission": row["photo__mission"],
        "astroloc:camera": row["photo__camera"] or None,
        "astroloc:focal_length_mm": row["photo__focal_length_mm"],
        "astroloc:altitude_km": row["photo__altitude_km"],
        "astroloc:tilt_class": row["photo__tilt_class"] or None,
        "astroloc:nadir": [nadir.x, nadir.y] if nadir is not None else None,
        "astroloc:source": row["source"],
        "astroloc:confidence": row["confidence"],
        "astroloc:inliers": row["inliers"],
        "astroloc:model_version": row["model_version__name"],
        "astroloc:footprint_created": _iso(row["created_at"]),
    })
    props = {k: v for k, v in props.items() if v is not None or k == "datetime"}
    assets = {}
    for key, column, role, title in (("original", "photo__image", "data", "Original photograph"),
                                     ("web", "photo__web_image", "overview", "Web-size image"),
                                     ("thumbnail", "photo__thumbnail", "thumbnail", "Thumbnail")):
        if row[column]:
            href = request.build_absolute_uri(reverse("api:photo-file", kwargs={"photo_id": photo_id, "kind": key}))
            media = "image/tiff" if str(row[column]).lower().endswith((".tif", ".tiff")) else (
                "image/png" if str(row[column]).lower().endswith(".png") else "image/jpeg")
            assets[key] = {"href": href, "type": media, "title": title, "roles": [role]}
    return {"id": photo_id, "geometry": geometry, "bbox": _bbox_of(geometry), "properties": props, "assets": assets}


class MakeTimestamp(Func):
    """Start of a year (UTC) from an integer year column."""

    template = "make_timestamptz(%(expressions)s, 1, 1, 0, 0, 0, 'UTC')"
    output_field = DateTimeField()


def _mosaic_items(year: int) -> Callable[[Any], QuerySet]:
    def items(user) -> QuerySet:
        return (mosaic_list(year=year).filter(bounds__isnull=False)
                .annotate(stac_id=Concat(Value("mosaic-"), Cast(F("pk"), CharField()), output_field=CharField()),
                          stac_start=MakeTimestamp("year"),
                          geometry_json=Cast(AsGeoJSONObject("bounds"), CharField())))
    return items


MOSAIC_COLUMNS = ["geometry_json", "stac_id", "pk", "name", "year", "crs", "resolution_m", "tile_count", "status"]


def _mosaic_item(row: dict, request) -> dict:
    geometry = json.loads(row["geometry_json"])
    year = row["year"]
    tiles = request.build_absolute_uri(reverse("api:tile-list")) + f"?year={year}"
    return {
        "id": row["stac_id"], "geometry": geometry, "bbox": _bbox_of(geometry),
        "properties": {
            "datetime": None, "start_datetime": f"{year}-01-01T00:00:00Z", "end_datetime": f"{year}-12-31T23:59:59Z",
            "title": row["name"], "astroloc:year": year, "astroloc:crs": row["crs"] or None,
            "astroloc:resolution_m": row["resolution_m"], "astroloc:tile_count": row["tile_count"],
            "astroloc:status": row["status"],
        },
        "assets": {"tiles": {"href": tiles, "type": "application/json", "title": "Database tiles of this year",
                             "roles": ["metadata"]}},
    }


PHOTOS_COLLECTION = StacCollection(
    id=ASTRONAUT_PHOTOS,
    title="ISS astronaut photographs",
    description=(
        "Astronaut photographs of Earth from the ISS with their footprints (the quadrilateral each shows on the "
        "ground), found by AstroLoc image retrieval and geometric verification, imported or drawn by hand. "
        "Only localized photos (with a current footprint) are items. Properties with the `astroloc:` prefix: "
        "mission_roll_frame (NASA ID), mission, camera, focal_length_mm, altitude_km (ISS altitude), tilt_class "
        "(NV/LO/HO), nadir ([lon, lat] of the ISS nadir at capture), source (imported, auto_label, retrieval, "
        "manual, or nasa_ml: NASA's machine footprint, a third party's, current only while a photo has none of "
        "ours), confidence (0-1), inliers (geometric verification), model_version (name), footprint_created."
    ),
    queryables=PHOTO_QUERYABLES, items=_photo_items, columns=PHOTO_COLUMNS, to_item=_photo_item,
    default_sort=[("datetime", True)], extensions=[VIEW_EXT, EO_EXT],
)


def _mosaic_collection(year: int) -> StacCollection:
    return StacCollection(
        id=f"{MOSAIC_PREFIX}{year}",
        title=f"Satellite mosaics {year}",
        description=f"Satellite mosaics of {year} from which the retrieval database tiles are cut.",
        queryables=MOSAIC_QUERYABLES, items=_mosaic_items(year), columns=MOSAIC_COLUMNS, to_item=_mosaic_item,
        default_sort=[("id", False)], year=year,
    )


def collections_all() -> list[StacCollection]:
    return [PHOTOS_COLLECTION, *(_mosaic_collection(year) for year in mosaic_years())]


def collection_get(collection_id: str) -> StacCollection | None:
    if collection_id == ASTRONAUT_PHOTOS:
        return PHOTOS_COLLECTION
    if collection_id.startswith(MOSAIC_PREFIX) and collection_id[len(MOSAIC_PREFIX):].isdigit():
        year = int(collection_id[len(MOSAIC_PREFIX):])
        if year in mosaic_years():
            return _mosaic_collection(year)
    return None


def collection_extent(collection: StacCollection, user) -> dict:
    if collection.year is not None:
        box = mosaic_list(year=collection.year).aggregate(e=Extent("bounds"))["e"]
        interval = [f"{collection.year}-01-01T00:00:00Z", f"{collection.year}-12-31T23:59:59Z"]
    else:
        qs = footprints_visible(user=user).filter(is_current=True)
        agg = qs.aggregate(e=Extent("polygon"), start=Min("photo__captured_at"), end=Max("photo__captured_at"))
        box = agg["e"]
        interval = [_iso(agg["start"]), _iso(agg["end"])]
    return {"spatial": {"bbox": [list(box) if box else [-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [interval]}}

