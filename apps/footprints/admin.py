from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from apps.footprints.models import Footprint


@admin.register(Footprint)
class FootprintAdmin(LeafletGeoAdmin):
    list_display = ("photo", "source", "confidence", "inliers", "is_current", "created_at")
    list_filter = ("source", "is_current")
    search_fields = ("photo__photo_id",)
    raw_id_fields = ("photo", "matched_tile", "model_version", "created_by", "job")
