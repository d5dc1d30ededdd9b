"""``manage.py localize_photos [--batch N] [--photo ID ...]``: localize photos by retrieval (job `localize`)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobKind
from apps.core.geo import bbox_geometry
from apps.core.jobrun import add_follow_arguments, job_follow
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
                            help="search only tiles in this region (replaces the metadata prior); "
                                 "LON_MIN > LON_MAX crosses the antimeridian")
        parser.add_argument("--no-prior", action="store_true", help="global FAISS search, ignoring metadata")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        parameters: dict = {}
        if options["photo"]:
            parameters["photo_ids"] = list(options["photo"])
        elif options["batch"] is not None:
            parameters["batch_id"] = options["batch"]
        if options["bbox"]:
            try:
                bbox_geometry(options["bbox"])
            except ValueError as exc:
                raise CommandError(f"--bbox {' '.join(map(str, options['bbox']))}: {exc}") from exc
            parameters["bbox"] = list(options["bbox"])
        if options["no_prior"]:
            parameters["use_prior"] = False
        job = job_enqueue(kind=JobKind.LOCALIZE, parameters=parameters)
        self.stdout.write(f"job #{job.pk} queued ({parameters or 'all photos without a footprint'})")
        job = job_follow(self, job, options)
        if job is None:
            return
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded with model version {job.result['model_version_id']}: {job.result['counts']} "
            f"in {job.result['seconds']} s"
        ))
