"""The Celery application: configured from Django settings (``CELERY_*``), tasks discovered in ``workers``.

Task routing is by name: every job kind has a task ``jobs.<kind>`` and a queue (``apps.core.constants``),
so the apps enqueue by name without importing the workers.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings")

app = Celery("astroloc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"], related_name="tasks")
