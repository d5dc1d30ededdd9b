"""Enqueue a Celery task by name once the current transaction commits.

The apps never import the workers: they name the task. Sending after commit means a worker never sees a
job id whose row is not yet visible (zulip's ``queue_event_on_commit``).
"""

from typing import Any

from celery import current_app
from django.db import transaction

__all__ = ["enqueue_on_commit"]


def enqueue_on_commit(
    task_name: str, *, args: list[Any], queue: str, task_id: str | None = None
) -> None:
    """Send ``task_name(*args)`` to ``queue`` after the surrounding transaction commits."""

    def send() -> None:
        current_app.send_task(task_name, args=args, queue=queue, task_id=task_id)

    transaction.on_commit(send)
