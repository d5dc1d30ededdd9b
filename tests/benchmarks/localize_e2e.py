"""End-to-end localization on the synthetic Earth ``bench`` preset, through the real database and workers.

    nice -n 5 python -m tests.benchmarks.localize_e2e [--data /work/data/bench] [--iterations 100] [--photos 50]
        [--no-prior]

(~25 min on a loaded 2-core VM once the preset exists, ~12 min more to generate it.)

Every stage is a real Job run by a Celery worker this command starts (``-P solo``, both queues) on a private
Redis and its own database (``bench_astroloc_e2e``, media in ``var/bench/e2e/media``); both are kept, so a
rerun reuses every finished stage (``--fresh-localize`` redoes the localize jobs only):

1. the preset is generated (``ml.synth``, as ``python -m ml.synth generate --preset bench``) unless present;
2. its three yearly mosaics are ingested (``jobs.ingest``) and all 680 photos imported with ``eol.csv``
   (``jobs.import``): test photos come WITHOUT any label, their only location being the ISS nadir, the
   altitude and the tilt class;
3. training labels: the train split's true footprints become ``imported`` footprints (what an EarthLoc-layout
   CSV import gives); ``jobs.train`` trains resnet18 + GeM at 96 px from scratch on the CPU (the demo's
   model, ``--iterations``, no validation split, one torch thread) and activates it; ``jobs.embed`` embeds
   every tile at 4 rotations;
   The embed job also stores every tile's local features for the verification matcher;
4. ``jobs.localize`` on ``--photos`` of the 200 test photos (evenly spaced) with the nadir prior, once per
   verification rule, each a job with its own ``verify`` parameters: the **old rule** (the best 3 candidates
   fully verified in rank order, no cheap test: ``{"budget_candidates": 3, "cheap_min_inliers": 0}``) and the
   **new default** (the ``ASTROLOC_LOCALIZE_VERIFY_*`` settings' cascade). ``--no-prior`` adds the new
   default with ``use_prior: false`` (global FAISS). A localize job of the same photos run by an older
   checkout (no ``verify`` parameter: its verifier rebuilt pixel mosaics per candidate) is reported too when
   the database holds one. The worker keeps 100 candidates per photo (``ASTROLOC_LOCALIZE_KEEP_CANDIDATES``).

Reported per job: retrieval R@1/5/10/20/100 of the re-ranked candidates (a candidate counts when its tile
intersects the true footprint, as in EarthLoc/AstroLoc), the share of photos with a published footprint,
the share whose footprint has IoU >= 0.5 with the truth and the share published wrongly (IoU < 0.1), and
median / p95 CPU seconds per photo of the whole localization (retrieval + verification; the worker is one
process with one thread); the prior's coverage and selectivity; and benchmark (1): retrieval latency per
photo (single-photo path) and photos/s in a batch, ours vs the reference protocol (exact flat search over
all 4-rotation descriptors), measured in this process with the worker's own code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VAR = REPO / "var" / "bench" / "e2e"
KEEP = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis() -> tuple[subprocess.Popen, str]:
    """A private broker: no other worker on this machine can take (or hand us) a task."""
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="astroloc-e2e-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    raise RuntimeError("private redis-server did not start")


def _setup_django(database: str, broker: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "astroloc_platform.settings_test"
    os.environ["TEST_DATABASE_NAME"] = database
    os.environ["TEST_CELERY_BROKER_URL"] = broker
    os.environ["TEST_MEDIA_ROOT"] = str(VAR / "media")
    (VAR / "media").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)


def _start_worker(database: str, broker: str, log: Path) -> subprocess.Popen:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgis://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
                                         f"{db.get('PORT') or 5432}/{database}",
           "ASTROLOC_LOCALIZE_KEEP_CANDIDATES": str(KEEP),
           "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    name = f"e2e-{os.getpid()}@{socket.gethostname()}"
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "astroloc_platform", "worker",
                             "-Q", "cpu,gpu", "-P", "solo", "-c", "1", "-n", name, "--without-gossip",
                             "--without-mingle", "-l", "info"],
                            cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    from astroloc_platform.celery import app

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited early, see {log}")
        if app.control.ping(destination=[name], timeout=0.5):
            return proc
    raise RuntimeError(f"celery worker not ready after 120 s, see {log}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


# --- stages (jobs run by the worker) ------------------------------------------------------------------------
def stage_labels(truth: dict[str, dict]) -> int:
    """Train-split photos get their true footprint as an ``imported`` footprint (once)."""
    from apps.footprints.constants import FootprintSource
    from apps.footprints.services import footprint_add
    from apps.photos.models import Photo

    added = 0
    train_ids = [pid for pid, t in truth.items() if t["split"] == "train"]
    for photo in Photo.objects.filter(photo_id__in=train_ids).exclude(footprints__is_current=True):
        footprint_add(photo=photo, corners=truth[photo.photo_id]["footprint"], source=FootprintSource.IMPORTED,
                      note="bench: synthetic truth of a training photo")
        added += 1
    return added


def stage_train(name: str, iterations: int) -> None:
    """The demo's model (resnet18 + GeM, 96 px) trained by ``jobs.train``; no validation split (the test photos
    are the evaluation), one torch thread (two threads spin against each other on a loaded 2-core VM)."""
    from apps.core.constants import JobKind
    from apps.core.services import job_enqueue
    from apps.models_registry.models import ModelVersion
    from apps.models_registry.services import model_version_activate
    from workers.demo import follow

    version = ModelVersion.objects.filter(name=name).first()
    if version is None:
        follow(job_enqueue(kind=JobKind.TRAIN, parameters={
            "name": name, "model_preset": "resnet18_gem", "image_size": 96, "iterations": iterations,
            "val_fraction": 0, "num_threads": 1, "activate": True}), "train model")
    else:
        follow(None, "train model", skipped=f"reusing model version {version.pk}")
        if not version.is_active:
            model_version_activate(model_version=version)


#: The verification rules compared: each a localize job with these ``verify`` parameters.
RULES = {"old rule: top 3, no cascade": {"budget_candidates": 3, "cheap_min_inliers": 0},
         "new default (cascade)": {}}
#: A localize job of the same photos by a checkout from before ``verify`` existed (reported when present).
OLDER = "older checkout: top 3, pixel mosaics"


def _localize_parameters(photo_pks: list[int], use_prior: bool, verify: dict | None) -> dict:
    parameters = {"photo_ids": photo_pks, "use_prior": use_prior}
    return parameters if verify is None else parameters | {"verify": verify}


def find_localize(photo_pks: list[int], use_prior: bool, verify: dict | None, version_id: int):
    from apps.core.constants import JobKind, JobStatus
    from apps.core.models import Job

    return (Job.objects.filter(kind=JobKind.LOCALIZE, status=JobStatus.SUCCEEDED,
                               parameters=_localize_parameters(photo_pks, use_prior, verify),
                               result__model_version_id=version_id).order_by("-pk").first())


def stage_localize(photo_pks: list[int], use_prior: bool, verify: dict, version_id: int, fresh: bool):
    """One localize job over the test photos (reused when an identical one already succeeded)."""
    from apps.core.constants import JobKind
    from apps.core.services import job_enqueue
    from workers.demo import follow

    label = f"localize {'prior' if use_prior else 'global'} {'cascade' if not verify else 'top 3'}"
    done = find_localize(photo_pks, use_prior, verify, version_id)
    if done is not None and not fresh:
        follow(None, label, skipped=f"reusing job #{done.pk}")
        return done
    return follow(job_enqueue(kind=JobKind.LOCALIZE, parameters=_localize_parameters(photo_pks, use_prior, verify)),
                  label)


# --- metrics ---------------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _published_corners(outcome: dict) -> list | None:
    """The footprint the job published: the accepted candidate of ``published_rank``; for an older checkout's
    job (no such field) the most-inlier accepted candidate among the first 3, its rule."""
    verified = outcome.get("verified") or []
    if "published_rank" in outcome:
        return next(v["corners"] for v in verified if v["rank"] == outcome["published_rank"])
    accepted = [v for v in verified if v["rank"] < 3]
    return max(accepted, key=lambda v: v["inliers"])["corners"] if accepted else None


def _median_p95(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    return f"{statistics.median(values):.2f} / {values[int(0.95 * (len(values) - 1))]:.2f}"


def accuracy_row(job, truth: dict[str, dict], positives: dict[str, set[int]]) -> dict[str, object]:
    """R@N of the candidates; published / correct (IoU >= 0.5) / wrong (IoU < 0.1) shares; seconds per photo."""
    from ml.geo import polygon_iou

    outcomes = list(job.result["photos"].values())
    n = len(outcomes)
    rec = {k: sum(bool({c["tile_id"] for c in o.get("candidates", [])[:k]} & positives[o["photo_id"]])
                  for o in outcomes) / n for k in (1, 5, 10, 20, 100)}
    verified = correct = wrong = 0
    for o in outcomes:
        corners = _published_corners(o)
        if corners is None:
            continue
        iou = polygon_iou([tuple(c) for c in corners], [tuple(c) for c in truth[o["photo_id"]]["footprint"]])
        verified += 1
        correct += iou >= 0.5
        wrong += iou < 0.1
    return {"n": n, "recall": rec, "verified": verified / n, "correct": correct / n, "wrong": wrong / n,
            "cpu": _median_p95([o["cpu_seconds"] for o in outcomes if "cpu_seconds" in o]),
            "wall": _median_p95([o["seconds"] for o in outcomes if "seconds" in o]),
            "failed": sum(o["status"] == "failed" for o in outcomes)}


def cascade_table(job, positives: dict[str, set[int]]) -> list[str]:
    """How the cascade's defaults were chosen, from one cascade job: per cheap-test gate, the share of photos
    keeping a right candidate (its tile meets the true footprint) above the gate and the wrong candidates per
    photo that would be fully verified; and the published share per candidate budget (published rank < N)."""
    outcomes = list(job.result["photos"].values())
    n = len(outcomes)
    out = ["\nCascade (from the new default's job): cheap-test gate vs right / wrong candidates\n",
           "| cheap inliers >= | photos with a right candidate above | wrong candidates above, per photo |",
           "|---:|---:|---:|"]
    def above(o: dict, gate: int, right: bool) -> list[dict]:
        return [r for r in o.get("cascade", []) if r.get("cheap") is not None and r["cheap"] >= gate
                and (r["tile_id"] in positives[o["photo_id"]]) == right]

    for gate in (4, 6, 8, 10, 12, 15, 20):
        right = sum(bool(above(o, gate, True)) for o in outcomes)
        wrong = sum(len(above(o, gate, False)) for o in outcomes)
        out.append(f"| {gate} | {_pct(right / n)} | {wrong / n:.2f} |")
    ranks = [o["published_rank"] for o in outcomes if "published_rank" in o]
    verified = [sum(1 for o in o_["cascade"] if "accepted" in o) for o_ in outcomes if "cascade" in o_]
    out += ["", "| budget (candidates) | published (rank < budget) |", "|---:|---:|"]
    out += [f"| {b} | {_pct(sum(r < b for r in ranks) / n)} |" for b in (3, 5, 10, 20, 30, 50, 100)]
    if verified:
        out.append(f"\nFull verifications per photo: median {statistics.median(verified):.0f}, max {max(verified)}.")
    return out


def prior_coverage(photos, truth: dict[str, dict], tile_count: int) -> tuple[float, float]:
    """Share of test photos whose true footprint intersects their nadir prior, and the prior's mean selectivity."""
    from apps.core.geo import polygon_from_corners
    from apps.imagery.models import SatelliteTile
    from workers.retrieval import photo_prior

    inside, shares = 0, []
    for photo in photos:
        prior = photo_prior(photo)
        if prior is None:
            continue
        inside += prior.region.intersects(polygon_from_corners(truth[photo.photo_id]["footprint"]))
        shares.append(SatelliteTile.objects.filter(bounds__intersects=prior.region).count() / tile_count)
    return inside / max(len(photos), 1), statistics.mean(shares) if shares else 0.0


def latency_table(photos, version, single_n: int = 20) -> list[str]:
    """Benchmark (1): per-photo latency of the single-photo path and batch photos/s, ours vs the reference."""
    import faiss
    import numpy as np

    from ml.embed import embed_files
    from ml.index import unique_topk
    from workers.retrieval import photo_image_path, photo_prior, rerank, retrieve
    from workers.runtime import runtime_for

    runtime = runtime_for(version)
    desc = np.asarray(runtime.descriptors, dtype=np.float32)
    tile_ids = np.array(sorted(runtime.tile_row, key=runtime.tile_row.get), dtype=np.int64)
    flat = faiss.IndexIDMap(faiss.IndexFlatIP(desc.shape[2]))
    flat.add_with_ids(desc.reshape(-1, desc.shape[2]), np.repeat(tile_ids, desc.shape[1]))
    single = photos[:single_n]
    for photo in single[:3]:  # warm-up: model, caches, buffer pool
        retrieve(photo, version, runtime, prior=photo_prior(photo))
    rows: dict[str, list[float]] = {"ours, nadir prior": [], "ours, no prior (FAISS)": [], "reference": []}
    stages: dict[str, list[float]] = {"embed": [], "candidates prior": [], "candidates faiss": [], "rerank": []}
    agree = 0
    stage_names: set[str] = set()
    for photo in single:
        t0 = time.perf_counter()
        with_prior = retrieve(photo, version, runtime, prior=photo_prior(photo))
        t1 = time.perf_counter()
        without = retrieve(photo, version, runtime, prior=None)
        t2 = time.perf_counter()
        query = embed_files(runtime.model, [photo_image_path(photo)])[0, 0]
        scores, ids = flat.search(query[None, :].astype(np.float32), 10 * 4)
        ref_ids, _ = unique_topk(ids, scores, 10)
        t3 = time.perf_counter()
        rows["ours, nadir prior"].append(t1 - t0)
        rows["ours, no prior (FAISS)"].append(t2 - t1)
        rows["reference"].append(t3 - t2)
        stages["embed"].append(with_prior.seconds["embed"])
        stages["candidates prior"].append(with_prior.seconds["candidates"])
        stage_names.add(with_prior.stage)
        stages["candidates faiss"].append(without.seconds["candidates"])
        stages["rerank"].append(without.seconds["rerank"])
        agree += [c.tile_id for c in without.candidates[:10]] == [int(i) for i in ref_ids[0] if i >= 0]

    paths = [photo_image_path(p) for p in photos]
    t0 = time.perf_counter()
    queries = embed_files(runtime.model, paths, batch_size=32)[:, 0]
    t_embed = time.perf_counter() - t0
    t0 = time.perf_counter()
    cand, _ = runtime.index.search(queries, 100, rotations=4)
    ours = [rerank(q, [int(i) for i in row if i >= 0], runtime) for q, row in zip(queries, cand, strict=True)]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores, ids = flat.search(np.ascontiguousarray(queries, dtype=np.float32), 10 * 4)
    ref, _ = unique_topk(ids, scores, 10)
    t_ref = time.perf_counter() - t0
    batch_agree = sum([c.tile_id for c in o[:10]] == [int(i) for i in r if i >= 0]
                      for o, r in zip(ours, ref, strict=True))

    def ms(values: list[float]) -> str:
        return f"{1000 * statistics.median(values):,.1f} / {1000 * sorted(values)[int(0.95 * (len(values) - 1))]:,.1f}"

    ref_med = statistics.median(rows["reference"])
    out = [f"\nBenchmark (1), CPU, {len(desc):,} tiles x 4 rotations ({desc.shape[2]}-D), single-photo path on "
           f"{len(single)} test photos (embed + candidates + re-rank; verification is timed by the job, below), "
           f"batch on {len(photos)} photos\n",
           "| path | ms per photo, median / p95 | photos/s | vs reference |", "|---|---:|---:|---:|"]
    for name, values in rows.items():
        med = statistics.median(values)
        label = name if name != "reference" else "reference: embed + exact FAISS flat over all rotation descriptors"
        out.append(f"| {label} | {ms(values)} | {1 / med:,.1f} | {ref_med / med:.2f}x |")
    out.append(f"| stages (ours): embed {ms(stages['embed'])}; candidates under the prior "
               f"({'/'.join(sorted(stage_names))}) {ms(stages['candidates prior'])}, "
               f"FAISS {ms(stages['candidates faiss'])}; re-rank {ms(stages['rerank'])} | | | |")
    n = len(photos)
    out += [f"| batch, ours: embed (batch 32) + FAISS top 100 + exact re-rank x4 | | "
            f"{n / (t_embed + t_ours):,.1f} (search alone {n / t_ours:,.0f}) | "
            f"{(t_embed + t_ref) / (t_embed + t_ours):.2f}x |",
            f"| batch, reference: embed (batch 32) + exact FAISS flat | | "
            f"{n / (t_embed + t_ref):,.1f} (search alone {n / t_ref:,.0f}) | 1.00x |",
            f"\nSame top 10 as the reference: {agree}/{len(single)} single, {batch_agree}/{n} batch."]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=VAR / "synth")
    parser.add_argument("--database", default="bench_astroloc_e2e")
    parser.add_argument("--iterations", type=int, default=100, help="training iterations (the demo: 300)")
    parser.add_argument("--fresh-localize", nargs="?", const="all", choices=("all", "cascade"), default=None,
                        help="redo the localize jobs (all, or only the new default's)")
    parser.add_argument("--photos", type=int, default=50, help="test photos localized (every n-th of the 200)")
    parser.add_argument("--no-prior", action="store_true", help="also the new default without a prior (FAISS)")
    args = parser.parse_args()

    started = time.monotonic()
    redis, broker = _start_redis()
    worker = None
    try:
        _setup_django(args.database, broker)
        from workers import demo

        worker = _start_worker(args.database, broker, VAR / "worker.log")
        root = demo.stage_synth(args.data, "bench", 0)
        demo.stage_ingest(root, "bench")
        demo.stage_import(root)
        truth = {t["photo_id"]: t for t in json.loads((root / "truth" / "photos.json").read_text())}
        print(f"training labels: {stage_labels(truth)} imported footprints added")
        model_name = f"bench-resnet18-gem-96px-{args.iterations}it"
        stage_train(model_name, args.iterations)
        demo.stage_embed()

        from apps.imagery.models import SatelliteTile
        from apps.models_registry.selectors import model_version_active
        from apps.photos.models import Photo
        version = model_version_active()
        test_ids = sorted(pid for pid, t in truth.items() if t["split"] == "test")
        photos = list(Photo.objects.filter(photo_id__in=test_ids).order_by("photo_id"))
        photos = photos[:: max(1, len(photos) // max(args.photos, 1))][: args.photos]
        assert all(p.center_point is None for p in photos), "test photos must come without a centre point"
        tiles = {t.pk: t.bounds for t in SatelliteTile.objects.only("pk", "bounds")}
        from apps.core.geo import polygon_from_corners

        positives = {}
        for p in photos:
            fp = polygon_from_corners(truth[p.photo_id]["footprint"])
            positives[p.photo_id] = {pk for pk, b in tiles.items() if b.intersects(fp)}
        pks = [p.pk for p in photos]
        runs = [(True, name, verify) for name, verify in RULES.items()]
        runs += [(False, "new default (cascade)", {})] if args.no_prior else []
        jobs = {(use, name): stage_localize(pks, use, verify, version.pk,
                                            args.fresh_localize == "all" or (args.fresh_localize == "cascade"
                                                                             and not verify))
                for use, name, verify in runs}
        older = find_localize(pks, True, None, version.pk)
        if older is not None:
            jobs = {(True, OLDER): older} | jobs
        results = {key: accuracy_row(job, truth, positives) for key, job in jobs.items()}
        coverage, selectivity = prior_coverage(photos, truth, len(tiles))
    finally:
        if worker is not None:
            _stop(worker)
        _stop(redis)

    metrics = version.metrics
    print(f"\nEnd-to-end, synthetic Earth `bench` (seed 0): {len(tiles):,} database images (3 zooms x 3 years) x 4 "
          f"rotations, {len(photos)} test photos without labels; model version {version.pk} `{version.name}` "
          f"(train job: {metrics.get('train_photos')} labeled photos, {metrics.get('iterations')} iterations, "
          f"{metrics.get('train_seconds')} s); K=100; one worker process, one thread\n")
    print("| rule | prior | R@1 | R@5 | R@10 | R@20 | R@100 | verified | IoU >= 0.5 | wrong (IoU < 0.1) | "
          "CPU s/photo median / p95 | wall s/photo median / p95 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (use, name), r in results.items():
        rec = r["recall"]
        print(f"| {name} (job #{jobs[(use, name)].pk}) | {'nadir' if use else 'none (FAISS)'} | "
              + " | ".join(_pct(rec[k]) for k in (1, 5, 10, 20, 100))
              + f" | {_pct(r['verified'])} | {_pct(r['correct'])} | {_pct(r['wrong'])} | {r['cpu']} | {r['wall']} |")
    print(f"\nNadir prior: the true footprint intersects the prior region for {_pct(coverage)} of the test photos; "
          f"the prior keeps {_pct(selectivity)} of the tiles on average (tilt classes: "
          + ", ".join(f"{k} {sum(p.tilt_class == k for p in photos)}" for k in ("NV", "LO", "HO")) + ").")
    cascade_job = jobs.get((True, "new default (cascade)"))
    if cascade_job is not None:
        print("\n".join(cascade_table(cascade_job, positives)))
    print("\n".join(latency_table(photos, version)))
    print(f"\n<!-- total {time.monotonic() - started:.0f} s -->")
    return 0


if __name__ == "__main__":
    shutil.which("redis-server") or sys.exit("redis-server is needed (the benchmark starts a private broker)")
    raise SystemExit(main())
