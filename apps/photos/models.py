"""Photo (one astronaut photograph with NASA metadata) and Batch (one upload of photos)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.gis.db import models

from apps.photos.constants import BatchStatus, PhotoStatus, TiltClass, Visibility
from apps.photos.validators import validate_mission_roll_frame

__all__ = ["Batch", "Photo"]


class Batch(models.Model):
    """One upload of photo files (and optional metadata CSV); its report lists the fate of every file."""

    name = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    status = models.CharField(max_length=16, choices=BatchStatus.choices, default=BatchStatus.UPLOADED)
    report = models.JSONField(default=dict, blank=True, help_text="Per-file results of the import.")
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The import job of this batch.",
    )
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC,
                                  help_text="Visibility given to the photos this batch imports.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name or f"Batch #{self.pk}"


class Photo(models.Model):
    """An astronaut photograph, identified by its mission-roll-frame ID, with NASA's metadata.

    ``center_point`` is the weak label (a hand-clicked center, about ±1°); ``nadir_point`` is where the ISS
    was. Where the photo really is comes from its current Footprint.
    """

    photo_id = models.CharField(
        max_length=32, unique=True, validators=[validate_mission_roll_frame],
        help_text="Mission-roll-frame ID, e.g. ISS064-E-513.",
    )
    mission = models.CharField(max_length=16, db_index=True, blank=True, default="")
    image = models.ImageField(upload_to="photos/original/", help_text="The original file, untouched.")
    web_image = models.ImageField(upload_to="photos/web/", blank=True, help_text="Web-size derivative.")
    thumbnail = models.ImageField(upload_to="photos/thumb/", blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the original: the same bytes import once.")
    captured_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Capture time, UTC.")
    camera = models.CharField(max_length=64, blank=True, default="")
    focal_length_mm = models.FloatField(null=True, blank=True)
    altitude_km = models.FloatField(null=True, blank=True, help_text="Spacecraft altitude.")
    nadir_point = models.PointField(srid=4326, null=True, blank=True, help_text="ISS nadir at capture.")
    center_point = models.PointField(
        srid=4326, null=True, blank=True, help_text="Weak label: hand-clicked center of the photo."
    )
    center_uncertainty_km = models.FloatField(
        null=True, blank=True, help_text="Radius within which the true center lies (about 110 km for ±1°)."
    )
    tilt_class = models.CharField(max_length=2, choices=TiltClass.choices, blank=True, default="")
    tilt_deg = models.FloatField(null=True, blank=True, help_text="Camera off-nadir angle, degrees.")
    cloud_pct = models.FloatField(null=True, blank=True)
    sun_elevation_deg = models.FloatField(null=True, blank=True)
    sun_azimuth_deg = models.FloatField(null=True, blank=True)
    feature_text = models.TextField(blank=True, default="", help_text="NASA's feature / place description.")
    geographic_name = models.CharField(max_length=128, blank=True, default="",
                                       help_text="NASA's geographic name (EOL frames.geon), e.g. a country.")
    source_url = models.CharField(max_length=1000, blank=True, default="",
                                 help_text="Where the file comes from (a URL column, or EOL images.directory + "
                                           "images.filename).")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    status = models.CharField(max_length=16, choices=PhotoStatus.choices, default=PhotoStatus.IMPORTED,
                              db_index=True)
    status_reason = models.TextField(blank=True, default="", help_text="Why it needs review or failed.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL,
                              help_text="Members of this group may see the photo when it is private.")
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC,
                                  db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["photo_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checksum"], condition=~models.Q(checksum=""), name="photo_unique_checksum"
            )
        ]

    def __str__(self) -> str:
        return self.photo_id
