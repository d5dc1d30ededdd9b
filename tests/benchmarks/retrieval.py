"""Benchmark: candidate search for localization, pgvector HNSW vs FAISS (flat, IVF, HNSW) vs exact numpy.

    nice python -m tests.benchmarks.retrieval [--vectors 100000] [--dim 256] [--queries 200]

Synthetic, clustered 256-D unit vectors: ``vectors / 4`` tiles on a world grid, each with 4 rotation
descriptors (a tile's base vector plus rotation noise), in a separate database (``bench_astroloc_retrieval``,
kept between runs), loaded by COPY through the registry's own service. Queries are noisy copies of random
tiles' descriptors. Ground truth is exact float32 search (numpy) over every rotation descriptor, reduced to
distinct tiles; recall@10 = share of the exact top-10 tiles found in a method's top 10. Each method is run
without a filter and with a spatial filter keeping 1 % and 10 % of the tiles (a lon/lat rectangle): pgvector
filters in SQL (PostGIS + iterative HNSW scan), FAISS with an ``IDSelectorBatch`` over the region's tile ids
(looked up in PostGIS, time included), numpy over the region's rows. Finally "ours" (FAISS IVF or pgvector
top-K tiles + exact float32 re-rank over 4 rotations) against the reference protocol of EarthLoc/AstroLoc
(exact FAISS flat search over all rotation descriptors), side by side in one run, without a prior and with a
1 % and a 10 % prior, where the job's two prior paths (pgvector iterative scan + PostGIS; the PostGIS tile ids
of the prior scored exactly in memory, used up to ``ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES``) also face
FAISS flat with an ``IDSelectorBatch`` of those ids (looked up per photo, as the job does).

Why 256-D: it is the descriptor size of the CPU models the platform trains (resnet18 + GeM), and it keeps
1M descriptors feasible on the 2-core development VM: 1 GB of float32 per in-memory copy (numpy, FAISS flat,
IVF, HNSW: ~5 GB together) and ~0.5 GB of halfvec rows in PostgreSQL, with a pgvector HNSW build of minutes.
The AstroLoc model's 2,048-D would need 8 GB per copy and hours of HNSW build here; search cost grows
linearly with the dimension for every method alike, so the ratios carry over.

    OPENBLAS_NUM_THREADS=1 nice -n 10 python -m tests.benchmarks.retrieval --vectors 1000000 --queries 100 \\
        --pg-queries 50
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_astroloc_retrieval")

import django

django.setup()

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402

from apps.core.geo import bbox_polygon  # noqa: E402
from apps.models_registry.models import ModelVersion, TileEmbedding  # noqa: E402
from apps.models_registry.selectors import tile_embedding_nearest  # noqa: E402
from apps.models_registry.services import embedding_index_create, embedding_index_name  # noqa: E402

K = 10
R = 4


def synth(n_tiles: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """[n_tiles, 4, dim] clustered unit descriptors and [Q-ready] base vectors."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(max(16, n_tiles // 200), dim)).astype(np.float32)
    base = centers[rng.integers(0, len(centers), n_tiles)] + 0.8 * rng.normal(size=(n_tiles, dim)).astype(np.float32)
    desc = base[:, None, :] + 0.35 * rng.normal(size=(n_tiles, R, dim)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=2, keepdims=True)
    return desc.astype(np.float32), base


def grid_side(n_tiles: int) -> int:
    return math.ceil(math.sqrt(n_tiles))


def tile_bounds(i: int, side: int) -> tuple[float, float, float, float]:
    """Tile i on a side x side grid over lon -170..170, lat -80..80."""
    w, h = 340.0 / side, 160.0 / side
    col, row = i % side, i // side
    return (-170 + col * w, -80 + row * h, -170 + (col + 1) * w, -80 + (row + 1) * h)


def load(desc: np.ndarray, dim: int) -> tuple[ModelVersion, np.ndarray]:
    """Tiles + embeddings in the benchmark database (reused when already loaded with the same size)."""
    n = len(desc)
    name = f"bench-{n}x{dim}"
    version = ModelVersion.objects.filter(name=name).first()
    if version is not None and TileEmbedding.objects.filter(model_version=version).count() == n * R:
        ids = np.array(sorted(TileEmbedding.objects.filter(model_version=version, rotation=0)
                              .values_list("tile_id", flat=True)), dtype=np.int64)
        return version, ids
    from apps.imagery.models import Mosaic, SatelliteTile

    SatelliteTile.objects.all().delete()
    ModelVersion.objects.filter(name=name).delete()
    mosaic = Mosaic.objects.create(name="bench", year=2022)
    side = grid_side(n)
    with connection.cursor() as cur, cur.cursor.copy(
        "COPY imagery_satellitetile (zoom, x, y, span, year, mosaic_id, bounds, image, size_px, created_at) "
        "FROM STDIN"
    ) as copy:
        for i in range(n):
            x0, y0, x1, y1 = tile_bounds(i, side)
            wkt = f"SRID=4326;POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
            copy.write_row((12, i % side, i // side, 4, 2022, mosaic.pk, wkt, f"tiles/b{i}.jpg", 64, "now"))
    ids = np.array(sorted(SatelliteTile.objects.values_list("pk", flat=True)), dtype=np.int64)
    version = ModelVersion.objects.create(name=name, embedding_dim=dim)
    table = TileEmbedding._meta.db_table
    with connection.cursor() as cur, cur.cursor.copy(
        f"COPY {table} (tile_id, model_version_id, rotation, vector) FROM STDIN"
    ) as copy:
        for tile_id, group in zip(ids, desc, strict=True):
            for r in range(R):
                text = "[" + ",".join(f"{v:.4g}" for v in group[r]) + "]"
                copy.write_row((int(tile_id), version.pk, r * 90, text))
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {table}")
        cur.execute("ANALYZE imagery_satellitetile")
    return version, ids


def unique_top(ids_row: np.ndarray, k: int = K) -> list[int]:
    out: list[int] = []
    for t in ids_row:
        if t >= 0 and t not in out:
            out.append(int(t))
            if len(out) == k:
                break
    return out


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f[:K]) & set(t[:K])) / max(len(t[:K]), 1) for f, t in pairs]))


def exact_numpy(flat: np.ndarray, flat_ids: np.ndarray, queries: np.ndarray, mask: np.ndarray | None):
    """Exact search with numpy: scores over every (filtered) rotation descriptor, top distinct tiles."""
    start = time.perf_counter()
    sub, sub_ids = (flat, flat_ids) if mask is None else (flat[mask], flat_ids[mask])
    out = []
    scores = queries @ sub.T
    for row in scores:
        top = np.argpartition(-row, min(K * R, len(row) - 1))[: K * R]
        top = top[np.argsort(-row[top])]
        out.append(unique_top(sub_ids[top]))
    return out, time.perf_counter() - start


def faiss_search(index, queries: np.ndarray, allowed: np.ndarray | None, params_cls=None, **params):
    start = time.perf_counter()
    kw = {}
    if allowed is not None or params:
        p = (params_cls or faiss.SearchParameters)()
        for key, value in params.items():
            setattr(p, key, value)
        if allowed is not None:
            p.sel = faiss.IDSelectorBatch(allowed)
        kw["params"] = p
    _, ids = index.search(queries, K * R, **kw)
    return [unique_top(row) for row in ids], time.perf_counter() - start


def pg_search(version, queries: np.ndarray, region, ef: int):
    start = time.perf_counter()
    out = []
    for q in queries:
        rows = tile_embedding_nearest(model_version=version, query=q.tolist(), k=K * R, within=region, ef_search=ef)
        out.append(unique_top(np.array([r.tile_id for r in rows])))
    return out, time.perf_counter() - start


def region_for(fraction: float, n: int):
    """A rectangle holding ~fraction of the grid's tiles (centred)."""
    side = grid_side(n)
    cells = max(1, round(math.sqrt(fraction) * side))
    lo = (side - cells) // 2
    x0, y0, _, _ = tile_bounds(lo * side + lo, side)
    _, _, x1, y1 = tile_bounds((lo + cells - 1) * side + lo + cells - 1, side)
    eps = 1e-6
    return bbox_polygon(x0 + eps, y0 + eps, x1 - eps, y1 - eps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=100_000, help="rotation descriptors (tiles x 4)")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg-queries", type=int, default=100, help="pgvector runs one SQL query per photo")
    parser.add_argument("--threads", type=int, default=1,
                        help="FAISS threads (1: OpenMP threads spin against each other on a shared 2-core VM, "
                             "and pgvector answers one query on one core too); set OPENBLAS_NUM_THREADS alike")
    args = parser.parse_args()
    faiss.omp_set_num_threads(max(1, args.threads))
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    n_tiles, dim = args.vectors // R, args.dim
    desc, _ = synth(n_tiles, dim)
    t0 = time.perf_counter()
    version, tile_ids = load(desc, dim)
    print(f"<!-- {n_tiles} tiles x 4 loaded in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
    flat = desc.reshape(-1, dim)
    flat_ids = np.repeat(tile_ids, R)
    rng = np.random.default_rng(1)
    picks = rng.integers(0, n_tiles, args.queries)
    queries = desc[picks, rng.integers(0, R, args.queries)] + 0.25 * rng.normal(size=(args.queries, dim)).astype(
        np.float32) / math.sqrt(dim) * 4
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    pgq = queries[: args.pg_queries]

    builds: dict[str, float] = {}
    t0 = time.perf_counter()
    flat_index = faiss.IndexIDMap(faiss.IndexFlatIP(dim))
    flat_index.add_with_ids(flat, flat_ids)
    builds["faiss-flat"] = time.perf_counter() - t0
    nlist = int(4 * math.sqrt(len(flat)))
    t0 = time.perf_counter()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(flat)
    ivf.add_with_ids(flat, flat_ids)
    builds["faiss-ivf"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hnsw_inner = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw_inner.hnsw.efConstruction = 64
    hnsw = faiss.IndexIDMap(hnsw_inner)
    hnsw.add_with_ids(flat, flat_ids)
    builds["faiss-hnsw"] = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS {embedding_index_name(version)}")
        cur.execute("SET maintenance_work_mem = '1GB'")
        t0 = time.perf_counter()
        embedding_index_create(model_version=version)
        builds["pgvector-hnsw"] = time.perf_counter() - t0
        cur.execute(f"ANALYZE {TileEmbedding._meta.db_table}")
    builds["numpy-exact"] = 0.0

    print(f"\n{n_tiles:,} tiles x 4 rotations = {len(flat):,} descriptors of {dim}-D, {args.queries} queries "
          f"({args.pg_queries} for pgvector, one SQL query each), recall@{K} of distinct tiles vs exact, "
          f"{args.threads} FAISS thread(s), {os.cpu_count()} CPU cores (shared)\n")
    print("| method | filter | build s | recall@10 | queries/s |")
    print("|---|---|---:|---:|---:|")
    for label, fraction in (("none", None), ("10 %", 0.10), ("1 %", 0.01)):
        region = None if fraction is None else region_for(fraction, n_tiles)
        mask, allowed_ids, lookup = None, None, 0.0
        if region is not None:
            from apps.imagery.models import SatelliteTile

            t0 = time.perf_counter()
            allowed_ids = np.array(list(SatelliteTile.objects.filter(bounds__intersects=region)
                                        .values_list("pk", flat=True)), dtype=np.int64)
            lookup = time.perf_counter() - t0
            mask = np.isin(flat_ids, allowed_ids)
            label = f"{label} ({len(allowed_ids):,} tiles)"
        truth, t_exact = exact_numpy(flat, flat_ids, queries, mask)
        rows = [("numpy exact", truth, t_exact + lookup, len(queries), "numpy-exact")]
        found, t = faiss_search(flat_index, queries, allowed_ids)
        rows.append(("FAISS flat (exact)", found, t + lookup, len(queries), "faiss-flat"))
        for nprobe in (16, 64):
            found, t = faiss_search(ivf, queries, allowed_ids, faiss.SearchParametersIVF, nprobe=nprobe)
            rows.append((f"FAISS IVF{nlist} nprobe {nprobe}", found, t + lookup, len(queries), "faiss-ivf"))
        if allowed_ids is None:
            hnsw_inner.hnsw.efSearch = 128
            found, t = faiss_search(hnsw, queries, None)
        else:
            found, t = faiss_search(hnsw, queries, allowed_ids, faiss.SearchParametersHNSW, efSearch=128)
        rows.append(("FAISS HNSW32 ef 128", found, t + lookup, len(queries), "faiss-hnsw"))
        pg_search(version, pgq[:10], region, 100)  # warm the buffer cache
        for ef in (100, 200):
            found, t = pg_search(version, pgq, region, ef)
            rows.append((f"pgvector HNSW ef {ef}", found, t, len(pgq), "pgvector-hnsw"))
        for name, res, seconds, nq, build in rows:
            print(f"| {name} | {label} | {builds[build]:.1f} | {recall(res, truth[:nq]):.3f} | {nq / seconds:,.0f} |",
                  flush=True)

    # Ours vs the reference protocol, global search (no prior): reference = exact flat over all 4 x N.
    truth, _ = exact_numpy(flat, flat_ids, queries, None)
    t0 = time.perf_counter()
    _, ref_ids = flat_index.search(queries, K * R)
    ref = [unique_top(r) for r in ref_ids]
    t_ref = time.perf_counter() - t0
    print("\n| protocol | prior | recall@10 | queries/s | speed vs reference |")
    print("|---|---|---:|---:|---:|")
    print(f"| reference: exact FAISS flat over all {len(flat):,} rotation descriptors | none | "
          f"{recall(ref, truth):.3f} | {len(queries) / t_ref:,.0f} | 1.0x |")
    for nprobe, cand in ((8, 100), (16, 100), (32, 100)):
        t0 = time.perf_counter()
        p = faiss.SearchParametersIVF()
        p.nprobe = nprobe
        _, ids = ivf.search(queries, cand * R, params=p)
        out = []
        for q, row in zip(queries, ids, strict=True):
            out.append(rerank(q, unique_top(row, cand), desc, tile_ids))
        t = time.perf_counter() - t0
        print(f"| ours: FAISS IVF nprobe {nprobe}, top {cand} tiles + exact re-rank x4 | none | "
              f"{recall(out, truth):.3f} | {len(queries) / t:,.0f} | {t_ref / t:.1f}x |", flush=True)
    for label, fraction in (("1 %", 0.01), ("10 %", 0.10)):
        prior_protocols(label, region_for(fraction, n_tiles), version, desc, tile_ids, flat, flat_ids, flat_index,
                        pgq)


def tiles_within(region) -> np.ndarray:
    """The prior's tile ids from PostGIS (what the localize job's SQL filter selects)."""
    from apps.imagery.models import SatelliteTile

    return np.array(list(SatelliteTile.objects.filter(bounds__intersects=region).values_list("pk", flat=True)),
                    dtype=np.int64)


def prior_protocols(label, region, version, desc, tile_ids, flat, flat_ids, flat_index, queries) -> None:
    """With a spatial prior: the reference, the job's SQL path, and two exact paths over PostGIS ids.

    Each photo has its own prior, so the id lookup is made (and timed) once per query here.
    """
    allowed = tiles_within(region)
    truth, _ = exact_numpy(flat, flat_ids, queries, np.isin(flat_ids, allowed))
    allowed_set = set(allowed.tolist())
    nq = len(queries)
    rows: list[tuple[str, list[list[int]], float]] = []

    t0 = time.perf_counter()
    depth = min(len(flat), 4096)
    _, ref_ids = flat_index.search(queries, depth)
    ref = [[x for x in unique_top(r, 10_000) if x in allowed_set][:K] for r in ref_ids]
    rows.append((f"reference: exact FAISS flat over all, post-filtered top {depth}", ref, time.perf_counter() - t0))

    t0 = time.perf_counter()
    out = []
    for q in queries:  # one SQL query per photo, as the localize job does
        found = tile_embedding_nearest(model_version=version, query=q.tolist(), k=100 * R, within=region,
                                       ef_search=200)
        tiles = list(dict.fromkeys(r.tile_id for r in found))[:100]
        out.append(rerank(q, tiles, desc, tile_ids))
    rows.append(("ours, large prior: pgvector HNSW iterative scan + PostGIS, top 100 + exact re-rank x4", out,
                 time.perf_counter() - t0))

    t0 = time.perf_counter()
    out = []
    for q in queries:
        ids = tiles_within(region)
        out.append(rerank(q, ids, desc, tile_ids))
    rows.append(("ours, prior <= PRIOR_EXACT_MAX_TILES: PostGIS ids -> exact float32 x4 rotations in memory", out,
                 time.perf_counter() - t0))

    t0 = time.perf_counter()
    out = []
    for q in queries:
        ids = tiles_within(region)
        p = faiss.SearchParameters()
        p.sel = faiss.IDSelectorBatch(ids)
        _, found_ids = flat_index.search(q[None, :], K * R, params=p)
        out.append(unique_top(found_ids[0]))
    rows.append(("alt: PostGIS ids -> FAISS flat with an IDSelector (exact)", out, time.perf_counter() - t0))

    t_ref = rows[0][2]
    for name, res, seconds in rows:
        print(f"| {name} | {label} ({len(allowed):,} tiles) | {recall(res, truth):.3f} | {nq / seconds:,.1f} | "
              f"{t_ref / seconds:.1f}x |", flush=True)


def rerank(q: np.ndarray, tiles, desc: np.ndarray, tile_ids: np.ndarray) -> list[int]:
    """Exact float32 score of each tile as the max over its rotations; the top ``K`` tile ids.

    ``tile_ids`` is sorted (rows of ``desc``), so a tile's row is a binary search, not a dict of 250k entries.
    """
    tiles = np.asarray(list(tiles), dtype=np.int64)
    if not len(tiles):
        return []
    scores = (desc[np.searchsorted(tile_ids, tiles)] @ q).max(axis=1)
    k = min(K, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
    return [int(t) for t in tiles[best[np.argsort(-scores[best])]]]


if __name__ == "__main__":
    main()
