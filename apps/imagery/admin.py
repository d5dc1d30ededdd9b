from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from apps.imagery.models import BasemapOverview, Mosaic, SatelliteTile


@admin.register(Mosaic)
class MosaicAdmin(LeafletGeoAdmin):
    list_display = ("name", "year", "crs", "status", "tile_count", "created_at")
    list_filter = ("status", "year")
    search_fields = ("name", "source_path")


@admin.register(SatelliteTile)
class SatelliteTileAdmin(LeafletGeoAdmin):
    list_display = ("__str__", "zoom", "x", "y", "span", "year", "mosaic")
    list_filter = ("zoom", "year", "span")
    raw_id_fields = ("mosaic",)


@admin.register(BasemapOverview)
class BasemapOverviewAdmin(admin.ModelAdmin):
    list_display = ("__str__", "year", "zoom", "x", "y", "created_at")
    list_filter = ("year", "zoom")
