"""Reads on embeddings: nearest tiles of a query descriptor under one version, optionally within a region."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.db.models import QuerySet

from apps.models_registry.models import ModelVersion, TileEmbedding

__all__ = [
    "TileNeighbour",
    "model_version_active",
    "model_version_list",
    "tile_embedding_nearest",
    "tile_embedding_rows",
    "tiles_without_embeddings",
]


@dataclass(frozen=True)
class TileNeighbour:
    tile_id: int
    rotation: int
    cosine_distance: float


def _halfvec_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(v):.7g}" for v in vector) + "]"


def tile_embedding_nearest(
    *,
    model_version: ModelVersion,
    query: Sequence[float],
    k: int = 100,
    within: Polygon | None = None,
    ef_search: int = 100,
) -> list[TileNeighbour]:
    """The ``k`` nearest (tile, rotation) pairs by cosine distance, through the version's HNSW index.

    With ``within``, only tiles whose bounds intersect the region count. pgvector 0.8's iterative index
    scan (``relaxed_order``) keeps scanning the graph until ``k`` rows pass the filter, so a selective
    spatial filter does not starve the result.
    """
    dim = int(model_version.embedding_dim)
    if len(query) != dim:
        raise ValueError(f"query has {len(query)} dimensions; model version {model_version} has {dim}")
    table = TileEmbedding._meta.db_table
    params: list[object] = [_halfvec_literal(query), int(model_version.pk)]
    spatial = ""
    if within is not None:
        spatial = (
            "AND EXISTS (SELECT 1 FROM imagery_satellitetile t WHERE t.id = e.tile_id "
            "AND ST_Intersects(t.bounds, ST_GeomFromEWKT(%s)))"
        )
        params.append(within.ewkt)
    params.append(int(k))
    sql = (
        f"SELECT e.tile_id, e.rotation, (e.vector::halfvec({dim})) <=> %s::halfvec({dim}) AS distance "
        f"FROM {table} e WHERE e.model_version_id = %s {spatial} "
        "ORDER BY distance LIMIT %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [int(ef_search)])
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [TileNeighbour(tile_id=r[0], rotation=r[1], cosine_distance=float(r[2])) for r in rows]


def model_version_list() -> "QuerySet[ModelVersion]":
    """Model versions, newest first (the active one flagged)."""
    return ModelVersion.objects.order_by("-created_at")


def model_version_active() -> ModelVersion | None:
    """The version retrieval uses now, or None when none is active."""
    return ModelVersion.objects.filter(is_active=True).first()


def tiles_without_embeddings(*, model_version: ModelVersion) -> QuerySet:
    """Satellite tiles with no embedding under ``model_version`` (what an embed job still has to do)."""
    from apps.imagery.models import SatelliteTile

    done = TileEmbedding.objects.filter(model_version=model_version).values("tile_id")
    return SatelliteTile.objects.exclude(pk__in=done).order_by("pk")


def tile_embedding_rows(
    *, model_version: ModelVersion, chunk: int = 20_000
) -> Iterator[tuple[int, int, str]]:
    """(tile id, rotation, vector in pgvector text form) of a version's rows, by tile then rotation.

    Streamed through a server-side cursor in chunks, so 4M rows never sit in memory at once.
    """
    table = TileEmbedding._meta.db_table
    sql = (f"SELECT tile_id, rotation, vector::text FROM {table} WHERE model_version_id = %s "
           "ORDER BY tile_id, rotation")
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [int(model_version.pk)])
        while rows := cursor.fetchmany(chunk):
            yield from rows
