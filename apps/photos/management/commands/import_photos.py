"""``manage.py import_photos PATH... [--csv F]`` or ``import_photos --manifest F``: import astronaut photos (files,
folders, zips, or the files a manifest names by URL) as a batch."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.models import Job
from apps.photos.constants import Visibility
from apps.photos.services import batch_create


class Command(BaseCommand):
    help = (
        "Import photo files (JPEG/PNG/TIFF), folders of them or zips, with an optional metadata file (CSV in "
        "the EOL, NASA or EarthLoc layout, or the JSON of NASA's Photos Database API), as one batch (job "
        "`import`, cpu queue). --manifest instead downloads the file of every row no given file matches "
        "(URL column, or EOL images.directory + images.filename; hosts must be in ASTROLOC_FETCH_ALLOWED_HOSTS). "
        "Without --wait or --in-process the job is queued for a worker; --wait follows it until a worker "
        "finishes; --in-process runs it here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="photo files, folders (searched recursively) or zips")
        metadata = parser.add_mutually_exclusive_group()
        metadata.add_argument("--csv", default=None, help="metadata file: CSV (EOL, NASA or EarthLoc columns) or "
                                                          "EOL JSON")
        metadata.add_argument("--manifest", default=None, help="manifest (EOL JSON, or CSV with a URL column): "
                                                               "its rows' files are downloaded by the job")
        parser.add_argument("--name", default="", help="batch name")
        parser.add_argument("--private", action="store_true", help="import the photos as private")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        try:
            batch = batch_create(paths=options["paths"], csv_path=options["csv"] or options["manifest"],
                                 download=options["manifest"] is not None, name=options["name"],
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
        for reason in report.get("attention", []):
            self.stdout.write(self.style.WARNING(f"  attention: {reason}"))
        style = self.style.WARNING if report["summary"].get("needs_attention") else self.style.SUCCESS
        self.stdout.write(style(f"batch #{batch_pk}: {report['summary']}"))
