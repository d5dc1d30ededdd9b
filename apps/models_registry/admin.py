from django.contrib import admin

from apps.models_registry.models import ModelVersion, TileEmbedding


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "embedding_dim", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("created_at",)


@admin.register(TileEmbedding)
class TileEmbeddingAdmin(admin.ModelAdmin):
    """Read-mostly: embeddings are written by the embed job; the vector itself is not shown."""

    list_display = ("tile", "model_version", "rotation")
    list_filter = ("model_version", "rotation")
    raw_id_fields = ("tile", "model_version")
    exclude = ("vector",)
