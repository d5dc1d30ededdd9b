"""Choices and defaults of the satellite database (DESIGN.md section 2)."""

from django.db import models

__all__ = ["DEFAULT_SPAN", "DEFAULT_ZOOMS", "MosaicStatus"]

DEFAULT_ZOOMS = (9, 10, 11)
DEFAULT_SPAN = 4  # a database image is span x span standard 256-px XYZ tiles (EarthLoc: 4 x 4)


class MosaicStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    INGESTING = "ingesting", "Ingesting"
    INGESTED = "ingested", "Ingested"
    FAILED = "failed", "Failed"
