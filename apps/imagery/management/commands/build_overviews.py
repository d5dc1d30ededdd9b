"""``manage.py build_overviews [--year Y]``: overview tiles down to zoom 0 for mosaics already ingested."""

from django.core.management.base import BaseCommand, CommandParser

from apps.imagery.overviews import basemap_overviews_build
from apps.imagery.selectors import mosaic_years


class Command(BaseCommand):
    help = ("Build the basemap's overview tiles (below the coarsest stored zoom, down to zoom 0) of every imagery "
            "year, or of --year; ingests build them themselves, this is for imagery stored before. Idempotent.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=None, help="only this year (default: every year)")

    def handle(self, *args, **options) -> None:
        years = [options["year"]] if options["year"] is not None else mosaic_years()
        for year in years:
            result = basemap_overviews_build(year=year)
            if result.from_zoom is None:
                self.stdout.write(f"{year}: no stored imagery, nothing to build")
                continue
            levels = ", ".join(f"z{z}: {n}" for z, n in sorted(result.per_zoom.items()))
            self.stdout.write(self.style.SUCCESS(f"{year}: {result.tile_count} overview tiles from "
                                                 f"z{result.from_zoom} ({levels}) in {result.seconds} s"))
