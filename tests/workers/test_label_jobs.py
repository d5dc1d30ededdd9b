"""The `label` job through a real worker: weakly labeled synthetic photos -> footprints in PostGIS or review."""

import pytest

from apps.core.constants import JobKind, JobStatus
from apps.core.geo import polygon_corners
from apps.core.models import Job
from apps.core.services import job_enqueue
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


def test_resumed_job_skips_finished_photos_and_counts_its_own_footprints(label_world, labeled_batch):
    pks = list(Photo.objects.filter(batch=labeled_batch).order_by("pk").values_list("pk", flat=True))[:3]
    job = Job.objects.create(kind=JobKind.LABEL, parameters={"photo_ids": pks}, queue="gpu")
    first = label_photos(JobContext(job.pk, job.parameters, {}, 1))
    done_before = Footprint.objects.filter(job=job).count()

    # A redelivery after a crash: the partial result forgot the last two photos, the database did not.
    partial = {"photo_pks": pks, "outcomes": {str(pks[0]): first["outcomes"][str(pks[0])]}, "seconds": 0.0}
    second = label_photos(JobContext(job.pk, job.parameters, partial, 2))

    assert Footprint.objects.filter(job=job).count() == done_before
    assert second["accepted"] == first["accepted"] and second["labeled"] == 3
    for pk in pks[1:]:
        if first["outcomes"][str(pk)]["accepted"]:
            assert second["outcomes"][str(pk)]["resumed"] is True


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
