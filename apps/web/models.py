"""Read-only models over the map's materialized aggregates (``apps.web.mapcells``; created by migration)."""

from django.db import models

__all__ = ["MapCell", "MapMonth"]


class MapCell(models.Model):
    """Current footprints per fine grid cell (``MAP_CELL_DEG``) and per audience of their photos.

    ``visibility``, ``owner_id`` and ``group_id`` are the photo's (0 for none), so ``photo_visible_q`` selects
    exactly the rows a user may count. Sums (not means) so coarser zooms roll up exactly.
    """

    gx = models.IntegerField()
    gy = models.IntegerField()
    visibility = models.CharField(max_length=8)
    owner_id = models.IntegerField()
    group_id = models.IntegerField()
    n = models.IntegerField()
    sum_lon = models.FloatField()
    sum_lat = models.FloatField()
    west = models.FloatField()
    south = models.FloatField()
    east = models.FloatField()
    north = models.FloatField()

    class Meta:
        managed = False
        db_table = "web_mapcell"

    def __str__(self) -> str:
        return f"cell {self.gx},{self.gy} {self.visibility}: {self.n}"


class MapMonth(models.Model):
    """Current footprints per capture month (UTC) and per audience of their photos: the date histogram."""

    month = models.DateField()
    visibility = models.CharField(max_length=8)
    owner_id = models.IntegerField()
    group_id = models.IntegerField()
    n = models.IntegerField()

    class Meta:
        managed = False
        db_table = "web_mapmonth"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.visibility}: {self.n}"
