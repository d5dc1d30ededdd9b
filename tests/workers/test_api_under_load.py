"""The API keeps answering concurrent clients while a localize batch runs on the real worker (a loose check;
the latency figures are the benchmark's: ``python -m tests.benchmarks.api_load``)."""

import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from apps.core.constants import JobKind, JobStatus
from apps.core.models import Job
from apps.core.services import job_enqueue
from tests.workers.fault_helpers import localize_world, wait_until
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

CLIENTS = 4
TIMEOUT_S = 20.0  # "responsive": every request answered well within this, none refused or failed


def test_api_answers_every_request_while_a_localize_batch_runs(live_server, celery_worker):
    _, photos = localize_world(8, "under-load")
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})
    wait_until(lambda: Job.objects.get(pk=job.pk).status == JobStatus.RUNNING, "the job to start", 120)
    urls = [f"{live_server.url}/api/v1/footprints?bbox=9,44,12,47&limit=100", f"{live_server.url}/api/v1/photos",
            f"{live_server.url}/health"]
    answered: list[tuple[int, float, bool]] = []  # (status, seconds, while the job was running)
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(seed: int) -> None:
        try:
            send(seed)
        finally:
            connection.close()  # this thread's own database connection

    def send(seed: int) -> None:
        i = seed
        while not stop.is_set():
            url = urls[i % len(urls)]
            i += 1
            start = time.perf_counter()
            try:
                status = urllib.request.urlopen(url, timeout=TIMEOUT_S).status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                with lock:
                    failures.append(f"{url}: {exc}")
                continue
            running = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists()
            with lock:
                answered.append((status, time.perf_counter() - start, running))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        wait_final(job, timeout=300)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not failures, failures[:5]
    during = [(s, secs) for s, secs, running in answered if running]
    assert len(during) >= 10, f"only {len(during)} requests answered while the job ran"
    assert all(s < 500 for s, _, _ in answered), sorted({s for s, _, _ in answered})
    assert max(secs for _, secs in during) < TIMEOUT_S
