"""The `import` job: import a batch of astronaut photos (files, zips, metadata file, manifest URLs) into the
archive.

Thin on purpose: the validation, metadata, download and storage rules are the photos app's services; this
module downloads the files a manifest names, then walks the batch's files, records each download's and each
file's outcome in the job's partial result (so a redelivered job resumes after the last one it finished:
finished downloads are not fetched again, a partial one resumes) and reports progress on the Job row.
"""

import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.photos.downloads import photo_download
from apps.photos.files import SourceReader
from apps.photos.models import Batch
from apps.photos.services import ImportPlan, batch_fail, batch_finish, batch_import_file, batch_import_plan
from ml.progress import RateMeter
from workers.jobs import JobContext, run_job

__all__ = ["import_batch", "import_photos"]

logger = logging.getLogger(__name__)

CHECKPOINT_EVERY = 10


def import_batch(ctx: JobContext) -> dict[str, Any]:
    """Job body: plan, import each file not yet done, finish the report; returns the report's summary."""
    batch_id = int(ctx.parameters["batch_id"])
    try:
        return _import(ctx, batch_id)
    except Exception as exc:
        batch_fail(batch_id=batch_id, error=f"{type(exc).__name__}: {exc}")
        raise


def _download(ctx: JobContext, plan: ImportPlan) -> None:
    """Fetch each file the manifest names (recorded one by one in the partial result) and add it to the plan."""
    done: dict[str, dict[str, Any]] = ctx.partial.setdefault("downloads", {})
    total = len(plan.downloads)
    for i, download in enumerate(plan.downloads):
        if download.url not in done:
            started = time.monotonic()
            done[download.url] = photo_download(download)
            logger.info("import %s: %s %s in %.2fs", ctx.job_id, download.url, done[download.url]["status"],
                        time.monotonic() - started)
            ctx.save_partial(0.5 * (i + 1) / total, f"downloaded {i + 1}/{total} files")
        plan.add_download(download, done[download.url])


def _import(ctx: JobContext, batch_id: int) -> dict[str, Any]:
    started = time.monotonic()
    batch = Batch.objects.select_related("created_by").get(pk=batch_id)
    plan = batch_import_plan(batch=batch, sources=ctx.parameters["sources"], csv=ctx.parameters.get("csv"),
                             download=bool(ctx.parameters.get("download")))
    logger.info("import %s: %d files and %d downloads planned in %.2fs", batch_id, len(plan.items),
                len(plan.downloads), time.monotonic() - started)
    _download(ctx, plan)
    outcomes: dict[str, dict[str, Any]] = dict(ctx.partial.get("files", {}))
    total = max(len(plan.items), 1)
    base = 0.5 if plan.downloads else 0.0
    meter = RateMeter(start_count=len(outcomes))
    with SourceReader(plan.sources, max_bytes=settings.ASTROLOC_PHOTO_MAX_BYTES) as reader:
        for i, item in enumerate(plan.items):
            if item.name in outcomes:
                continue
            outcomes[item.name] = batch_import_file(batch=batch, item=item, reader=reader, plan=plan).as_dict()
            fraction = min(base + (1 - base) * (i + 1) / total, 0.99)
            if (i + 1) % CHECKPOINT_EVERY == 0:
                ctx.partial["files"] = outcomes
                ctx.save_partial(fraction, f"{meter.line(i + 1, len(plan.items), 'files')} imported")
            else:
                ctx.progress(fraction, f"{meter.line(i + 1, len(plan.items), 'files')} imported")
    report = batch_finish(batch=batch, plan=plan, outcomes=[outcomes[item.name] for item in plan.items])
    seconds = time.monotonic() - started
    logger.info("import %s: %s in %.2fs", batch_id, report["summary"], seconds)
    return {"batch_id": batch_id, **report["summary"], "seconds": round(seconds, 3)}


@shared_task(name="jobs.import")
def import_photos(job_id: int) -> dict[str, Any]:
    return run_job(job_id, import_batch)
