"""Writes on the registry: activating a version, and the per-version HNSW index of its embeddings."""

from django.db import connection, transaction

from apps.models_registry.models import ModelVersion, TileEmbedding

__all__ = ["embedding_index_create", "embedding_index_name", "model_version_activate"]


def model_version_activate(*, model_version: ModelVersion) -> ModelVersion:
    """Make ``model_version`` the one retrieval uses; one transaction, so readers see old or new."""
    with transaction.atomic():
        ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=model_version.pk).update(
            is_active=False
        )
        ModelVersion.objects.filter(pk=model_version.pk).update(is_active=True)
    model_version.refresh_from_db()
    return model_version


def embedding_index_name(model_version: ModelVersion) -> str:
    return f"tileembedding_hnsw_v{model_version.pk}"


def embedding_index_create(*, model_version: ModelVersion, m: int = 16, ef_construction: int = 64) -> str:
    """Build (if missing) the cosine HNSW index over this version's embeddings; returns its name.

    A partial expression index: ``vector::halfvec(dim)`` restricted to the version's rows, so versions of
    different dimensions share one table and a query for one version never reads another's vectors.
    """
    dim = int(model_version.embedding_dim)
    name = embedding_index_name(model_version)
    table = TileEmbedding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING hnsw ((vector::halfvec({dim})) halfvec_cosine_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)}) "
            f"WHERE model_version_id = {int(model_version.pk)}"
        )
    return name
