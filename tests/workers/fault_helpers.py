"""Worlds and waits shared by the fault tests: a localize batch or an embed job big enough to interrupt."""

from __future__ import annotations

import time
from collections.abc import Callable

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.jobrun import job_run_here
from apps.core.models import Job, JobChunk
from apps.footprints.models import Footprint
from apps.models_registry.models import ModelVersion
from apps.models_registry.services import model_version_activate
from apps.photos.models import Photo
from tests.workers.localize_fixtures import GRID, make_grid, make_version, photo_from_tile

# Small chunks so that a job of a dozen items spans several chunks (and several tasks).
CHUNK_ENV = {"ASTROLOC_LOCALIZE_CHUNK_PHOTOS": "3", "ASTROLOC_EMBED_CHUNK_TILES": "16",
             "ASTROLOC_EMBED_BATCH_TILES": "4"}


def embed_here(version: ModelVersion) -> Job:
    job = Job.objects.create(kind=JobKind.EMBED, parameters={"model_version_id": version.pk},
                             queue=JOB_KIND_QUEUE[JobKind.EMBED])
    job = job_run_here(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def localize_world(n_photos: int = 12, name: str = "fault") -> tuple[ModelVersion, list[Photo]]:
    """The 4 x 4 tile grid embedded under an active version, and ``n_photos`` photos cut from its tiles."""
    grid = make_grid()
    version = make_version(f"{name}-v1", seed=0)
    embed_here(version)
    model_version_activate(model_version=version)
    cells = [(i, j) for i in range(GRID) for j in range(GRID)]
    return version, [photo_from_tile(grid, cells[k % len(cells)]) for k in range(n_photos)]


def embed_world(n: int = 8, name: str = "fault-embed") -> ModelVersion:
    """An n x n tile grid and a version (224 px, so embedding takes long enough to be interrupted)."""
    make_grid(n=n)
    return make_version(name, seed=0, image_size=224)


def chunks_done(job: Job) -> int:
    return sum(JobChunk.objects.filter(job=job).values_list("done", flat=True))


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 240.0, *, interval: float = 0.05,
               details: Callable[[], str] | None = None) -> None:
    """Poll ``predicate`` until it holds; on timeout fail naming ``what`` (plus ``details()``: state at that moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    extra = f": {details()}" if details else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{extra}")


def recorded_outcomes(job: Job) -> dict[str, dict]:
    """Every photo outcome the job's chunks recorded so far, by photo pk."""
    out: dict[str, dict] = {}
    for result in JobChunk.objects.filter(job=job).values_list("result", flat=True):
        out.update(result.get("photos", {}))
    return out


def assert_photos_match_outcomes(job: Job, photos: list[Photo]) -> dict[str, dict]:
    """The database agrees with the recorded outcomes: a photo with an outcome has exactly the rows it says
    (one footprint of this job when localized, none otherwise); a photo without one was not touched."""
    outcomes = recorded_outcomes(job)
    for photo in photos:
        photo.refresh_from_db()
        made = Footprint.objects.filter(photo=photo, job=job)
        outcome = outcomes.get(str(photo.pk))
        if outcome is None:
            assert not made.exists(), f"photo {photo.pk} has a footprint of job {job.pk} but no recorded outcome"
            continue
        assert photo.status == outcome["status"], (photo.pk, photo.status, outcome)
        if outcome["status"] == "localized":
            assert made.count() == 1 and made.get().pk == outcome["footprint_id"], (photo.pk, outcome)
            assert made.get().model_version_id == outcome["model_version_id"] == job.result["model_version_id"]
        else:
            assert not made.exists(), (photo.pk, outcome)
    return outcomes
