"""Choices of the photo archive."""

from django.db import models

__all__ = ["BatchStatus", "PhotoStatus", "TiltClass", "Visibility"]


class PhotoStatus(models.TextChoices):
    IMPORTED = "imported", "Imported"
    LABELING = "labeling", "Labeling"
    LOCALIZING = "localizing", "Localizing"
    LOCALIZED = "localized", "Localized"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FAILED = "failed", "Failed"


class TiltClass(models.TextChoices):
    """NASA's camera tilt classes."""

    NEAR_VERTICAL = "NV", "Near vertical"
    LOW_OBLIQUE = "LO", "Low oblique"
    HIGH_OBLIQUE = "HO", "High oblique"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private (owner, group and staff)"


class BatchStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"
