"""How a footprint was made."""

from django.db import models

__all__ = ["FootprintSource"]


class FootprintSource(models.TextChoices):
    IMPORTED = "imported", "Imported"
    AUTO_LABEL = "auto_label", "Auto-label (weak label + matching)"
    RETRIEVAL = "retrieval", "Retrieval + verification"
    MANUAL = "manual", "Manual"
