"""``manage.py embed_tiles --model-version ID``: embed every satellite tile under a model version (job `embed`)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobKind
from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.services import job_enqueue
from apps.models_registry.models import ModelVersion


class Command(BaseCommand):
    help = (
        "Embed every satellite tile at 4 rotations under a model version, then build its pgvector HNSW index "
        "and FAISS index (job `embed`, gpu queue; resumable, a re-run adds only missing tiles). Without --wait "
        "or --in-process the job is queued and the command returns at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model-version", type=int, required=True, help="ModelVersion id")
        parser.add_argument("--activate", action="store_true",
                            help="activate the version once its embeddings and indexes are built (needs --wait "
                                 "or --in-process)")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        version = ModelVersion.objects.filter(pk=options["model_version"]).first()
        if version is None:
            raise CommandError(f"model version {options['model_version']} does not exist "
                               "(list them in the admin under Models registry)")
        job = job_enqueue(kind=JobKind.EMBED, parameters={"model_version_id": version.pk})
        self.stdout.write(f"model version #{version.pk} {version.name}: job #{job.pk} queued")
        job = job_follow(self, job, options)
        if job is None:
            return
        r = job.result
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: {r['tiles']} tiles ({r['tiles_embedded_now']} new), {r['vectors']} vectors, "
            f"FAISS {r['faiss_kind']}, {r['seconds']['total']} s"
        ))
        if options["activate"]:
            from apps.models_registry.services import model_version_activate

            model_version_activate(model_version=version)
            self.stdout.write(f"model version #{version.pk} is now active")
