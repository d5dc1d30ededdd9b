"""The `embed` job: describe every satellite tile at 4 rotations under one model version, and index them; and
extract every tile's local features for the verification matcher (stored once, read by every localization).

Thin glue: tiles still missing for the version come from the registry's selector and are cut into chunks of
``ASTROLOC_EMBED_CHUNK_TILES`` that any worker on the queue may run (``workers.chunks``); within a chunk,
batches of ``ASTROLOC_EMBED_BATCH_TILES`` tiles are embedded by ``ml.embed`` (bf16 autocast on GPU, float32
on CPU) and written with one COPY each, so a redelivered chunk resumes after the last batch it committed and
a re-run adds nothing. Tiles without stored local features under the localization matcher
(``ASTROLOC_LOCALIZE_MATCHER``, versioned by ``ml.verification.feature_key``, pinned for the job) are in the
same chunks: their features (``ml.verification.extract_tile_features``) commit in the same transaction as the
batch's embeddings, so a killed chunk resumes after its last batch either way. Then the version's pgvector
HNSW index is built and a FAISS index file plus a float32 descriptor file (for the exact re-rank) are written
to Django storage under ``indexes/v<id>/``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from apps.core.constants import JobKind
from apps.core.models import JobChunk
from apps.imagery.models import SatelliteTile
from apps.imagery.selectors import tiles_without_features
from apps.imagery.services import tile_features_save
from apps.models_registry.models import ROTATIONS, ModelVersion, TileEmbedding
from apps.models_registry.selectors import tile_embedding_rows, tiles_without_embeddings
from apps.models_registry.services import embedding_index_create, tile_embeddings_copy
from ml.embed import embed_files
from ml.index import TileIndex
from ml.progress import RateMeter
from ml.verification import encode_features, extract_tile_features, read_rgb
from workers.chunks import ChunkContext, register_chunked, run_chunked
from workers.jobs import JobContext, job_seconds, run_job
from workers.runtime import index_files, load_version_model, localize_matcher, storage_local_path

__all__ = ["embed_chunk", "embed_finish", "embed_job", "embed_tiles"]

logger = logging.getLogger(__name__)

QUARTER_TURNS = tuple(r // 90 for r in ROTATIONS)
# Tiles embedded and described between two progress reports: a few seconds of work on a 2-core CPU.
REPORT_TILES = 64


def _store(name: str, local: Path) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    with local.open("rb") as fh:
        saved = default_storage.save(name, File(fh))
    if saved != name:
        raise RuntimeError(f"storage saved {name} as {saved}: another writer raced this embed job")


def embed_tiles(ctx: JobContext) -> dict[str, Any]:
    """Job body: the tiles still missing embeddings for the version or features for the matcher, in chunks."""
    model_version = ModelVersion.objects.get(pk=int(ctx.parameters["model_version_id"]))
    _, key = localize_matcher()
    to_embed = set(tiles_without_embeddings(model_version=model_version).values_list("pk", flat=True))
    if to_embed:
        load_version_model(model_version)  # a missing or mismatched checkpoint fails the job before any chunk
    todo = sorted(to_embed | set(tiles_without_features(matcher_key=key).values_list("pk", flat=True)))
    if ctx.partial.get("model_version_id") != model_version.pk or ctx.partial.get("matcher_key") != key:
        ctx.partial.update(model_version_id=model_version.pk, matcher_key=key)
        ctx.save_partial(0.0, f"{len(to_embed)} tiles to embed, {len(todo)} to describe or embed")
    return run_chunked(ctx, kind=JobKind.EMBED, items=todo, size=settings.ASTROLOC_EMBED_CHUNK_TILES)


def _features_rows(tiles: list[tuple[int, str]]) -> list[tuple[int, int, bytes]]:
    matcher, _ = localize_matcher()
    rows = []
    for pk, image in tiles:
        features = extract_tile_features(matcher, read_rgb(storage_local_path(image)))
        rows.append((pk, len(features.keypoints), encode_features(features)))
    return rows


def _write_batch(model_version: ModelVersion, key: str, embed_ids: list[int], vectors, features) -> None:
    if embed_ids:
        tile_embeddings_copy(model_version=model_version, tile_ids=embed_ids, vectors=vectors)
    if features:
        tile_features_save(matcher_key=key, rows=features)


def embed_chunk(ctx: ChunkContext) -> dict[str, Any]:
    """Chunk body: embed the chunk's tiles still without rows and describe those without features, one
    transaction per batch of tiles."""
    model_version = ModelVersion.objects.get(pk=int(ctx.pinned["model_version_id"]))
    key = ctx.pinned["matcher_key"]
    if localize_matcher()[1] != key:
        raise ValueError(f"this worker's ASTROLOC_LOCALIZE_MATCHER gives features {localize_matcher()[1]}, the job "
                         f"pinned {key}: configure every worker alike")
    to_embed = set(tiles_without_embeddings(model_version=model_version).filter(pk__in=ctx.items)
                   .values_list("pk", flat=True))
    to_describe = set(tiles_without_features(matcher_key=key).filter(pk__in=ctx.items).values_list("pk", flat=True))
    todo = list(SatelliteTile.objects.filter(pk__in=to_embed | to_describe).order_by("pk").values_list("pk", "image"))
    done = ctx.chunk.size - len(todo)
    written = int(ctx.result.get("rows_written", 0))
    described = int(ctx.result.get("tiles_described", 0))
    seconds = float(ctx.result.get("seconds_embed", 0.0))
    seconds_features = float(ctx.result.get("seconds_features", 0.0))
    batch = max(1, int(settings.ASTROLOC_EMBED_BATCH_TILES))
    meter = RateMeter(start_count=done)
    for start in range(0, len(todo), batch):
        part = todo[start:start + batch]
        embed_part = [(pk, image) for pk, image in part if pk in to_embed]
        vectors, features = [], []
        for sub in range(0, len(part), REPORT_TILES):  # a progress line every few seconds, one commit per batch
            piece = part[sub:sub + REPORT_TILES]
            t0 = time.monotonic()
            paths = [storage_local_path(image) for pk, image in piece if pk in to_embed]
            if paths:
                vectors.append(embed_files(load_version_model(model_version), paths, rotations=QUARTER_TURNS,
                                           batch_size=64))
            t1 = time.monotonic()
            features += _features_rows([(pk, image) for pk, image in piece if pk in to_describe])
            seconds += t1 - t0
            seconds_features += time.monotonic() - t1
            ctx.report(f"chunk {ctx.chunk.index}: {meter.line(done + sub + len(piece), ctx.chunk.size, 'tiles')}")
        done += len(part)
        written += len(embed_part) * len(ROTATIONS)
        described += len(features)
        ctx.result.update(rows_written=written, tiles_described=described, seconds_embed=round(seconds, 3),
                          seconds_features=round(seconds_features, 3))
        desc = np.concatenate(vectors) if vectors else None
        ctx.commit(done, partial(_write_batch, model_version, key, [pk for pk, _ in embed_part], desc, features),
                   f"chunk {ctx.chunk.index}: {meter.line(done, ctx.chunk.size, 'tiles')} embedded or described")
    return {"rows_written": written, "tiles_described": described, "seconds_embed": round(seconds, 3),
            "seconds_features": round(seconds_features, 3)}


def embed_finish(ctx: JobContext, chunks: list[JobChunk]) -> dict[str, Any]:
    """Finishing step, once every chunk is in: the pgvector HNSW index, then the FAISS index files."""
    model_version = ModelVersion.objects.get(pk=int(ctx.partial["model_version_id"]))
    ctx.progress(0.95, "building the pgvector HNSW index", force=True)
    t0 = time.monotonic()
    hnsw = embedding_index_create(model_version=model_version)
    seconds_hnsw = time.monotonic() - t0
    ctx.progress(0.97, "building the FAISS index", force=True)
    t0 = time.monotonic()
    n_vectors, kind = _build_faiss(model_version)
    seconds_faiss = time.monotonic() - t0
    result = {
        "model_version_id": model_version.pk,
        "tiles": SatelliteTile.objects.count(),
        "tiles_embedded_now": sum(int(c.result.get("rows_written", 0)) for c in chunks) // len(ROTATIONS),
        "rows_written": sum(int(c.result.get("rows_written", 0)) for c in chunks),
        "tiles_described": sum(int(c.result.get("tiles_described", 0)) for c in chunks),
        "matcher_key": ctx.partial["matcher_key"],
        "chunks": len(chunks),
        "vectors": n_vectors,
        "hnsw_index": hnsw,
        "faiss_index": index_files(model_version.pk)["faiss"],
        "faiss_kind": kind,
        "seconds": {"embed": round(sum(float(c.result.get("seconds_embed", 0.0)) for c in chunks), 3),
                    "features": round(sum(float(c.result.get("seconds_features", 0.0)) for c in chunks), 3),
                    "hnsw": round(seconds_hnsw, 3), "faiss": round(seconds_faiss, 3),
                    "total": job_seconds(ctx.job_id)},
    }
    logger.info("embed v%s: %s", model_version.pk, result)
    return result


def _build_faiss(model_version: ModelVersion) -> tuple[int, str]:
    """FAISS index (id-mapped by tile id, all rotations) and the float32 descriptors for exact re-ranking.

    The descriptors are read back from pgvector (half precision), so a resumed job indexes exactly what the
    database holds; half precision changes cosine scores by ~1e-3, well below the ranking margins.
    """
    dim = int(model_version.embedding_dim)
    count = TileEmbedding.objects.filter(model_version=model_version).count()
    flat = np.empty((count, dim), dtype=np.float32)
    ids = np.empty(count, dtype=np.int64)
    n = 0
    for tile_id, _, text in tile_embedding_rows(model_version=model_version):
        if n == count:
            break  # rows added by a concurrent job after the count: the next embed run indexes them
        flat[n] = np.array(text[1:-1].split(","), dtype=np.float32)
        ids[n] = tile_id
        n += 1
    n -= n % len(ROTATIONS)  # every tile's 4 rows commit together; never index a cut-off tile
    flat, ids = flat[:n], ids[:n]
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    index = TileIndex(dim, exact_threshold=settings.ASTROLOC_LOCALIZE_FAISS_EXACT_THRESHOLD, use_gpu=False)
    if len(flat):
        index.build(flat, ids)
    names = index_files(model_version.pk)
    with tempfile.TemporaryDirectory(prefix="astroloc-index-") as tmp:
        tmp_path = Path(tmp)
        if index.index is not None:
            index.save(tmp_path / "tiles.faiss")
            _store(names["faiss"], tmp_path / "tiles.faiss")
        per_tile = flat.reshape(-1, len(ROTATIONS), dim)
        np.save(tmp_path / "descriptors.npy", per_tile)
        np.save(tmp_path / "tile_ids.npy", ids[:: len(ROTATIONS)])
        _store(names["descriptors"], tmp_path / "descriptors.npy")
        _store(names["tile_ids"], tmp_path / "tile_ids.npy")
    kind = "none" if index.index is None else ("flat" if len(flat) < index.exact_threshold else "ivf")
    return len(flat), kind


register_chunked(JobKind.EMBED, chunk_body=embed_chunk, finish=embed_finish)


@shared_task(name="jobs.embed")
def embed_job(job_id: int) -> dict[str, Any]:
    return run_job(job_id, embed_tiles)
