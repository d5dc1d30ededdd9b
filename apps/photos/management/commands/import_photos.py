"""``manage.py import_photos PATH... [--csv F]``: import astronaut photos (files, folders, zips) as a batch."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobStatus
from apps.core.jobrun import job_run_here, job_wait
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
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="wait until a worker has finished the job")
        mode.add_argument("--in-process", action="store_true", help="run the job in this process")

    def handle(self, *args, **options) -> None:
        try:
            batch = batch_create(paths=options["paths"], csv_path=options["csv"], name=options["name"],
                                 visibility=Visibility.PRIVATE if options["private"] else Visibility.PUBLIC)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        job = batch.job
        self.stdout.write(f"batch #{batch.pk}: job #{job.pk} queued")
        if options["in_process"]:
            job = job_run_here(job)
        elif options["wait"]:
            job = job_wait(job, on_progress=self._progress)
        else:
            return
        self._report(job, batch.pk)

    def _progress(self, job: Job) -> None:
        self.stdout.write(f"  {job.status} {job.progress:5.1%} {job.progress_message}")

    def _report(self, job: Job, batch_pk: int) -> None:
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"job #{job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
        from apps.photos.models import Batch

        report = Batch.objects.get(pk=batch_pk).report
        for entry in report["files"]:
            if entry["status"] != "imported":
                self.stdout.write(f"  {entry['status']:8} {entry['name']}: {entry.get('message', '')}")
        for warning in report.get("warnings", []):
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
        self.stdout.write(self.style.SUCCESS(f"batch #{batch_pk}: {report['summary']}"))
