"""Builds a localize world in the database DATABASE_URL names and enqueues a localize job on its broker.

Run as a subprocess by the restart tests, whose PostgreSQL and Redis are private (the test process's own
Django connection points at the shared test database):
    python -m tests.workers.private_world N      prints a line "WORLD {json}" with the job and photo ids
"""

import json
import os
import sys


def main(n_photos: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.core.constants import JobKind
    from apps.core.services import job_enqueue
    from tests.workers.fault_helpers import localize_world

    version, photos = localize_world(n_photos, "restart")
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})
    print("WORLD " + json.dumps({"job_id": job.pk, "photo_pks": [p.pk for p in photos], "version_id": version.pk}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
