"""Ingest and import jobs through a real Celery worker process (cpu queue), enqueued after commit."""

import pytest

from apps.core.constants import JobStatus
from apps.imagery.constants import MosaicStatus
from apps.imagery.models import SatelliteTile
from apps.imagery.services import TilingParameters, mosaic_ingest
from apps.photos.constants import BatchStatus
from apps.photos.models import Photo
from apps.photos.services import batch_create
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_ingest_job_runs_in_the_worker(celery_worker, synth_tiny):
    request = mosaic_ingest(path=synth_tiny / "mosaics" / "2021_3857.tif", year=2021,
                            tiling=TilingParameters(zooms=(10, 11), span=4, size_px=64))

    seen = wait_final(request.job)

    job = request.job
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{celery_worker.log_tail()}"
    assert seen[-1][0] == JobStatus.SUCCEEDED and job.attempts == 1 and job.worker
    request.mosaic.refresh_from_db()
    assert request.mosaic.status == MosaicStatus.INGESTED
    assert request.mosaic.tile_count == SatelliteTile.objects.count() == sum(job.result["per_zoom"].values()) > 0


def test_import_job_runs_in_the_worker(celery_worker, real_samples):
    batch = batch_create(paths=sorted(real_samples.glob("*/photo.jpg")), csv_path=real_samples / "metadata.csv")

    wait_final(batch.job)

    batch.job.refresh_from_db()
    assert batch.job.status == JobStatus.SUCCEEDED, f"{batch.job.error}\n{celery_worker.log_tail()}"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IMPORTED and batch.report["summary"]["imported"] == 8
    assert Photo.objects.filter(batch=batch).count() == 8
