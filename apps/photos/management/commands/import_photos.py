"""``manage.py import_photos PATH... [--csv F]``: import astronaut photos (files, folders, zips) as a batch."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.models import Job
from apps.photos.constants import Visibility
from apps.photos.services import batch_create


class Command(BaseCommand):
    help = (
        "Import photo files (JPEG/PNG/TIFF), folders of them or zips, with an optional metadata CSV (EOL or "
        "EarthLoc layout), as one batch (job `import`, cpu queue). Without --wait or --in-process the job "
        "is queued for a worker; --wait follows it until a worker finishes; --in-process runs it here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="photo files, folders (searched recursively) or zips")
        parser.add_argument("--csv", default=None, help="metadata CSV (EOL or EarthLoc columns)")
        parser.add_argument("--name", default="", help="batch name")
        parser.add_argument("--private", action="store_true", help="import the photos as private")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        try:
            batch = batch_create(paths=options["paths"], csv_path=options["csv"], name=options["name"],
                                 visibility=Visibility.PRIVATE if options["private"] else Visibility.PUBLIC)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        job = batch.job
        self.stdout.write(f"batch #{batch.pk}: job #{job.pk} queued")
        job = job_follow(self, job, options)
        if job is None:
            return
        self._report(job, batch.pk)

    def _report(self, job: Job, batch_pk: int) -> None:
        from apps.photos.models import Batch

        report = Batch.objects.get(pk=batch_pk).report
        for entry in report["files"]:
            if entry["status"] != "imported":
                self.stdout.write(f"  {entry['status']:8} {entry['name']}: {entry.get('message', '')}")
        for warning in report.get("warnings", []):
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
        self.stdout.write(self.style.SUCCESS(f"batch #{batch_pk}: {report['summary']}"))
