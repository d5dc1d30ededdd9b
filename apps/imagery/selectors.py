"""Reads on the satellite database: mosaics and tiles by bbox, zoom and year, and which stored image
contains an XYZ tile (the basemap endpoint)."""

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import F, QuerySet

from apps.core.geo import bbox_geometry
from apps.imagery.constants import MosaicStatus
from apps.imagery.models import Mosaic, SatelliteTile, TileFeatures

__all__ = ["mosaic_list", "mosaic_years", "tile_containing", "tile_features_data", "tile_ids_within", "tile_list",
           "tile_zooms", "tiles_without_features"]


def mosaic_list(*, year: int | None = None, status: str | None = None) -> QuerySet[Mosaic]:
    qs = Mosaic.objects.all()
    if year is not None:
        qs = qs.filter(year=year)
    if status is not None:
        qs = qs.filter(status=status)
    return qs


def mosaic_years() -> list[int]:
    return list(Mosaic.objects.order_by("year").values_list("year", flat=True).distinct())


def tile_list(
    *,
    bbox: tuple[float, float, float, float] | None = None,
    zoom: int | None = None,
    year: int | None = None,
    ingested_only: bool = True,
) -> QuerySet[SatelliteTile]:
    """Database images, by default only those of mosaics whose ingest finished."""
    qs = SatelliteTile.objects.all()
    if ingested_only:
        qs = qs.filter(mosaic__status=MosaicStatus.INGESTED)
    if bbox is not None:
        qs = qs.filter(bounds__intersects=bbox_geometry(bbox))
    if zoom is not None:
        qs = qs.filter(zoom=zoom)
    if year is not None:
        qs = qs.filter(year=year)
    return qs


def tile_ids_within(*, region: GEOSGeometry, limit: int | None = None) -> list[int]:
    """Ids of the database images intersecting ``region`` (a spatial prior), at most ``limit`` of them.

    Asking for ``limit + 1`` tells a caller whether the region holds more than it wants to score exactly.
    """
    qs = SatelliteTile.objects.filter(bounds__intersects=region).order_by().values_list("pk", flat=True)
    return list(qs if limit is None else qs[: int(limit)])


def tile_zooms(*, year: int) -> list[int]:
    """Zooms that have stored images for ``year``, finest first."""
    return list(
        SatelliteTile.objects.filter(year=year).order_by("-zoom").values_list("zoom", flat=True).distinct()
    )


def tile_containing(*, year: int, zoom: int, x: int, y: int) -> SatelliteTile | None:
    """A stored image of ``year`` at ``zoom`` whose span x span block contains the XYZ tile (x, y).

    Neighbouring images overlap by half, so up to four qualify; they hold the same pixels, so the one
    with the smallest start (then the newest mosaic) is taken, which keeps the choice stable.
    """
    return (
        SatelliteTile.objects.filter(
            year=year, zoom=zoom, x__lte=x, x__gt=x - F("span"), y__lte=y, y__gt=y - F("span")
        )
        .order_by("x", "y", "-mosaic_id")
        .first()
    )


def tiles_without_features(*, matcher_key: str) -> QuerySet[SatelliteTile]:
    """Database images with no stored features under ``matcher_key`` (what the embed job still describes)."""
    return SatelliteTile.objects.exclude(features__matcher_key=matcher_key).order_by("pk")


def tile_features_data(*, tile_ids: list[int], matcher_key: str) -> dict[int, bytes]:
    """Encoded features (``ml.verification.decode_features``) of the given images that have them."""
    rows = TileFeatures.objects.filter(tile_id__in=tile_ids, matcher_key=matcher_key).values_list("tile_id", "data")
    return {tile_id: bytes(data) for tile_id, data in rows}
