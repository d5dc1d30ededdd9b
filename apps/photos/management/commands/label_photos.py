"""``manage.py label_photos [--batch N | --photo PK...] [--wait | --in-process]``: automated labeling job."""

from django.core.management.base import BaseCommand, CommandParser

from apps.core.constants import JobKind
from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.models import Job
from apps.core.services import job_enqueue
from apps.photos.selectors import photos_to_label


class Command(BaseCommand):
    help = (
        "Turn weakly labeled photos (a center point, no footprint) into footprints by matching them against "
        "the satellite database (job `label`, gpu queue; runs on CPU too). Accepted photos become `localized`, "
        "the others `needs_review` with the reason. Without --wait or --in-process the job is queued for a "
        "worker; --wait follows it until a worker finishes; --in-process runs it here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--batch", type=int, default=None, help="only the photos of this import batch")
        scope.add_argument("--photo", type=int, nargs="+", default=None, help="only these photo primary keys")
        parser.add_argument("--uncertainty-km", type=float, default=None,
                            help="search radius around the weak label (default: each photo's own, else 111)")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        parameters: dict = {}
        if options["batch"] is not None:
            parameters["batch_id"] = options["batch"]
        if options["photo"] is not None:
            parameters["photo_ids"] = options["photo"]
        if options["uncertainty_km"] is not None:
            parameters["uncertainty_km"] = options["uncertainty_km"]
        count = photos_to_label(photo_ids=options["photo"], batch_id=options["batch"]).count()
        if count == 0:
            self.stdout.write("no photo with a center point and no footprint to label: nothing to do")
            return
        job = job_enqueue(kind=JobKind.LABEL, parameters=parameters)
        self.stdout.write(f"{count} photos to label: job #{job.pk} queued")
        job = job_follow(self, job, options)
        if job is None:
            return
        self._report(job)

    def _report(self, job: Job) -> None:
        r = job.result
        for pk, outcome in sorted(r["outcomes"].items(), key=lambda item: int(item[0])):
            if not outcome["accepted"] and not outcome.get("skipped"):
                self.stdout.write(f"  photo {pk}: needs review: {outcome.get('reason', '')}")
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: {r['accepted']} of {r['labeled']} photos localized, {r['needs_review']} "
            f"need review ({r['seconds_per_photo']} s per photo)"
        ))
