"""``manage.py ingest_mosaic PATH --year Y``: register a GeoTIFF mosaic and ingest it as a job."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.models import Job
from apps.imagery.cli import add_tiling_arguments, report_request, tiling_from_options
from apps.imagery.services import mosaic_ingest


class Command(BaseCommand):
    help = (
        "Ingest a GeoTIFF/COG satellite mosaic of one year into the tile database (job `ingest`, cpu queue). "
        "Without --wait or --in-process the job is queued for a worker and the command returns at once; "
        "--wait follows the job until a worker finishes it; --in-process runs it here, no worker needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="GeoTIFF / COG mosaic (any CRS, 8-bit, 1, 3 or 4 bands)")
        add_tiling_arguments(parser)
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        tiling = tiling_from_options(options)
        try:
            request = mosaic_ingest(path=options["path"], year=options["year"], name=options["name"],
                                    tiling=tiling)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not report_request(self, request):
            return
        job = job_follow(self, request.job, options)
        if job is None:
            return
        self._report(job)

    def _report(self, job: Job) -> None:
        result = job.result
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: {result['tile_count']} tiles {result['per_zoom']} in {result['seconds']} s"
        ))
