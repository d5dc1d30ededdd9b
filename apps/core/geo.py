"""The one place where (lon, lat) tuples become GEOS geometries and back (SRID 4326).

GeoJSON and PostGIS order coordinates (lon, lat); every function here takes and returns that order, so a
(lat, lon) pair can only enter through a parser that names it.
"""

import json
from collections.abc import Sequence

from django.contrib.gis.geos import GeometryCollection, GEOSGeometry, Point, Polygon

__all__ = [
    "WGS84",
    "bbox_geometry",
    "bbox_polygon",
    "geometry_from_geojson",
    "geometry_from_wkt",
    "lonlat_point",
    "point_lonlat",
    "polygon_corners",
    "polygon_from_corners",
    "validate_lonlat",
]

WGS84 = 4326
LonLat = tuple[float, float]


def validate_lonlat(lon: float, lat: float) -> LonLat:
    """Return (lon, lat) as floats, or raise ValueError naming the bad value."""
    lon, lat = float(lon), float(lat)
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside [-90, 90]")
    return lon, lat


def lonlat_point(lon: float, lat: float) -> Point:
    lon, lat = validate_lonlat(lon, lat)
    return Point(lon, lat, srid=WGS84)


def point_lonlat(point: Point) -> LonLat:
    return (point.x, point.y)


def polygon_from_corners(corners: Sequence[Sequence[float]]) -> Polygon:
    """A polygon from its corners in (lon, lat) order (closed automatically), e.g. a footprint's four."""
    if len(corners) < 3:
        raise ValueError(f"a polygon needs at least 3 corners, got {len(corners)}")
    ring = [validate_lonlat(c[0], c[1]) for c in corners]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    polygon = Polygon(ring, srid=WGS84)
    if not polygon.valid:
        raise ValueError(f"polygon is not valid ({polygon.valid_reason}): {ring}")
    return polygon


def polygon_corners(polygon: Polygon) -> list[LonLat]:
    """The exterior ring's corners, (lon, lat), without the closing repeat."""
    return [(x, y) for x, y in polygon.exterior_ring.coords[:-1]]


def bbox_polygon(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> Polygon:
    if lon_min >= lon_max or lat_min >= lat_max:
        raise ValueError(f"empty bbox ({lon_min}, {lat_min}, {lon_max}, {lat_max})")
    return polygon_from_corners(
        [(lon_min, lat_min), (lon_max, lat_min), (lon_max, lat_max), (lon_min, lat_max)]
    )


GEOJSON_GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def _check_positions(coords, depth: int) -> None:
    if depth == 0:
        if not isinstance(coords, list | tuple) or len(coords) < 2 or not all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2]
        ):
            raise ValueError(f"a position must be [lon, lat], got {coords!r:.80}")
        validate_lonlat(coords[0], coords[1])
        return
    if not isinstance(coords, list | tuple) or not coords:
        raise ValueError("coordinates must be non-empty nested arrays")
    for c in coords:
        _check_positions(c, depth - 1)


def geometry_from_geojson(obj: object) -> GEOSGeometry:
    """A GeoJSON geometry object (dict, lon/lat) as a valid GEOS geometry, or ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("a GeoJSON geometry must be a JSON object with 'type' and 'coordinates'")
    kind = obj.get("type")
    if kind == "GeometryCollection":
        members = obj.get("geometries")
        if not isinstance(members, list) or not members:
            raise ValueError("a GeometryCollection needs a non-empty 'geometries' array")
        return GeometryCollection([geometry_from_geojson(m) for m in members], srid=WGS84)
    if kind not in GEOJSON_GEOMETRY_TYPES:
        raise ValueError(f"geometry type {kind!r} is not supported; use one of "
                         f"{', '.join(GEOJSON_GEOMETRY_TYPES)}, GeometryCollection")
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
    _check_positions(obj.get("coordinates"), depth[kind])
    try:
        geometry = GEOSGeometry(json.dumps({"type": kind, "coordinates": obj["coordinates"]}), srid=WGS84)
    except Exception as exc:  # GEOS/GDAL raise several types for malformed rings
        raise ValueError(f"invalid {kind}: {exc}") from exc
    if geometry.srid != WGS84:
        geometry.srid = WGS84
    if not geometry.valid:
        raise ValueError(f"invalid {kind}: {geometry.valid_reason}")
    return geometry


def geometry_from_wkt(text: str) -> GEOSGeometry:
    """A WKT geometry (lon lat order) as a valid GEOS geometry, or ValueError."""
    try:
        geometry = GEOSGeometry(text, srid=WGS84)
    except Exception as exc:
        raise ValueError(f"invalid WKT geometry: {exc}") from exc
    for x, y in _all_xy(geometry):
        validate_lonlat(x, y)
    if not geometry.valid:
        raise ValueError(f"invalid geometry: {geometry.valid_reason}")
    return geometry


def _all_xy(geometry: GEOSGeometry):
    coords = geometry.coords
    stack = [coords]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], int | float):
            yield item[0], item[1]
        else:
            stack.extend(item)


def bbox_geometry(bbox: Sequence[float]) -> GEOSGeometry:
    """A bbox (lon_min, lat_min, lon_max, lat_max) as a polygon; lon_min > lon_max crosses the antimeridian."""
    lon_min, lat_min, lon_max, lat_max = bbox
    if lon_min > lon_max:
        return bbox_polygon(lon_min, lat_min, 180.0, lat_max).union(bbox_polygon(-180.0, lat_min, lon_max, lat_max))
    return bbox_polygon(lon_min, lat_min, lon_max, lat_max)
