"""ModelVersion (a trained descriptor model) and TileEmbedding (its descriptor of a tile at a rotation).

Why ``halfvec`` and not ``vector``: pgvector's HNSW index takes ``vector`` up to 2,000 dimensions but
``halfvec`` up to 4,000, and the AstroLoc descriptor is 2,048-D. Half precision also halves storage
(4 KiB instead of 8 KiB a row; 1M tiles x 4 rotations: 16 GB instead of 32 GB) while keeping cosine
ranking for candidate generation intact to ~1e-3; the final re-rank is exact float32 (FAISS). The column
has no fixed dimension because versions differ (a small CPU model has 256-D descriptors): each version gets
its own partial HNSW index on ``vector::halfvec(dim)`` (``services.embedding_index_create``).
"""

from django.conf import settings
from django.db import models
from pgvector.django import HalfVectorField

__all__ = ["ROTATIONS", "ModelVersion", "TileEmbedding"]

ROTATIONS = (0, 90, 180, 270)


class ModelVersion(models.Model):
    """A trained model: its architecture and data config rebuild it from the checkpoint alone."""

    name = models.CharField(max_length=128, unique=True)
    architecture = models.JSONField(default=dict, help_text="Model config (backbone, aggregator, dims).")
    data_config = models.JSONField(default=dict, help_text="Preprocessing: input size, mean, std.")
    checkpoint = models.FileField(upload_to="checkpoints/", blank=True)
    embedding_dim = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict, blank=True, help_text="Validation recall@N and the like.")
    training_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    is_active = models.BooleanField(default=False, help_text="Retrieval uses the one active version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="modelversion_one_active"
            ),
            models.CheckConstraint(condition=models.Q(embedding_dim__gt=0), name="modelversion_dim_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}{' (active)' if self.is_active else ''}"


class TileEmbedding(models.Model):
    """One tile's descriptor under one model version, with the tile rotated by 0/90/180/270 degrees."""

    tile = models.ForeignKey("imagery.SatelliteTile", on_delete=models.CASCADE, related_name="embeddings")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="embeddings")
    rotation = models.PositiveSmallIntegerField(choices=[(r, f"{r}°") for r in ROTATIONS])
    vector = HalfVectorField(help_text="L2-normalised descriptor (half precision).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tile", "model_version", "rotation"], name="tileembedding_unique_tile_version_rotation"
            ),
            models.CheckConstraint(condition=models.Q(rotation__in=ROTATIONS), name="tileembedding_rotation"),
        ]
        indexes = [models.Index(fields=["model_version", "tile"])]

    def __str__(self) -> str:
        return f"{self.tile_id}@{self.rotation} v{self.model_version_id}"
