"""``manage.py localize_photos [--batch N] [--photo ID ...]``: localize photos by retrieval (job `localize`)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobKind, JobStatus
from apps.core.jobrun import job_run_here, job_wait
from apps.core.models import Job
from apps.core.services import job_enqueue


class Command(BaseCommand):
    help = (
        "Localize photos with the active model version: retrieval (pgvector + PostGIS under a spatial prior, "
        "FAISS without), exact re-rank, geometric verification (job `localize`, gpu queue). Default: every "
        "photo without a current footprint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=None, help="only the photos of this import batch")
        parser.add_argument("--photo", action="append", default=[], help="a NASA photo id (repeatable)")
        parser.add_argument("--bbox", type=float, nargs=4, metavar=("LON_MIN", "LAT_MIN", "LON_MAX", "LAT_MAX"),
                            help="search only tiles in this region (replaces the metadata prior)")
        parser.add_argument("--no-prior", action="store_true", help="global FAISS search, ignoring metadata")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="wait until a worker has finished the job")
        mode.add_argument("--in-process", action="store_true", help="run the job in this process")

    def handle(self, *args, **options) -> None:
        parameters: dict = {}
        if options["photo"]:
            parameters["photo_ids"] = list(options["photo"])
        elif options["batch"] is not None:
            parameters["batch_id"] = options["batch"]
        if options["bbox"]:
            parameters["bbox"] = list(options["bbox"])
        if options["no_prior"]:
            parameters["use_prior"] = False
        job = job_enqueue(kind=JobKind.LOCALIZE, parameters=parameters)
        self.stdout.write(f"job #{job.pk} queued ({parameters or 'all photos without a footprint'})")
        if options["in_process"]:
            job = job_run_here(job)
        elif options["wait"]:
            job = job_wait(job, on_progress=self._progress)
        else:
            return
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"job #{job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded with model version {job.result['model_version_id']}: {job.result['counts']} "
            f"in {job.result['seconds']} s"
        ))

    def _progress(self, job: Job) -> None:
        self.stdout.write(f"  {job.status} {job.progress:5.1%} {job.progress_message}")
