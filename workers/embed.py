"""The `embed` job: describe every satellite tile at 4 rotations under one model version, and index them.

Thin glue: tiles still missing for the version come from the registry's selector and are cut into chunks of
``ASTROLOC_EMBED_CHUNK_TILES`` that any worker on the queue may run (``workers.chunks``); within a chunk,
batches of ``ASTROLOC_EMBED_BATCH_TILES`` tiles are embedded by ``ml.embed`` (bf16 autocast on GPU, float32
on CPU) and written with one COPY each, so a redelivered chunk resumes after the last batch it committed and
a re-run adds nothing. Then the version's pgvector HNSW index is built and a FAISS index file plus a float32 descriptor
file (for the exact re-rank) are written to Django storage under ``indexes/v<id>/``.
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
from apps.models_registry.models import ROTATIONS, ModelVersion, TileEmbedding
from apps.models_registry.selectors import tile_embedding_rows, tiles_without_embeddings
from apps.models_registry.services import embedding_index_create, tile_embeddings_copy
from ml.embed import embed_files
from ml.index import TileIndex
from ml.models import load_model
from ml.progress import RateMeter
from workers.chunks import ChunkContext, register_chunked, run_chunked
from workers.jobs import JobContext, job_seconds, run_job

__all__ = ["embed_chunk", "embed_finish", "embed_job", "embed_tiles", "index_files", "load_version_model",
           "storage_local_path"]

logger = logging.getLogger(__name__)

QUARTER_TURNS = tuple(r // 90 for r in ROTATIONS)
# Tiles embedded between two progress reports: 64 tiles x 4 rotations take a few seconds on a 2-core CPU.
REPORT_TILES = 64


def index_files(model_version_id: int) -> dict[str, str]:
    """Storage names of a version's FAISS index, float32 descriptors [N, 4, D] and their tile ids [N]."""
    base = f"indexes/v{int(model_version_id)}"
    return {"faiss": f"{base}/tiles.faiss", "descriptors": f"{base}/descriptors.npy",
            "tile_ids": f"{base}/tile_ids.npy"}


def storage_local_path(name: str) -> Path:
    """A local path for a stored file (the file itself on filesystem storage, else a downloaded copy)."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        tmp = Path(tempfile.mkdtemp(prefix="astroloc-")) / Path(name).name
        with default_storage.open(name, "rb") as src, tmp.open("wb") as dst:
            dst.write(src.read())
        return tmp


def _store(name: str, local: Path) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    with local.open("rb") as fh:
        saved = default_storage.save(name, File(fh))
    if saved != name:
        raise RuntimeError(f"storage saved {name} as {saved}: another writer raced this embed job")


_MODELS: dict[tuple[int, str], Any] = {}


def load_version_model(model_version: ModelVersion):
    """The version's model, loaded once per worker process (after the fork) and kept for its next chunks."""
    if not model_version.checkpoint:
        raise ValueError(f"model version {model_version.pk} ({model_version.name}) has no checkpoint file: "
                         "upload one (or train it) before embedding")
    key = (int(model_version.pk), model_version.checkpoint.name)
    if key in _MODELS:
        return _MODELS[key]
    model = load_model(storage_local_path(model_version.checkpoint.name))
    if model.desc_dim != model_version.embedding_dim:
        raise ValueError(f"checkpoint of model version {model_version.pk} gives {model.desc_dim}-D descriptors "
                         f"but the version says {model_version.embedding_dim}")
    _MODELS.clear()  # one version at a time per process: a GPU holds the model it serves, not every past one
    _MODELS[key] = model
    return model


def embed_tiles(ctx: JobContext) -> dict[str, Any]:
    """Job body: the tiles still missing for the version, cut into chunks spread over the workers."""
    model_version = ModelVersion.objects.get(pk=int(ctx.parameters["model_version_id"]))
    todo = list(tiles_without_embeddings(model_version=model_version).values_list("pk", flat=True))
    if todo:
        load_version_model(model_version)  # a missing or mismatched checkpoint fails the job before any chunk
    if ctx.partial.get("model_version_id") != model_version.pk:
        ctx.partial["model_version_id"] = model_version.pk
        ctx.save_partial(0.0, f"{len(todo)} tiles to embed")
    return run_chunked(ctx, kind=JobKind.EMBED, items=todo, size=settings.ASTROLOC_EMBED_CHUNK_TILES)


def embed_chunk(ctx: ChunkContext) -> dict[str, Any]:
    """Chunk body: embed the chunk's tiles still without rows, one COPY per batch of tiles."""
    model_version = ModelVersion.objects.get(pk=int(ctx.pinned["model_version_id"]))
    todo = list(tiles_without_embeddings(model_version=model_version).filter(pk__in=ctx.items)
                .values_list("pk", "image"))
    done = ctx.chunk.size - len(todo)
    written = int(ctx.result.get("rows_written", 0))
    seconds = float(ctx.result.get("seconds_embed", 0.0))
    if todo:
        model = load_version_model(model_version)
        batch = max(1, int(settings.ASTROLOC_EMBED_BATCH_TILES))
        meter = RateMeter(start_count=done)
        for start in range(0, len(todo), batch):
            part = todo[start:start + batch]
            t0 = time.monotonic()
            parts = []
            for sub in range(0, len(part), REPORT_TILES):  # a line every few seconds, one COPY per batch
                paths = [storage_local_path(image) for _, image in part[sub:sub + REPORT_TILES]]
                parts.append(embed_files(model, paths, rotations=QUARTER_TURNS, batch_size=64))
                embedded = done + sub + len(paths)
                ctx.report(f"chunk {ctx.chunk.index}: {meter.line(embedded, ctx.chunk.size, 'tiles')} embedded")
            desc = np.concatenate(parts)
            seconds += time.monotonic() - t0
            done += len(part)
            written += len(part) * len(ROTATIONS)
            ctx.result.update(rows_written=written, seconds_embed=round(seconds, 3))
            ctx.commit(done, partial(tile_embeddings_copy, model_version=model_version,
                                     tile_ids=[pk for pk, _ in part], vectors=desc),
                       f"chunk {ctx.chunk.index}: {meter.line(done, ctx.chunk.size, 'tiles')} embedded")
    return {"rows_written": written, "seconds_embed": round(seconds, 3)}


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
        "tiles_embedded_now": sum(c.size for c in chunks),
        "rows_written": sum(int(c.result.get("rows_written", 0)) for c in chunks),
        "chunks": len(chunks),
        "vectors": n_vectors,
        "hnsw_index": hnsw,
        "faiss_index": index_files(model_version.pk)["faiss"],
        "faiss_kind": kind,
        "seconds": {"embed": round(sum(float(c.result.get("seconds_embed", 0.0)) for c in chunks), 3),
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
