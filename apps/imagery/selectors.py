"""Reads of the satellite database: mosaics and tiles, by bbox, zoom and year."""

from django.db.models import QuerySet

from apps.core.geo import bbox_geometry
from apps.imagery.models import Mosaic, SatelliteTile

__all__ = ["mosaic_list", "mosaic_years", "tile_list"]


def tile_list(
    *, bbox: tuple[float, float, float, float] | None = None, zoom: int | None = None, year: int | None = None
) -> QuerySet[SatelliteTile]:
    qs = SatelliteTile.objects.all()
    if bbox is not None:
        qs = qs.filter(bounds__intersects=bbox_geometry(bbox))
    if zoom is not None:
        qs = qs.filter(zoom=zoom)
    if year is not None:
        qs = qs.filter(year=year)
    return qs


def mosaic_list(*, year: int | None = None) -> QuerySet[Mosaic]:
    qs = Mosaic.objects.all()
    return qs.filter(year=year) if year is not None else qs


def mosaic_years() -> list[int]:
    return list(Mosaic.objects.order_by("year").values_list("year", flat=True).distinct())
