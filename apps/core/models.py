"""The Job row: every long operation is one, so the UI and the API can follow it."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.constants import JobKind, JobStatus

__all__ = ["Job", "JobChunk"]


class Job(models.Model):
    """A background operation (ingest, import, label, train, embed, localize) and its observable state.

    The worker that runs it writes status, progress, result and error here; nothing else is the source of
    truth about a job. ``attempts`` counts worker starts: more than one means a redelivery resumed it.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=JobKind.choices, db_index=True)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0 to 1.")
    progress_message = models.CharField(max_length=255, blank=True, default="")
    parameters = models.JSONField(default=dict, blank=True, help_text="What the job was asked to do.")
    result = models.JSONField(
        default=dict, blank=True, help_text="What the job produced; partial results while it runs."
    )
    error = models.TextField(blank=True, default="", help_text="Why it failed, for a person to act on.")
    celery_task_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    queue = models.CharField(max_length=64, blank=True, default="")
    cancel_requested = models.BooleanField(
        default=False, help_text="Set by a user; the worker stops at its next progress report."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a worker started it.")
    worker = models.CharField(max_length=255, blank=True, default="", help_text="Last worker that ran it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker (each progress report)."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0.0) & models.Q(progress__lte=1.0),
                name="job_progress_between_0_and_1",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return (end - self.started_at).total_seconds()


class JobChunk(models.Model):
    """One slice of a big job's items (photos, tiles), run by whichever worker takes its Celery task.

    A job that scales out (embed, localize) records its plan as chunks once; each chunk keeps its own
    status, how many items it finished and their outcomes, so a chunk whose worker died resumes after the
    last item it recorded, and the job's progress is the sum over its chunks.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    items = models.JSONField(default=list, help_text="Primary keys of the items this chunk processes.")
    size = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Items finished and recorded.")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    result = models.JSONField(default=dict, blank=True, help_text="Per-item outcomes and counts so far.")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="jobchunk_unique_job_index")]

    def __str__(self) -> str:
        return f"job #{self.job_id} chunk {self.index} ({self.status}, {self.done}/{self.size})"
