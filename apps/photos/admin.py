from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from apps.photos.models import Batch, Photo


@admin.register(Photo)
class PhotoAdmin(LeafletGeoAdmin):
    list_display = ("photo_id", "captured_at", "focal_length_mm", "tilt_class", "status", "visibility")
    list_filter = ("status", "tilt_class", "visibility", "mission")
    search_fields = ("photo_id", "feature_text")
    raw_id_fields = ("batch", "owner")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "created_by", "created_at")
    list_filter = ("status",)
