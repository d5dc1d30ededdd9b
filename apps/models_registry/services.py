"""Writes on the registry: activating a version, its embeddings (COPY) and the per-version HNSW index."""

from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from apps.models_registry.models import ROTATIONS, ModelVersion, TileEmbedding

__all__ = [
    "embedding_index_create",
    "embedding_index_name",
    "halfvec_text",
    "model_version_activate",
    "tile_embeddings_copy",
]


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


def halfvec_text(vector: Iterable[float]) -> str:
    """pgvector's text form ``[a,b,...]``; 5 significant digits are more than half precision holds."""
    return "[" + ",".join(f"{float(v):.5g}" for v in vector) + "]"


def tile_embeddings_copy(
    *, model_version: ModelVersion, tile_ids: Sequence[int], vectors: Sequence[Sequence[Sequence[float]]]
) -> int:
    """Insert the 4-rotation descriptors of ``tile_ids`` (``vectors[i][r]`` is tile i at ROTATIONS[r]).

    One COPY in one transaction: a chunk lands whole or not at all, so a resumed embed job can skip every
    tile that has rows. About 20x faster than ``bulk_create`` (no per-row INSERT parsing). Returns rows written.
    """
    if len(tile_ids) != len(vectors):
        raise ValueError(f"{len(tile_ids)} tile ids but {len(vectors)} descriptor groups")
    dim = int(model_version.embedding_dim)
    table = TileEmbedding._meta.db_table
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY {table} (tile_id, model_version_id, rotation, vector) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for tile_id, group in zip(tile_ids, vectors, strict=True):
                if len(group) != len(ROTATIONS):
                    raise ValueError(f"tile {tile_id}: {len(group)} rotations, expected {len(ROTATIONS)}")
                for rotation, vector in zip(ROTATIONS, group, strict=True):
                    if len(vector) != dim:
                        raise ValueError(f"tile {tile_id}: descriptor has {len(vector)} dimensions, "
                                         f"model version {model_version.pk} has {dim}")
                    copy.write_row((int(tile_id), int(model_version.pk), rotation, halfvec_text(vector)))
                    written += 1
    return written
