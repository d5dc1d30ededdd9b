"""How a footprint was made, and which of them may teach a model."""

from django.db import models

__all__ = ["RETRIEVAL_TRAINING_MIN_CONFIDENCE", "THIRD_PARTY_SOURCES", "TRUSTED_TRAINING_SOURCES", "FootprintSource"]


class FootprintSource(models.TextChoices):
    IMPORTED = "imported", "Imported"
    AUTO_LABEL = "auto_label", "Auto-label (weak label + matching)"
    RETRIEVAL = "retrieval", "Retrieval + verification"
    MANUAL = "manual", "Manual"
    NASA_ML = "nasa_ml", "NASA machine footprint (third party)"


#: Sources whose footprints always become training pairs: drawn or reviewed by a person (manual), delivered
#: with the photo (imported), or accepted by automated labeling, which matched around a human-clicked centre
#: and passed the inlier threshold calibrated for >= 98 % precision (ml/matching/calibration.json).
TRUSTED_TRAINING_SOURCES: tuple[str, ...] = (FootprintSource.IMPORTED.value, FootprintSource.MANUAL.value,
                                             FootprintSource.AUTO_LABEL.value)

#: A retrieval footprint is the model's own answer, found without a human prior among many candidates (more
#: chances for a spurious match), and training on it feeds the model its own mistakes. It becomes a training
#: pair only at this confidence or above: about twice the calibrated inlier threshold (confidence is 0.5 at
#: the threshold t and 1 - 0.5 exp(-(inliers - t) / t) above it, ml.labeling._confidence).
RETRIEVAL_TRAINING_MIN_CONFIDENCE = 0.8

#: Footprints made by others' machines (NASA's ``mlcoord``), kept for comparison. They are never "ours": one
#: never replaces our current footprint (it is current only while the photo has no other), a photo holding only
#: such a footprint still goes to labeling or localization, and it becomes a training pair only when
#: ``ASTROLOC_TRAIN_ON_NASA_ML`` says so (``apps.footprints.selectors.footprint_tile_pairs``).
THIRD_PARTY_SOURCES: tuple[str, ...] = (FootprintSource.NASA_ML.value,)
