"""Job services without a worker: enqueue after commit, claim rules, cancellation of queued jobs."""

import pytest
from django.db import transaction

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.models import Job
from apps.core.services import job_cancel, job_claim, job_enqueue


def _queued_task_ids(queue: str) -> list[str]:
    """Task ids waiting in a Redis queue of the test broker (kombu keeps a list per queue)."""
    import json

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]


@pytest.mark.django_db(transaction=True)
def test_enqueue_sends_the_task_to_the_broker_only_after_commit(monkeypatch):
    queue = "test-enqueue-on-commit"  # a queue no worker serves, so the message stays for inspection
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.EMBED, queue)
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)

    with transaction.atomic():
        job = job_enqueue(kind=JobKind.EMBED, parameters={"model_version": 3})
        assert _queued_task_ids(queue) == []
    assert _queued_task_ids(queue) == [job.celery_task_id]
    assert job.queue == queue and job.celery_task_id == str(job.uuid)


@pytest.mark.django_db
def test_unknown_kind_is_refused_with_the_known_kinds():
    with pytest.raises(ValueError, match=r"Unknown job kind 'teleport'.*ingest"):
        job_enqueue(kind="teleport")


@pytest.mark.django_db
def test_claim_refuses_final_jobs_and_counts_attempts():
    job = Job.objects.create(kind=JobKind.SELFTEST)
    claimed = job_claim(job_id=job.pk, worker="w1")
    assert claimed is not None and claimed.status == JobStatus.RUNNING and claimed.attempts == 1
    again = job_claim(job_id=job.pk, worker="w2")  # the first worker died: resumed
    assert again is not None and again.attempts == 2 and again.worker == "w2"
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert job_claim(job_id=job.pk, worker="w3") is None


@pytest.mark.django_db
def test_cancel_of_a_queued_job_is_immediate_and_blocks_its_claim():
    job = Job.objects.create(kind=JobKind.SELFTEST)
    job = job_cancel(job=job)
    assert job.status == JobStatus.CANCELLED
    assert job_claim(job_id=job.pk, worker="w1") is None
