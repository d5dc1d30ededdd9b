"""Job kinds, statuses and the queue each kind runs on."""

from django.db import models

__all__ = ["FINAL_JOB_STATUSES", "JOB_KIND_QUEUE", "JobKind", "JobStatus", "Queue", "job_task_name"]


class Queue(models.TextChoices):
    CPU = "cpu", "CPU (ingest, import)"
    GPU = "gpu", "GPU (label, train, embed, localize; falls back to CPU)"


class JobKind(models.TextChoices):
    INGEST = "ingest", "Ingest satellite mosaic"
    IMPORT = "import", "Import photo batch"
    LABEL = "label", "Auto-label weakly labeled photos"
    TRAIN = "train", "Train a model version"
    EMBED = "embed", "Embed the tile database"
    LOCALIZE = "localize", "Localize photos"
    SELFTEST = "selftest", "Self-test of the job system"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})

JOB_KIND_QUEUE: dict[str, str] = {
    JobKind.INGEST: Queue.CPU,
    JobKind.IMPORT: Queue.CPU,
    JobKind.LABEL: Queue.GPU,
    JobKind.TRAIN: Queue.GPU,
    JobKind.EMBED: Queue.GPU,
    JobKind.LOCALIZE: Queue.GPU,
    JobKind.SELFTEST: Queue.CPU,
}


def job_task_name(kind: str) -> str:
    """The Celery task name that runs jobs of ``kind``: the contract between apps and workers."""
    return f"jobs.{kind}"
