"""The `label` job through a real worker: weakly labeled synthetic photos -> footprints in PostGIS or review."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.geo import polygon_corners
from apps.core.models import Job, JobChunk
from apps.core.services import job_enqueue, job_recover_stale
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from ml.geo import polygon_iou
from ml.synth.loader import load_synth
from tests.workers.labeling_world import generate_label_world, ingest_and_import
from tests.workers.test_job_runner import wait_final
from workers.jobs import JobContext
from workers.label import label_photos

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture(scope="session")
def label_world(tmp_path_factory):
    return generate_label_world(tmp_path_factory.mktemp("label-world"))


@pytest.fixture
def labeled_batch(label_world):
    return ingest_and_import(label_world)


def test_label_job_writes_accurate_footprints_and_flags_the_rest(celery_worker, label_world, labeled_batch):
    truth = {p.photo_id: p.footprint for p in load_synth(label_world).photos}
    photos = list(Photo.objects.filter(batch=labeled_batch, center_point__isnull=False))
    assert len(photos) == 10

    job = job_enqueue(kind=JobKind.LABEL, parameters={"batch_id": labeled_batch.pk})
    wait_final(job, timeout=180)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{celery_worker.log_tail()}"
    assert job.result["labeled"] == 10 and job.result["seconds_per_photo"] > 0
    accepted = Footprint.objects.filter(photo__batch=labeled_batch, source=FootprintSource.AUTO_LABEL)
    assert job.result["accepted"] == accepted.count() >= 3, job.result
    for footprint in accepted.select_related("photo"):
        assert footprint.is_current and footprint.job_id == job.pk and footprint.matched_tile_id is not None
        assert footprint.inliers > 0 and 0.5 <= footprint.confidence < 1.0
        assert footprint.photo.status == PhotoStatus.LOCALIZED
        assert polygon_iou(polygon_corners(footprint.polygon), truth[footprint.photo.photo_id]) >= 0.5
    rejected = Photo.objects.filter(batch=labeled_batch).exclude(pk__in=accepted.values("photo_id"))
    assert rejected.count() == job.result["needs_review"] == 10 - accepted.count()
    for photo in rejected:
        assert photo.status == PhotoStatus.NEEDS_REVIEW and photo.status_reason.startswith("automated labeling: ")

    footprints_before = Footprint.objects.count()
    again = job_enqueue(kind=JobKind.LABEL, parameters={})  # everything without a footprint: the rejected ones
    wait_final(again, timeout=180)
    again.refresh_from_db()
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert sorted(again.result["photo_pks"]) == sorted(rejected.values_list("pk", flat=True))
    assert Footprint.objects.count() == footprints_before  # nothing relabeled, nothing duplicated


def test_label_job_runs_in_chunks_and_a_redelivery_adds_nothing(settings, label_world, labeled_batch):
    settings.ASTROLOC_LABEL_CHUNK_PHOTOS = 2
    pks = list(Photo.objects.filter(batch=labeled_batch).order_by("pk").values_list("pk", flat=True))[:3]
    job = Job.objects.create(kind=JobKind.LABEL, parameters={"photo_ids": pks}, queue="gpu", status=JobStatus.RUNNING)
    first = label_photos(JobContext(job.pk, job.parameters, {}, 1))
    footprints = list(Footprint.objects.filter(job=job).values_list("pk", flat=True))

    # A redelivery after the chunks finished: the plan is reused, nothing is labeled again.
    second = label_photos(JobContext(job.pk, job.parameters, {}, 2))

    assert first["chunks"] == 2 and [c.items for c in JobChunk.objects.filter(job=job).order_by("index")] == [
        pks[:2], pks[2:]]
    assert second == first and first["labeled"] == 3 and first["photo_pks"] == pks
    assert list(Footprint.objects.filter(job=job).values_list("pk", flat=True)) == footprints
    assert len(footprints) == first["accepted"]


def test_a_resumed_label_chunk_does_not_relabel_recorded_photos(celery_worker, label_world, labeled_batch):
    pks = list(Photo.objects.filter(batch=labeled_batch).order_by("pk").values_list("pk", flat=True))[:4]
    status_before = Photo.objects.get(pk=pks[0]).status
    recorded = {"accepted": False, "reason": "recorded before its worker died", "seconds": 0.5}
    job = Job.objects.create(kind=JobKind.LABEL, parameters={"photo_ids": pks}, queue=JOB_KIND_QUEUE[JobKind.LABEL],
                             status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=5))
    # The plan of the first attempt (two chunks), and the chunk its dead worker left: one photo recorded.
    JobChunk.objects.create(job=job, index=0, items=pks[:2], size=2, done=1, status=JobStatus.RUNNING, attempts=1,
                            result={"outcomes": {str(pks[0]): recorded}})
    JobChunk.objects.create(job=job, index=1, items=pks[2:], size=2)

    assert job_recover_stale(stale_after=timedelta(seconds=0)) == [job.pk]
    wait_final(job, timeout=180)

    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{celery_worker.log_tail()}"
    assert job.result["chunks"] == 2 and job.result["photo_pks"] == pks and job.result["labeled"] == 4
    assert job.result["outcomes"][str(pks[0])] == recorded  # not labeled again: no row, same outcome
    assert Photo.objects.get(pk=pks[0]).status == status_before
    assert not Footprint.objects.filter(photo_id=pks[0]).exists()
    for pk in pks[1:]:
        outcome, photo = job.result["outcomes"][str(pk)], Photo.objects.get(pk=pk)
        made = Footprint.objects.filter(photo=photo, job=job)
        if outcome["accepted"]:
            assert photo.status == PhotoStatus.LOCALIZED and made.get().pk == outcome["footprint_id"]
        else:
            assert photo.status == PhotoStatus.NEEDS_REVIEW and not made.exists(), outcome
    chunks = list(JobChunk.objects.filter(job=job).order_by("index"))
    done = JobStatus.SUCCEEDED
    assert [(c.status, c.done, c.attempts) for c in chunks] == [(done, 2, 2), (done, 2, 1)]
    assert Footprint.objects.filter(job=job).count() == job.result["accepted"]


def test_unknown_config_key_fails_the_job_with_the_valid_keys(labeled_batch):
    job = Job.objects.create(kind=JobKind.LABEL, parameters={"config": {"max_zoom": 3}}, queue="gpu")
    with pytest.raises(ValueError, match=r"unknown labeling config keys \['max_zoom'\]; valid keys: .*max_zooms"):
        label_photos(JobContext(job.pk, job.parameters, {}, 1))


def test_label_photos_command_in_process_then_nothing_to_do(label_world, labeled_batch, capsys):
    from django.core.management import call_command

    call_command("label_photos", "--batch", str(labeled_batch.pk), "--in-process")
    out = capsys.readouterr().out
    accepted = Footprint.objects.filter(photo__batch=labeled_batch, source=FootprintSource.AUTO_LABEL).count()
    assert "10 photos to label" in out and f"{accepted} of 10 photos localized" in out and "needs review: " in out

    call_command("label_photos", "--photo", str(Footprint.objects.first().photo_id), "--in-process")
    assert "nothing to do" in capsys.readouterr().out
