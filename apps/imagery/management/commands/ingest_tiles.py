"""``manage.py ingest_tiles``: ingest imagery from a tile service (XYZ, TMS, WMTS REST) or a COG by URL."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.remote import FetchFailed
from apps.imagery.cli import add_tiling_arguments, parse_floats, report_request, tiling_from_options
from apps.imagery.services import mosaic_ingest_cog, mosaic_ingest_tiles, stac_asset_href


class Command(BaseCommand):
    help = (
        "Ingest satellite imagery of one year from a tile service or a cloud-optimized GeoTIFF by URL into the "
        "tile database (job `ingest`, cpu queue). Hosts must be listed in ASTROLOC_FETCH_ALLOWED_HOSTS. "
        "--url-template takes {z}/{x}/{y} (XYZ), {-y} (TMS) or {TileMatrix}/{TileRow}/{TileCol} (WMTS REST) "
        "and needs --bbox; --cog URL or --stac-item URL --asset KEY read a COG in windows over HTTP."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--url-template", help="tile URL, e.g. 'https://host/{z}/{x}/{y}.jpg'")
        source.add_argument("--cog", help="URL of a cloud-optimized GeoTIFF")
        source.add_argument("--stac-item", help="URL of a STAC item whose --asset is a COG")
        parser.add_argument("--asset", default="visual", help="asset key of --stac-item (default: visual)")
        parser.add_argument("--bbox", type=parse_floats, default=None,
                            help="lon_min,lat_min,lon_max,lat_max (required with --url-template)")
        parser.add_argument("--attribution", default="", help="credit shown on the map, e.g. '© Provider 2021'")
        parser.add_argument("--concurrency", type=int, default=None,
                            help="tile requests in flight (default ASTROLOC_TILE_FETCH_CONCURRENCY)")
        parser.add_argument("--rate", type=float, default=None,
                            help="tile requests per second, 0 unlimited (default ASTROLOC_TILE_FETCH_RATE)")
        add_tiling_arguments(parser)
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        tiling = tiling_from_options(options)
        common = {"year": options["year"], "tiling": tiling, "name": options["name"],
                  "attribution": options["attribution"]}
        try:
            if options["url_template"]:
                if options["bbox"] is None:
                    raise CommandError("--url-template needs --bbox lon_min,lat_min,lon_max,lat_max.")
                request = mosaic_ingest_tiles(url_template=options["url_template"], bbox=options["bbox"],
                                              concurrency=options["concurrency"], rate_per_s=options["rate"],
                                              **common)
            else:
                url = options["cog"] or stac_asset_href(item_url=options["stac_item"], asset=options["asset"])
                request = mosaic_ingest_cog(url=url, bbox=options["bbox"], **common)
        except (ValueError, FetchFailed) as exc:
            raise CommandError(str(exc)) from exc
        if not report_request(self, request):
            return
        job = job_follow(self, request.job, options)
        if job is None:
            return
        result = job.result
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: {result['tile_count']} tiles {result['per_zoom']} in {result['seconds']} s "
            f"(fetch: {result.get('fetch', {})})"
        ))
