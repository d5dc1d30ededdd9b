"""Page views: thin. They parse, call selectors and render; writes go through the REST API from the page."""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.api.filters import FootprintFilterSerializer
from apps.core.constants import JobKind, JobStatus
from apps.core.selectors import job_get, job_list
from apps.footprints.constants import THIRD_PARTY_SOURCES, FootprintSource
from apps.footprints.selectors import footprint_history
from apps.footprints.services import footprint_iou
from apps.photos.constants import PhotoStatus, TiltClass
from apps.photos.selectors import batch_list, photo_get
from apps.web.selectors import basemap_layers, batch_followup_jobs, batch_import_job, map_data, review_queue

login_page_required = login_required(login_url="web:login")

MAP_FILTER_FIELDS = ("q", "mission", "date_from", "date_to", "focal_min", "focal_max", "cloud_min", "cloud_max",
                     "tilt", "status", "source", "confidence_min", "confidence_max")


def _map_filter_params(params) -> dict[str, str]:
    """The page's filter form (date_from/date_to) in the API's parameter names (datetime interval)."""
    out = {k: params[k] for k in FootprintFilterSerializer().fields if params.get(k) and k not in ("limit", "cursor")}
    start, end = params.get("date_from", ""), params.get("date_to", "")
    if start or end:
        out["datetime"] = f"{start or '..'}/{end or '..'}"
    return out


@require_GET
def map_view(request: HttpRequest) -> HttpResponse:
    """The home page: the basemap, the filter form and the footprints (drawn by map.js from ``map_data``)."""
    layers = basemap_layers()
    return render(request, "web/map.html", {
        "years": [layer["year"] for layer in layers],
        "basemaps": layers,
        "filters": {k: request.GET.get(k, "") for k in MAP_FILTER_FIELDS},
        "tilt_choices": TiltClass.choices,
        "status_choices": PhotoStatus.choices,
        "source_choices": FootprintSource.choices,
    })


@require_GET
def map_data_view(request: HttpRequest) -> HttpResponse:
    """JSON for one map view: ``features`` (GeoJSON) when zoomed in or few match, else aggregated ``cells``."""
    params = FootprintFilterSerializer(data=_map_filter_params(request.GET))
    if not params.is_valid():
        return JsonResponse({"code": "invalid", "description": "Check the filters.", "fields": params.errors},
                            status=400)
    try:
        zoom = int(request.GET.get("zoom", "2"))
    except ValueError:
        return JsonResponse({"code": "invalid", "description": "zoom must be an integer.",
                             "fields": {"zoom": ["an integer, 0 to 22"]}}, status=400)
    data = map_data(user=request.user, filters=params.to_filter(), zoom=zoom, q=request.GET.get("q", ""))
    features = ",".join(data.features)
    body = (f'{{"mode":"{data.mode}","total":{data.total},"truncated":{json.dumps(data.truncated)},'
            f'"cells":{json.dumps(data.cells)},'
            f'"features":{{"type":"FeatureCollection","features":[{features}]}}}}')
    return HttpResponse(body, content_type="application/json")


def _photo_or_404(request: HttpRequest, photo_id: str):
    photo = photo_get(user=request.user, photo_id=photo_id)
    if photo is None:
        raise Http404(f"No photo {photo_id}.")
    return photo


def _footprint_geojson(footprint) -> dict | None:
    if footprint is None:
        return None
    return {"type": "Feature", "id": footprint.pk, "geometry": json.loads(footprint.polygon.geojson),
            "properties": {"photo_id": footprint.photo.photo_id, "source": footprint.source,
                           "confidence": footprint.confidence}}


def _matched_tile(footprint) -> dict | None:
    """The satellite tile the localization matched: its year and lon/lat extent, for the side-by-side map."""
    tile = footprint.matched_tile if footprint is not None else None
    if tile is None:
        return None
    return {"year": tile.year, "bounds": [round(v, 6) for v in tile.bounds.extent],
            "label": f"z{tile.zoom}/{tile.x}/{tile.y} ({tile.year})"}


def _third_party_comparison(history: list, current) -> dict | None:
    """NASA's machine footprint beside ours: both, and their IoU (None when either is missing)."""
    theirs = next((f for f in history if f.source in THIRD_PARTY_SOURCES and f.rejected_at is None), None)
    if theirs is None:
        return None
    ours = current if current is not None and current.source not in THIRD_PARTY_SOURCES else None
    iou = footprint_iou(ours.polygon, theirs.polygon) if ours is not None else None
    return {"theirs": theirs, "ours": ours, "iou": iou}


@require_GET
def photo_detail_view(request: HttpRequest, photo_id: str) -> HttpResponse:
    """One photo: image, footprint on the map with the photo warped onto it, NASA's machine footprint beside
    ours, metadata, history, downloads."""
    photo = _photo_or_404(request, photo_id)
    history = list(footprint_history(user=request.user, photo_id=photo_id)
                   .select_related("photo", "created_by", "rejected_by", "model_version", "job", "matched_tile"))
    current = next((f for f in history if f.is_current), None)
    comparison = _third_party_comparison(history, current)
    overlay_kind = "web" if photo.web_image else ("thumbnail" if photo.thumbnail else "")
    return render(request, "web/photo_detail.html", {
        "photo": photo, "history": history, "current": current, "comparison": comparison,
        "can_edit": request.user.is_staff or (request.user.is_authenticated and photo.owner_id == request.user.pk),
        "photo_config": {"photoId": photo.photo_id, "footprint": _footprint_geojson(current),
                         "thirdPartyFootprint": _footprint_geojson(comparison["theirs"]) if comparison else None,
                         "overlayKind": overlay_kind, "basemaps": basemap_layers(),
                         "matchedTile": _matched_tile(current)},
    })


@login_page_required
def upload_view(request: HttpRequest) -> HttpResponse:
    """Drag and drop photos, zips and a metadata CSV; upload.js posts them to /api/v1/batches."""
    return render(request, "web/upload.html", {"batches": batch_list(user=request.user)[:20]})


@login_page_required
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = batch_list(user=request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404("No such batch.")
    report = batch.report or {}
    next_steps = report.get("next_steps") or {}
    return render(request, "web/batch_detail.html", {
        "batch": batch, "job": batch_import_job(user=request.user, batch_id=batch.pk),
        "followup_jobs": batch_followup_jobs(user=request.user, batch=batch),
        "to_label": len(next_steps.get("label", [])), "to_localize": len(next_steps.get("localize", [])),
        "summary": report.get("summary"), "files": report.get("files", []),
        "uploaded": report.get("uploaded", []), "error": report.get("error", ""),
        "warnings": report.get("warnings", []), "attention": report.get("attention", []),
    })


@login_page_required
def job_list_view(request: HttpRequest) -> HttpResponse:
    jobs = job_list(user=request.user, kind=request.GET.get("kind") or None,
                    status=request.GET.get("status") or None).order_by("-created_at")[:200]
    if request.user.is_staff:
        kinds = [(k, label) for k, label in JobKind.choices if k != JobKind.IMPORT]
    else:
        kinds = [(JobKind.LOCALIZE.value, JobKind.LOCALIZE.label)]
    return render(request, "web/jobs.html", {
        "jobs": jobs, "startable_kinds": kinds, "status_choices": JobStatus.choices,
        "status": request.GET.get("status", ""),
    })


@login_page_required
def job_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_get(user=request.user, job_id=pk)
    if job is None:
        raise Http404("No such job.")
    return render(request, "web/job_detail.html", {"job": job,
                                                   "parameters": json.dumps(job.parameters, indent=2),
                                                   "result": json.dumps(job.result, indent=2)})


@login_page_required
def review_view(request: HttpRequest) -> HttpResponse:
    """The queue: photos that need review and photos whose current footprint has low confidence."""
    photos = review_queue(user=request.user)[:200]
    return render(request, "web/review.html", {"photos": photos})


@login_page_required
def review_photo_view(request: HttpRequest, photo_id: str) -> HttpResponse:
    """Accept, reject or redraw one photo's footprint (review.js posts to the API, which records the reviewer).

    Without a current footprint (e.g. after a rejection) the editor starts from the latest one, so a reviewer
    can redraw it; Accept and Reject then have nothing to act on.
    """
    photo = _photo_or_404(request, photo_id)
    history = footprint_history(user=request.user, photo_id=photo_id).select_related("photo", "rejected_by")
    latest = history.first()
    current = latest if latest is not None and latest.is_current else history.filter(is_current=True).first()
    start = current or latest
    return render(request, "web/review_photo.html", {
        "photo": photo, "current": current, "start": start,
        "can_edit": request.user.is_staff or photo.owner_id == request.user.pk,
        "review_config": {"photoId": photo.photo_id, "footprint": _footprint_geojson(start),
                          "current": current is not None, "basemaps": basemap_layers()},
    })
