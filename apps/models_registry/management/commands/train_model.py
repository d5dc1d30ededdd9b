"""``manage.py train_model --preset resnet18_gem --iterations N [--wait | --in-process]``: the `train` job."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobKind
from apps.core.jobrun import add_follow_arguments, job_follow
from apps.core.services import job_enqueue


def _json_object(value: str) -> dict:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--set must be a JSON object such as '{{\"lr\": 3e-4}}': {exc}") from exc
    if not isinstance(data, dict):
        raise CommandError(f"--set must be a JSON object, got {value!r}")
    return data


class Command(BaseCommand):
    help = (
        "Train a descriptor model on the database (labeled photo/tile pairs with IoU > 0.2, all tiles for MUM) "
        "and register it as a new ModelVersion (job `train`, gpu queue; runs on CPU too). Not activated unless "
        "--activate. Without --wait or --in-process the job is queued for a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", default="resnet18_gem", help="model preset (ml.models.registry)")
        parser.add_argument("--iterations", type=int, default=1000)
        parser.add_argument("--image-size", type=int, default=None, help="input size (default: the preset's)")
        parser.add_argument("--pairs-per-batch", type=int, default=None)
        parser.add_argument("--mum-locations-per-batch", type=int, default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--val-fraction", type=float, default=0.25,
                            help="share of labeled photos held out as validation queries")
        parser.add_argument("--name", default="", help="ModelVersion name (default <preset>-job<id>)")
        parser.add_argument("--activate", action="store_true", help="make the new version the active one")
        parser.add_argument("--set", type=_json_object, default={},
                            help="further ml.train.TrainConfig fields as JSON, e.g. '{\"lr\": 3e-4}'")
        add_follow_arguments(parser)

    def handle(self, *args, **options) -> None:
        parameters = {**options["set"], "model_preset": options["preset"], "iterations": options["iterations"],
                      "seed": options["seed"], "val_fraction": options["val_fraction"],
                      "activate": options["activate"]}
        for key in ("image_size", "pairs_per_batch", "mum_locations_per_batch", "name"):
            if options[key]:
                parameters[key] = options[key]
        job = job_enqueue(kind=JobKind.TRAIN, parameters=parameters)
        self.stdout.write(f"train job #{job.pk} queued")
        job = job_follow(self, job, options)
        if job is None:
            return
        r = job.result
        recall = {k: round(v, 3) for k, v in r["metrics"].items() if "R@" in k}
        self.stdout.write(self.style.SUCCESS(
            f"job #{job.pk} succeeded: model version #{r['model_version_id']} {r['name']}"
            f"{' (active)' if r['is_active'] else ''}; {recall}"
        ))
