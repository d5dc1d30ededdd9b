"""The map's materialized aggregates: footprint counts per fine grid cell and per capture month.

Zoomed out, the map shows counts per grid cell (``apps.web.selectors.map_data``). Computing them means a scan
of every current footprint (seconds at a million), so the unfiltered counts are kept in two materialized
views (migration ``web.0001``), per photo audience (visibility, owner, group: ``photo_visible_q`` picks
the rows a user may count, so private photos never reach another user's counts):

- ``web_mapcell``: per cell of ``MAP_CELL_DEG`` (the grid of zoom ``MAP_CELL_ZOOM``), count, sums of centroid
  lon/lat (coarser zooms roll up exactly: their cells are 2^k of these) and the footprints' extent (the
  map's first view);
- ``web_mapmonth``: per capture month, the date histogram.

They are used only while fresh: ``map_aggregates_refresh`` records the footprint change stamp
(``apps.footprints.cache.footprints_stamp``) it refreshed at, and any footprint write or photo edit changes
the stamp, so a stale view is never read (callers fall back to a live query). Refreshed by celery beat
(``maintenance.refresh_map_aggregates``) and ``manage.py refresh_map_aggregates``; concurrently, so readers
are never blocked.
"""

import logging
import time
from datetime import date

from django.core.cache import cache
from django.db import connection
from django.db.models import F, IntegerField, Max, Min, Sum
from django.db.models.functions import Cast, Floor

from apps.footprints.cache import footprints_stamp
from apps.photos.selectors import photo_visible_q
from apps.web.models import MapCell, MapMonth

__all__ = [
    "MAP_CELL_DEG",
    "MAP_CELL_ZOOM",
    "map_aggregates_fresh",
    "map_aggregates_refresh",
    "map_cells_rolled_up",
    "map_extent_aggregated",
    "map_months_aggregated",
]

logger = logging.getLogger(__name__)

MAP_CELL_ZOOM = 6  # the finest zoom served from the aggregate (the map draws polygons from zoom 7)
MAP_CELL_DEG = 360.0 / 2 ** MAP_CELL_ZOOM / 4  # 4 cells per 256-px tile: ~64 px (migration web.0001 holds it)
STAMP_KEY = "web:map-aggregates:stamp"


def map_aggregates_fresh(*, stamp: str | None = None) -> bool:
    """True when the views were refreshed at the current footprint change stamp (``stamp`` if already read)."""
    return cache.get(STAMP_KEY) == (stamp or footprints_stamp())


def map_aggregates_refresh(*, force: bool = False) -> bool:
    """Refresh both views unless already fresh (or ``force``); True when it refreshed.

    The stamp is read before the refresh: a write during it changes the stamp, so the next call refreshes again.
    """
    stamp = footprints_stamp()
    if not force and cache.get(STAMP_KEY) == stamp:
        return False
    started = time.monotonic()
    with connection.cursor() as cursor:
        for view in (MapCell._meta.db_table, MapMonth._meta.db_table):
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
    cache.set(STAMP_KEY, stamp, timeout=None)
    logger.info("map aggregates refreshed at %s in %.2fs", stamp, time.monotonic() - started)
    return True


def map_cells_rolled_up(*, user, zoom: int, bbox: tuple[float, float, float, float] | None) -> list[dict]:
    """The grid of ``zoom`` (<= ``MAP_CELL_ZOOM``) for what ``user`` may see, cells whose mean lies in ``bbox``."""
    factor = 2 ** (MAP_CELL_ZOOM - max(min(zoom, MAP_CELL_ZOOM), 0))
    rows = (MapCell.objects.filter(photo_visible_q(user))
            .annotate(cx=Floor(F("gx") / float(factor)), cy=Floor(F("gy") / float(factor)))
            .values("cx", "cy").annotate(count=Sum("n"), slon=Sum("sum_lon"), slat=Sum("sum_lat")).order_by())
    cells = []
    for row in rows:
        lon, lat = row["slon"] / row["count"], row["slat"] / row["count"]
        if bbox is None or (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
            cells.append({"lon": round(lon, 4), "lat": round(lat, 4), "count": row["count"]})
    return cells


def map_extent_aggregated(*, user) -> tuple[float, float, float, float] | None:
    """West, south, east, north of every current footprint ``user`` may see; None when there is none."""
    extent = MapCell.objects.filter(photo_visible_q(user)).aggregate(
        west=Min("west"), south=Min("south"), east=Max("east"), north=Max("north"))
    return None if extent["west"] is None else (extent["west"], extent["south"], extent["east"], extent["north"])


def map_months_aggregated(*, user) -> list[tuple[date, int]]:
    """(first day of the month, current footprints) for what ``user`` may see, by month."""
    rows = (MapMonth.objects.filter(photo_visible_q(user)).values("month")
            .annotate(count=Cast(Sum("n"), IntegerField())).order_by("month"))
    return [(row["month"], row["count"]) for row in rows]
