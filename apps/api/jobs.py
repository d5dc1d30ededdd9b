"""Starting jobs from the API: kinds with their own entry service go through it.

`ingest` and `import` need a Mosaic or a Batch row before their task can run, so the API calls the same
services as the management commands (``mosaic_ingest``, ``batch_create``) instead of enqueuing raw
parameters the worker could not use. Paths are server-side files: only staff may start these kinds.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from apps.core.constants import JobKind
from apps.core.models import Job
from apps.core.services import job_enqueue
from apps.imagery.services import TilingParameters, mosaic_ingest
from apps.photos.constants import Visibility
from apps.photos.services import batch_create

__all__ = ["job_start"]


def _ingest(parameters: dict[str, Any], user: AbstractBaseUser) -> Job:
    if "path" not in parameters or "year" not in parameters:
        raise ValueError("ingest needs parameters.path (a GeoTIFF on the server) and parameters.year")
    tiling = TilingParameters.from_dict(parameters)
    request = mosaic_ingest(year=int(parameters["year"]), tiling=tiling, path=parameters["path"],
                            name=str(parameters.get("name", "")), created_by=user)
    if request.job is None:  # already ingested with this tiling: the job that did it
        return request.mosaic.job
    return request.job


def _import(parameters: dict[str, Any], user: AbstractBaseUser) -> Job:
    paths = parameters.get("paths")
    if not isinstance(paths, list) or not paths:
        raise ValueError("import needs parameters.paths: server-side photo files, folders or zips "
                         "(to upload files, POST them to /api/v1/batches)")
    batch = batch_create(paths=paths, csv_path=parameters.get("csv_path"), name=str(parameters.get("name", "")),
                         visibility=parameters.get("visibility", Visibility.PUBLIC), created_by=user)
    return batch.job


def job_start(*, kind: str, parameters: dict[str, Any], user: AbstractBaseUser) -> Job:
    """Start a job of ``kind``; raises ValueError with a message a caller can act on."""
    if kind == JobKind.INGEST:
        return _ingest(parameters, user)
    if kind == JobKind.IMPORT:
        return _import(parameters, user)
    return job_enqueue(kind=kind, parameters=parameters, created_by=user)
