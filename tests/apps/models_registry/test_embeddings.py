"""pgvector storage: halfvec embeddings, a per-version HNSW index, filtered nearest neighbours."""

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction

from apps.core.geo import bbox_polygon
from apps.models_registry.models import ModelVersion, TileEmbedding
from apps.models_registry.selectors import tile_embedding_nearest
from apps.models_registry.services import embedding_index_create, model_version_activate
from tests.factories import mosaic_create, tile_create

pytestmark = pytest.mark.django_db

DIM = 16


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.fixture
def grid_with_embeddings():
    """A 10 x 10 grid of tiles (1° cells) with random unit vectors under one version."""
    rng = np.random.default_rng(0)
    mosaic = mosaic_create()
    version = ModelVersion.objects.create(name="v-test", embedding_dim=DIM)
    vectors = {}
    rows = []
    for x in range(10):
        for y in range(10):
            tile = tile_create(mosaic=mosaic, zoom=9, x=x, y=y)
            vec = _unit(rng.normal(size=DIM)).astype(np.float32)
            vectors[tile.pk] = vec
            rows.append(TileEmbedding(tile=tile, model_version=version, rotation=0, vector=vec))
    TileEmbedding.objects.bulk_create(rows)
    with connection.cursor() as cursor:  # the test's transaction holds deferred FK checks; fire them now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    embedding_index_create(model_version=version)
    return version, vectors


def test_nearest_finds_the_exact_match_first(grid_with_embeddings):
    version, vectors = grid_with_embeddings
    target_id, target = next(iter(vectors.items()))
    result = tile_embedding_nearest(model_version=version, query=target.tolist(), k=5)
    assert result[0].tile_id == target_id
    assert result[0].cosine_distance == pytest.approx(0.0, abs=2e-3)  # halfvec precision
    exact = sorted(vectors, key=lambda tid: -float(vectors[tid] @ target))[:5]
    assert [n.tile_id for n in result] == exact


def test_spatial_filter_keeps_only_tiles_in_the_region_and_still_returns_k(grid_with_embeddings):
    version, _ = grid_with_embeddings
    region = bbox_polygon(2.5, 2.5, 4.5, 4.5)  # intersects the 3 x 3 cells x, y in 2..4
    query = _unit(np.ones(DIM)).tolist()
    result = tile_embedding_nearest(model_version=version, query=query, k=9, within=region)
    from apps.imagery.models import SatelliteTile

    inside = set(SatelliteTile.objects.filter(bounds__intersects=region).values_list("pk", flat=True))
    assert len(inside) == 9
    assert {n.tile_id for n in result} == inside


def test_the_version_hnsw_index_serves_the_query(grid_with_embeddings):
    version, _ = grid_with_embeddings
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT tile_id FROM models_registry_tileembedding WHERE model_version_id = {version.pk} "
            f"ORDER BY (vector::halfvec({DIM})) <=> '[{','.join(['0.25'] * DIM)}]'::halfvec({DIM}) LIMIT 5"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"tileembedding_hnsw_v{version.pk}" in plan


def test_wrong_query_dimension_is_refused(grid_with_embeddings):
    version, _ = grid_with_embeddings
    with pytest.raises(ValueError, match="query has 3 dimensions; model version v-test has 16"):
        tile_embedding_nearest(model_version=version, query=[1.0, 0.0, 0.0])


def test_one_embedding_per_tile_version_rotation(grid_with_embeddings):
    version, vectors = grid_with_embeddings
    tile_id = next(iter(vectors))
    with pytest.raises(IntegrityError, match="tileembedding_unique_tile_version_rotation"), transaction.atomic():
        TileEmbedding.objects.create(tile_id=tile_id, model_version=version, rotation=0, vector=[0.0] * DIM)


def test_activation_leaves_exactly_one_active_version():
    first = ModelVersion.objects.create(name="a", embedding_dim=8)
    second = ModelVersion.objects.create(name="b", embedding_dim=8)
    model_version_activate(model_version=first)
    model_version_activate(model_version=second)
    assert list(ModelVersion.objects.filter(is_active=True)) == [second]
    with pytest.raises(IntegrityError, match="modelversion_one_active"), transaction.atomic():
        ModelVersion.objects.filter(pk=first.pk).update(is_active=True)
