"""The `import` job: import a batch of astronaut photos (files, zips, metadata CSV) into the archive.

Thin on purpose: the validation, metadata and storage rules are the photos app's services; this module
walks the batch's files, records each file's outcome in the job's partial result (so a redelivered job
resumes after the last file it finished) and reports progress.
"""

import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.photos.files import SourceReader
from apps.photos.models import Batch
from apps.photos.services import batch_fail, batch_finish, batch_import_file, batch_import_plan
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


def _import(ctx: JobContext, batch_id: int) -> dict[str, Any]:
    started = time.monotonic()
    batch = Batch.objects.select_related("created_by").get(pk=batch_id)
    sources = ctx.parameters["sources"]
    plan = batch_import_plan(batch=batch, sources=sources, csv=ctx.parameters.get("csv"))
    logger.info("import %s: %d files planned in %.2fs", batch_id, len(plan.items), time.monotonic() - started)
    outcomes: dict[str, dict[str, Any]] = dict(ctx.partial.get("files", {}))
    total = max(len(plan.items), 1)
    meter = RateMeter(start_count=len(outcomes))
    with SourceReader(sources, max_bytes=settings.ASTROLOC_PHOTO_MAX_BYTES) as reader:
        for i, item in enumerate(plan.items):
            if item.name in outcomes:
                continue
            outcomes[item.name] = batch_import_file(batch=batch, item=item, reader=reader, plan=plan).as_dict()
            if (i + 1) % CHECKPOINT_EVERY == 0:
                ctx.partial["files"] = outcomes
                ctx.save_partial(min((i + 1) / total, 0.99), meter.line(i + 1, len(plan.items), "files"))
            else:
                ctx.progress(min((i + 1) / total, 0.99), meter.line(i + 1, len(plan.items), "files"))
    report = batch_finish(batch=batch, plan=plan, outcomes=[outcomes[item.name] for item in plan.items])
    seconds = time.monotonic() - started
    logger.info("import %s: %s in %.2fs", batch_id, report["summary"], seconds)
    return {"batch_id": batch_id, **report["summary"], "seconds": round(seconds, 3)}


@shared_task(name="jobs.import")
def import_photos(job_id: int) -> dict[str, Any]:
    return run_job(job_id, import_batch)
