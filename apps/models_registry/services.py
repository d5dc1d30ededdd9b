"""Writes on the registry: registering a trained version, activating one, its embeddings (COPY) and the
per-version HNSW index."""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import connection, transaction

from apps.models_registry.models import ROTATIONS, ModelVersion, TileEmbedding

__all__ = [
    "embedding_index_create",
    "embedding_index_name",
    "halfvec_text",
    "model_version_activate",
    "model_version_register",
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


def model_version_register(
    *,
    name: str,
    checkpoint_path: Path,
    architecture: dict[str, Any],
    data_config: dict[str, Any],
    embedding_dim: int,
    metrics: dict[str, Any],
    training_job_id: int | None = None,
    activate: bool = False,
) -> ModelVersion:
    """Record a trained model: its checkpoint file goes into storage, the row says how to rebuild it.

    Idempotent by ``name``: registering the same name again returns the existing row untouched (a
    redelivered train job must not create a second version). Not active unless ``activate``.
    """
    existing = ModelVersion.objects.filter(name=name).first()
    if existing is not None:
        return existing
    checkpoint_path = Path(checkpoint_path)
    if not checkpoint_path.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint_path} not found: the training run did not write it")
    with transaction.atomic():
        version = ModelVersion(name=name, architecture=architecture, data_config=data_config,
                               embedding_dim=embedding_dim, metrics=metrics, training_job_id=training_job_id)
        with checkpoint_path.open("rb") as fh:
            version.checkpoint.save(f"{name}.pt", File(fh), save=False)
        version.save()
    if activate:
        version = model_version_activate(model_version=version)
    return version


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
