"""The one place where (lon, lat) tuples become GEOS geometries and back (SRID 4326).

GeoJSON and PostGIS order coordinates (lon, lat); every function here takes and returns that order, so a
(lat, lon) pair can only enter through a parser that names it.
"""

from collections.abc import Sequence

from django.contrib.gis.geos import Point, Polygon

__all__ = [
    "WGS84",
    "bbox_polygon",
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
