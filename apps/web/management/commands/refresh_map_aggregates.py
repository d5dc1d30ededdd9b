"""``manage.py refresh_map_aggregates [--force]``: refresh the map's materialized counts now (after a bulk load)."""

import time

from django.core.management.base import BaseCommand, CommandParser

from apps.web.mapcells import map_aggregates_refresh


class Command(BaseCommand):
    help = ("Refresh the web map's per-cell and per-month footprint counts (apps.web.mapcells) if footprints or "
            "photos changed since the last refresh; celery beat does this every minute.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="refresh even when nothing changed")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        refreshed = map_aggregates_refresh(force=options["force"])
        state = "refreshed" if refreshed else "already fresh"
        self.stdout.write(self.style.SUCCESS(f"map aggregates {state} in {time.monotonic() - started:.1f} s"))
