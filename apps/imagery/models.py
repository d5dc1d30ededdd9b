"""Mosaic (a source raster) and SatelliteTile (a database image on the Web Mercator XYZ grid)."""

from django.contrib.gis.db import models

from apps.imagery.constants import MosaicSource, MosaicStatus

__all__ = ["BasemapOverview", "Mosaic", "SatelliteTile"]


class Mosaic(models.Model):
    """A source satellite raster of one year, from which tiles are cut: a GeoTIFF / COG in any CRS (a local
    file, an upload or a URL), or a tile service read for a bbox."""

    name = models.CharField(max_length=255)
    source = models.CharField(max_length=8, choices=MosaicSource.choices, default=MosaicSource.FILE,
                              help_text="Where the pixels are read from.")
    source_url = models.CharField(
        max_length=2048, blank=True, default="",
        help_text="The tile service URL template or the COG URL the pixels are fetched from, if any.",
    )
    attribution = models.CharField(max_length=512, blank=True, default="",
                                   help_text="Credit the imagery's provider requires; shown on the map.")
    source_path = models.CharField(
        max_length=1024, blank=True, default="", help_text="Local path the raster was read from, if any."
    )
    file = models.FileField(upload_to="mosaics/", blank=True, help_text="Uploaded raster, if uploaded.")
    checksum = models.CharField(max_length=64, blank=True, default="", db_index=True,
                                help_text="SHA-256 of the raster file: the same input ingests once.")
    year = models.PositiveSmallIntegerField(help_text="Acquisition year of the (e.g. cloudless) mosaic.")
    crs = models.CharField(max_length=255, blank=True, default="", help_text="Source CRS, e.g. EPSG:4326.")
    bounds = models.PolygonField(srid=4326, null=True, blank=True, help_text="Footprint of the raster.")
    resolution_m = models.FloatField(null=True, blank=True, help_text="Ground sampling distance, metres.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    band_count = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MosaicStatus.choices, default=MosaicStatus.PENDING)
    error = models.TextField(blank=True, default="")
    tile_count = models.PositiveIntegerField(default=0)
    parameters = models.JSONField(
        default=dict, blank=True,
        help_text="Tiling parameters of the last ingest (zooms, span, size_px, max_nodata, format).",
    )
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The last ingest job of this mosaic.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["checksum", "year"], condition=~models.Q(checksum=""), name="mosaic_unique_checksum_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class SatelliteTile(models.Model):
    """A database image: span x span XYZ tiles starting at (zoom, x, y), seen in one year.

    Neighbours step by span/2 tiles, so database images overlap by 50%. ``bounds`` is exact (the XYZ
    maths), in lon/lat; the GiST index serves every spatial prior of retrieval.
    """

    zoom = models.PositiveSmallIntegerField()
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    span = models.PositiveSmallIntegerField(help_text="Side length in standard 256-px XYZ tiles.")
    year = models.PositiveSmallIntegerField()
    mosaic = models.ForeignKey(Mosaic, on_delete=models.CASCADE, related_name="tiles")
    bounds = models.PolygonField(srid=4326, spatial_index=True)
    image = models.ImageField(upload_to="tiles/", help_text="The stored database image (RGB).")
    size_px = models.PositiveSmallIntegerField(help_text="Stored image side length in pixels.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zoom", "x", "y", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["zoom", "x", "y", "span", "year"], name="satellitetile_unique_grid_cell_year"
            )
        ]
        indexes = [models.Index(fields=["zoom", "year"])]

    def __str__(self) -> str:
        return f"z{self.zoom}/{self.x}/{self.y} span {self.span} ({self.year})"


class BasemapOverview(models.Model):
    """A 256-px XYZ basemap tile of one year below the year's coarsest stored zoom, built from its four children.

    Overviews exist only for the web map (``apps.imagery.overviews``): they are never database images, so
    retrieval and localization never see them. RGBA PNG, transparent where the year has no imagery.
    """

    year = models.PositiveSmallIntegerField()
    zoom = models.PositiveSmallIntegerField()
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    image = models.FileField(upload_to="overviews/", help_text="RGBA PNG, 256 x 256 px.")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year", "zoom", "x", "y"]
        constraints = [
            models.UniqueConstraint(fields=["year", "zoom", "x", "y"], name="basemapoverview_unique_tile")
        ]

    def __str__(self) -> str:
        return f"overview z{self.zoom}/{self.x}/{self.y} ({self.year})"


class TileFeatures(models.Model):
    """Local features (keypoints + descriptors) of one database image under one matcher and its options.

    Why stored: verification matches a photo against the features of the images around a candidate; they
    do not depend on the photo, so the ``embed`` job extracts them once per image (``ml.verification``) and
    every worker, on any machine, reads them from here. ``matcher_key`` (``ml.verification.feature_key``:
    matcher name + options + format) versions them; ``data`` is the encoded array file (~70 kB per image).
    """

    tile = models.ForeignKey(SatelliteTile, on_delete=models.CASCADE, related_name="features")
    matcher_key = models.CharField(max_length=64)
    keypoints = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tile", "matcher_key"], name="tilefeatures_unique_tile_key")]

    def __str__(self) -> str:
        return f"features of tile {self.tile_id} ({self.matcher_key}, {self.keypoints} keypoints)"
