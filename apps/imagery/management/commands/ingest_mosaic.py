"""``manage.py ingest_mosaic PATH --year Y``: register a GeoTIFF mosaic and ingest it as a job."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.models import Job
from apps.imagery.constants import DEFAULT_MAX_NODATA, DEFAULT_SPAN, DEFAULT_ZOOMS, TileFormat
from apps.imagery.services import TilingParameters, mosaic_ingest


def _zooms(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(z) for z in value.split(",") if z.strip())
    except ValueError as exc:
        raise CommandError(f"--zooms must be comma-separated integers such as 9,10,11, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Ingest a GeoTIFF/COG satellite mosaic of one year into the tile database (job `ingest`, cpu queue). "
        "Without --wait or --in-process the job is queued for a worker and the command returns at once; "
        "--wait follows the job until a worker finishes it; --in-process runs it here, no worker needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="GeoTIFF / COG mosaic (any CRS, 8-bit, 1, 3 or 4 bands)")
        parser.add_argument("--year", type=int, required=True, help="acquisition year of the mosaic")
        parser.add_argument("--name", default="", help="display name (default: the file name)")
        parser.add_argument("--zooms", type=_zooms, default=DEFAULT_ZOOMS, help="default 9,10,11")
        parser.add_argument("--span", type=int, default=DEFAULT_SPAN, help="XYZ tiles per side of an image")
        parser.add_argument("--size", type=int, default=None, help="stored image side in px (default span*256)")
        parser.add_argument("--max-nodata", type=float, default=DEFAULT_MAX_NODATA,
                            help="skip images with a larger nodata fraction (default 0.5)")
        parser.add_argument("--format", choices=TileFormat.values, default=TileFormat.JPG)
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        try:
            tiling = TilingParameters(zooms=options["zooms"], span=options["span"], size_px=options["size"],
                                      max_nodata=options["max_nodata"], format=options["format"])
            request = mosaic_ingest(path=options["path"], year=options["year"], name=options["name"],
                                    tiling=tiling)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        mosaic = request.mosaic
        if request.is_noop:
            self.stdout.write(f"mosaic #{mosaic.pk} {mosaic} is already ingested ({mosaic.tile_count} tiles): "
                              "nothing to do")
            return
        job = request.job
        self.stdout.write(f"mosaic #{mosaic.pk} {mosaic}: job #{job.pk} queued")
        job = job_follow(self, job, options)
        if job is None:
            return
        self._report(job)

    def _report(self, job: Job) -> None:
        result = job.result
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: {result['tile_count']} tiles {result['per_zoom']} in {result['seconds']} s"
        ))
