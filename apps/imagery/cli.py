"""Command-line options shared by the ingest commands (``ingest_mosaic``, ``ingest_tiles``): the tiling."""

from django.core.management.base import CommandError, CommandParser

from apps.imagery.constants import DEFAULT_MAX_NODATA, DEFAULT_SPAN, DEFAULT_ZOOMS, TileFormat
from apps.imagery.services import IngestRequest, TilingParameters

__all__ = ["add_tiling_arguments", "parse_floats", "parse_zooms", "report_request", "tiling_from_options"]


def parse_zooms(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(z) for z in value.split(",") if z.strip())
    except ValueError as exc:
        raise CommandError(f"--zooms must be comma-separated integers such as 9,10,11, got {value!r}") from exc


def parse_floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise CommandError(f"expected comma-separated numbers such as 9.5,45.2,10.1,45.6, got {value!r}") from exc


def add_tiling_arguments(parser: CommandParser) -> None:
    parser.add_argument("--year", type=int, required=True, help="acquisition year of the mosaic")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument("--zooms", type=parse_zooms, default=DEFAULT_ZOOMS, help="default 9,10,11")
    parser.add_argument("--span", type=int, default=DEFAULT_SPAN, help="XYZ tiles per side of an image")
    parser.add_argument("--size", type=int, default=None, help="stored image side in px (default span*256)")
    parser.add_argument("--max-nodata", type=float, default=DEFAULT_MAX_NODATA,
                        help="skip images with a larger nodata fraction (default 0.5)")
    parser.add_argument("--format", choices=TileFormat.values, default=TileFormat.JPG)


def tiling_from_options(options: dict) -> TilingParameters:
    try:
        return TilingParameters(zooms=options["zooms"], span=options["span"], size_px=options["size"],
                                max_nodata=options["max_nodata"], format=options["format"])
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def report_request(command, request: IngestRequest) -> bool:
    """Say what ``mosaic_ingest*`` did; False when there is nothing to follow (already ingested)."""
    mosaic = request.mosaic
    if request.is_noop:
        command.stdout.write(f"mosaic #{mosaic.pk} {mosaic} is already ingested ({mosaic.tile_count} tiles): "
                             "nothing to do")
        return False
    command.stdout.write(f"mosaic #{mosaic.pk} {mosaic}: job #{request.job.pk} queued")
    return True
