"""Footprint: a polygon on the ground with provenance; corrections add rows, never overwrite."""

from django.conf import settings
from django.contrib.gis.db import models

from apps.footprints.constants import THIRD_PARTY_SOURCES, FootprintSource

__all__ = ["Footprint", "FootprintQuerySet"]


class FootprintQuerySet(models.QuerySet):
    def current(self) -> "FootprintQuerySet":
        return self.filter(is_current=True)

    def own(self) -> "FootprintQuerySet":
        """Footprints the platform made or was given as truth: not a third party's (``THIRD_PARTY_SOURCES``)."""
        return self.exclude(source__in=THIRD_PARTY_SOURCES)


class Footprint(models.Model):
    """What a photo shows on the ground: four corners (lon/lat, image order TL, TR, BR, BL).

    At most one footprint per photo is current (a partial unique index enforces it); older ones stay as
    history with their provenance. A reviewer's rejection is recorded on the row (who, when, why) and takes
    it off the map; the polygon and its provenance are never changed.
    """

    photo = models.ForeignKey("photos.Photo", on_delete=models.CASCADE, related_name="footprints")
    polygon = models.PolygonField(srid=4326, spatial_index=True)
    source = models.CharField(max_length=16, choices=FootprintSource.choices, db_index=True)
    confidence = models.FloatField(null=True, blank=True, help_text="0 to 1; how sure the method is.")
    inliers = models.PositiveIntegerField(null=True, blank=True, help_text="Geometric verification inliers.")
    matched_tile = models.ForeignKey(
        "imagery.SatelliteTile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_rotation = models.PositiveSmallIntegerField(null=True, blank=True,
                                                        help_text="Rotation (degrees) of the matched tile.")
    model_version = models.ForeignKey(
        "models_registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The job that produced it, if any.")
    note = models.TextField(blank=True, default="")
    is_current = models.BooleanField(default=True)
    rejected_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When a reviewer rejected it; a rejected footprint is never current.")
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The reviewer who rejected it.",
    )
    rejection_note = models.TextField(blank=True, default="", db_default="", help_text="Why it was rejected.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = FootprintQuerySet.as_manager()

    class Meta:
        ordering = ["photo_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["photo"], condition=models.Q(is_current=True), name="footprint_one_current_per_photo"
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True)
                | (models.Q(confidence__gte=0.0) & models.Q(confidence__lte=1.0)),
                name="footprint_confidence_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=models.Q(is_current=False) | models.Q(rejected_at__isnull=True),
                name="footprint_rejected_is_not_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.photo_id} {self.source}{' (current)' if self.is_current else ''}"
