"""REST API v1 views: thin; parsing in serializers, reads in selectors, writes in services."""

from django.contrib.auth import authenticate, login, logout
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.api import serializers as s
from apps.api.errors import ApiConflict, ApiError
from apps.api.filters import FootprintFilterSerializer, parse_bbox
from apps.api.geojson import feature_collection_response, url_with
from apps.api.jobs import job_start
from apps.api.login_limits import client_address, login_locked
from apps.api.models import ApiToken
from apps.api.negotiation import SingleRepresentationNegotiation
from apps.api.pagination import OrderKey, cursor_decode, cursor_encode, keyset_page
from apps.api.permissions import OPERATOR_JOB_KINDS, IsStaffOrReadOnly, JobPermission
from apps.api.services import token_create, token_revoke
from apps.core.constants import JobKind
from apps.core.selectors import job_get, job_list
from apps.core.services import job_cancel
from apps.footprints.bulk_export import EXPORT_FORMATS, export_stream, export_to_file
from apps.footprints.downloads import PhotoUndecodable, georeferenced_file
from apps.footprints.selectors import (
    footprint_feature_text,
    footprint_history,
    footprints_filtered,
    footprints_visible,
    photo_feature_text,
    photos_filtered,
)
from apps.footprints.services import FootprintNotCurrentError, footprint_manual_record, footprint_reject
from apps.imagery.selectors import mosaic_list, tile_list
from apps.models_registry.selectors import model_version_list
from apps.photos.selectors import batch_list, photo_get
from apps.photos.uploads import batch_upload

GEOJSON_RESPONSE = OpenApiResponse(response=OpenApiTypes.OBJECT, description="GeoJSON FeatureCollection")

FOOTPRINT_ORDERINGS = {
    "id": "pk", "created_at": "created_at", "datetime": "photo__captured_at", "confidence": "confidence",
    "photo_id": "photo__photo_id", "cloud_pct": "photo__cloud_pct", "focal_length_mm": "photo__focal_length_mm",
}
PHOTO_ORDERINGS = {
    "photo_id": "photo_id", "datetime": "captured_at", "created_at": "created_at", "cloud_pct": "cloud_pct",
    "focal_length_mm": "focal_length_mm", "mission": "mission",
}
ORDERING_PARAM = OpenApiParameter("ordering", str, description="Field, '-' prefix for descending.")


def parse_ordering(value: str | None, allowed: dict[str, str], default: str) -> list[OrderKey]:
    name = value or default
    descending = name.startswith("-")
    field = allowed.get(name.lstrip("-"))
    if field is None:
        raise ApiError(f"Cannot order by {name!r}.",
                       fields={"ordering": [f"use one of {', '.join(sorted(allowed))}, '-' for descending"]})
    order = [OrderKey(field, descending)]
    if field != "pk":
        order.append(OrderKey("pk", descending))
    return order


def _filter_params(request) -> FootprintFilterSerializer:
    data = request.data if request.method == "POST" else request.query_params
    if request.method == "POST" and not isinstance(data, dict):
        raise ApiError("The search body must be a JSON object.")
    params = FootprintFilterSerializer(data=data)
    params.is_valid(raise_exception=True)
    return params


def _geojson_list(request, qs, *, feature, orderings: dict[str, str], default_order: str):
    params = _filter_params(request)
    ordering = request.data.get("ordering") if request.method == "POST" else request.query_params.get("ordering")
    order = parse_ordering(ordering, orderings, default_order)
    tag = ",".join(f"{'-' if k.descending else ''}{k.field}" for k in order)
    cursor = params.validated_data.get("cursor")
    values = cursor_decode(cursor, keys=len(order), tag=tag) if cursor else None
    limit = params.validated_data["limit"]
    rows, next_values = keyset_page(qs(params).annotate(feature=feature), order=order, limit=limit,
                                    cursor_values=values, columns=["feature"])
    links = [{"rel": "self", "href": request.build_absolute_uri(), "type": "application/geo+json"}]
    extra = {"numberReturned": len(rows)}
    if next_values is not None:
        next_cursor = cursor_encode(next_values, tag=tag)
        extra["next_cursor"] = next_cursor
        if request.method == "GET":
            links.append({"rel": "next", "href": url_with(request, cursor=next_cursor), "type": "application/geo+json"})
        else:
            links.append({"rel": "next", "href": request.build_absolute_uri(), "method": "POST",
                          "body": {**request.data, "cursor": next_cursor}, "type": "application/geo+json"})
    return feature_collection_response([r[0] for r in rows], links=links, extra=extra)


class FootprintListView(APIView):
    """Footprints as GeoJSON, filtered, ordered, cursor-paginated; ``history=true`` includes superseded ones."""

    permission_classes = [permissions.AllowAny]
    content_negotiation_class = SingleRepresentationNegotiation

    @extend_schema(parameters=[FootprintFilterSerializer, ORDERING_PARAM,
                               OpenApiParameter("history", bool, description="Include superseded footprints.")],
                   responses={200: GEOJSON_RESPONSE}, tags=["footprints"], operation_id="footprints_list")
    def get(self, request):
        history = request.query_params.get("history", "false").lower() in ("1", "true", "yes")
        return _geojson_list(
            request,
            lambda p: footprints_filtered(user=request.user, filters=p.to_filter(current_only=not history)),
            feature=footprint_feature_text(), orderings=FOOTPRINT_ORDERINGS, default_order="id",
        )


class FootprintSearchView(APIView):
    """POST search: the list filters in a JSON body, with ``intersects`` a GeoJSON geometry."""

    permission_classes = [permissions.AllowAny]
    content_negotiation_class = SingleRepresentationNegotiation

    @extend_schema(request=FootprintFilterSerializer, responses={200: GEOJSON_RESPONSE}, tags=["footprints"])
    def post(self, request):
        history = bool(request.data.get("history", False)) if isinstance(request.data, dict) else False
        return _geojson_list(
            request,
            lambda p: footprints_filtered(user=request.user, filters=p.to_filter(current_only=not history)),
            feature=footprint_feature_text(), orderings=FOOTPRINT_ORDERINGS, default_order="id",
        )


class FootprintExportView(APIView):
    """The filtered footprints (the list's filters; no paging) as a file for GIS tools, streamed: ``.gpkg``
    (GeoPackage), ``.fgb`` (FlatGeobuf), ``.kml`` or ``.csv`` (WKT), with the photo metadata as attributes."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[FootprintFilterSerializer, OpenApiParameter("history", bool)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=["footprints"])
    def get(self, request, fmt: str):
        if fmt not in EXPORT_FORMATS:
            raise NotFound(f"No export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}.")
        history = request.query_params.get("history", "false").lower() in ("1", "true", "yes")
        params = _filter_params(request)
        qs = footprints_filtered(user=request.user, filters=params.to_filter(current_only=not history))
        spec = EXPORT_FORMATS[fmt]
        filename = f"footprints-{timezone.now():%Y%m%d-%H%M%S}.{spec.extension}"
        if spec.driver:
            response = FileResponse(export_to_file(qs, fmt), content_type=spec.media_type)
        else:
            response = StreamingHttpResponse(export_stream(qs, fmt), content_type=spec.media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class FootprintDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: s.FootprintSerializer}, tags=["footprints"])
    def get(self, request, pk: int):
        footprint = footprints_visible(user=request.user).select_related("photo").filter(pk=pk).first()
        if footprint is None:
            raise NotFound("No such footprint.")
        return Response(s.FootprintSerializer(footprint).data)


class FootprintRejectView(APIView):
    """A reviewer rejects a photo's current footprint: it leaves the map, the photo goes back to review."""

    @extend_schema(request=s.FootprintRejectSerializer, responses={200: s.FootprintSerializer}, tags=["footprints"])
    def post(self, request, pk: int):
        footprint = footprints_visible(user=request.user).select_related("photo").filter(pk=pk).first()
        if footprint is None:
            raise NotFound("No such footprint.")
        if not (request.user.is_staff or footprint.photo.owner_id == request.user.pk):
            raise PermissionDenied("Only the photo's owner or staff may review its footprint.")
        data = s.FootprintRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            footprint = footprint_reject(footprint=footprint, reviewer=request.user, note=data.validated_data["note"])
        except FootprintNotCurrentError as exc:
            raise ApiConflict(str(exc), code="conflict") from exc
        return Response(s.FootprintSerializer(footprint).data)


class PhotoListView(APIView):
    """Photos as GeoJSON (geometry: the current footprint, null before localization)."""

    permission_classes = [permissions.AllowAny]
    content_negotiation_class = SingleRepresentationNegotiation

    @extend_schema(parameters=[FootprintFilterSerializer, ORDERING_PARAM], responses={200: GEOJSON_RESPONSE},
                   tags=["photos"], operation_id="photos_list")
    def get(self, request):
        return _geojson_list(request, lambda p: photos_filtered(user=request.user, filters=p.to_filter()),
                             feature=photo_feature_text(), orderings=PHOTO_ORDERINGS, default_order="photo_id")


class PhotoSearchView(APIView):
    permission_classes = [permissions.AllowAny]
    content_negotiation_class = SingleRepresentationNegotiation

    @extend_schema(request=FootprintFilterSerializer, responses={200: GEOJSON_RESPONSE}, tags=["photos"])
    def post(self, request):
        return _geojson_list(request, lambda p: photos_filtered(user=request.user, filters=p.to_filter()),
                             feature=photo_feature_text(), orderings=PHOTO_ORDERINGS, default_order="photo_id")


def _visible_photo(request, photo_id: str):
    photo = photo_get(user=request.user, photo_id=photo_id)
    if photo is None:
        raise NotFound(f"No photo {photo_id!r}.")
    return photo


class PhotoDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: s.PhotoSerializer}, tags=["photos"])
    def get(self, request, photo_id: str):
        return Response(s.PhotoSerializer(_visible_photo(request, photo_id), context={"request": request}).data)


class PhotoFootprintsView(APIView):
    """A photo's footprint history (newest first); POST adds a manual footprint, which becomes current."""

    @extend_schema(responses={200: GEOJSON_RESPONSE}, tags=["footprints"])
    def get(self, request, photo_id: str):
        _visible_photo(request, photo_id)
        rows = footprint_history(user=request.user, photo_id=photo_id).annotate(
            feature=footprint_feature_text()).values_list("feature", flat=True)[:1000]
        return feature_collection_response(list(rows))

    @extend_schema(request=s.FootprintCreateSerializer, responses={201: s.FootprintSerializer}, tags=["footprints"])
    def post(self, request, photo_id: str):
        photo = _visible_photo(request, photo_id)
        if not (request.user.is_staff or photo.owner_id == request.user.pk):
            raise PermissionDenied("Only the photo's owner or staff may add a footprint.")
        data = s.FootprintCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            footprint = footprint_manual_record(photo=photo, corners=data.validated_data["corners"],
                                                reviewer=request.user, note=data.validated_data["note"])
        except ValueError as exc:
            raise ApiError(str(exc), fields={"corners": [str(exc)]}) from exc
        return Response(s.FootprintSerializer(footprint).data, status=status.HTTP_201_CREATED)


class PhotoFileView(APIView):
    """A photo's file (original, web or thumbnail), served only to those who may see the photo."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=["photos"])
    def get(self, request, photo_id: str, kind: str):
        if kind not in s.PHOTO_FILE_KINDS:
            raise NotFound(f"No file kind {kind!r}; use {', '.join(s.PHOTO_FILE_KINDS)}.")
        photo = _visible_photo(request, photo_id)
        field = getattr(photo, s.PHOTO_FILE_KINDS[kind])
        if not field:
            raise NotFound(f"Photo {photo_id} has no {kind} file yet.")
        try:
            handle = field.open("rb")
        except FileNotFoundError as exc:
            raise NotFound(f"The {kind} file of {photo_id} is missing from storage.") from exc
        return FileResponse(handle, filename=field.name.rsplit("/", 1)[-1])


class PhotoGeoreferencedView(APIView):
    """The photo placed on the map by its current footprint: ``.tif`` (``kind=warped``: EPSG:3857 with alpha;
    ``kind=gcps``: the photo with its corners as GCPs), ``.kmz`` / ``.kml`` (GroundOverlay with
    gx:LatLonQuad) or ``.zip`` (JPEG + world file + .prj; affine approximation, worst corner error in the
    ``X-AstroLoc-Affine-Max-Error-Px`` header)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=["warped", "gcps"],
                                                description="GeoTIFF only: warped (default) or gcps.")],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, tags=["photos"])
    def get(self, request, photo_id: str, fmt: str):
        photo = _visible_photo(request, photo_id)
        footprint = footprint_history(user=request.user, photo_id=photo.photo_id).filter(is_current=True) \
            .select_related("photo").first()
        if footprint is None:
            raise NotFound(f"Photo {photo_id} is not localized: it has no current footprint.")
        image_kind = "web" if photo.web_image else "original"
        image_url = request.build_absolute_uri(
            reverse("api:photo-file", kwargs={"photo_id": photo.photo_id, "kind": image_kind}))
        try:
            output = georeferenced_file(footprint=footprint, fmt=fmt, kind=request.query_params.get("kind"),
                                        image_url=image_url)
        except ValueError as exc:
            raise ApiError(str(exc), fields={"kind": [str(exc)]}) from exc
        except FileNotFoundError as exc:
            raise NotFound(f"The original file of {photo_id} is missing from storage.") from exc
        except PhotoUndecodable as exc:
            raise ApiConflict(str(exc), code="undecodable") from exc
        response = HttpResponse(output.content, content_type=output.content_type)
        response["Content-Disposition"] = f'attachment; filename="{output.filename}"'
        for name, value in output.headers.items():
            response[name] = value
        return response


class BatchListView(APIView):
    """Your batches; POST (multipart) uploads files, or a manifest of photo URLs, as a new batch and starts its
    import job."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "upload"

    def get_throttles(self):
        if self.request.method == "POST":
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(responses={200: s.BatchSerializer(many=True)}, tags=["batches"])
    def get(self, request):
        return Response(s.BatchSerializer(batch_list(user=request.user)[:500], many=True).data)

    @extend_schema(request={"multipart/form-data": s.BatchUploadSerializer},
                   responses={201: inline_serializer("BatchCreated", {"batch": s.BatchSerializer(),
                                                                       "job": s.JobSerializer()})},
                   tags=["batches"])
    def post(self, request):
        data = s.BatchUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            upload = batch_upload(files=data.validated_data["files"], manifest=data.validated_data["manifest"],
                                  created_by=request.user, name=data.validated_data["name"],
                                  visibility=data.validated_data["visibility"])
        except ValueError as exc:
            raise ApiError(str(exc), fields={"files": [str(exc)]}) from exc
        return Response({"batch": s.BatchSerializer(upload.batch).data, "job": s.JobSerializer(upload.job).data},
                        status=status.HTTP_201_CREATED)


class BatchDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: s.BatchSerializer}, tags=["batches"])
    def get(self, request, pk: int):
        batch = batch_list(user=request.user).filter(pk=pk).first()
        if batch is None:
            raise NotFound("No such batch.")
        return Response(s.BatchSerializer(batch).data)


class JobListView(APIView):
    """Jobs you started (staff: all). POST starts one: operator kinds are staff-only; localize is allowed
    for your own photos (``parameters.photo_ids``)."""

    permission_classes = [JobPermission]

    @extend_schema(parameters=[s.JobFilterSerializer], responses={200: s.JobSerializer(many=True)}, tags=["jobs"])
    def get(self, request):
        filters = s.JobFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = job_list(user=request.user, kind=filters.validated_data.get("kind"),
                        status=filters.validated_data.get("status"))[:500]
        return Response(s.JobSerializer(jobs, many=True).data)

    @extend_schema(request=s.JobCreateSerializer, responses={201: s.JobSerializer}, tags=["jobs"])
    def post(self, request):
        data = s.JobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind, parameters = data.validated_data["kind"], data.validated_data["parameters"]
        if not request.user.is_staff:
            if kind in OPERATOR_JOB_KINDS or kind in (JobKind.SELFTEST, JobKind.IMPORT):
                raise PermissionDenied(f"Only staff may start {kind} jobs."
                                       + (" Upload photos to /api/v1/batches." if kind == JobKind.IMPORT else ""))
            self._check_own_photos(request, parameters)
        try:
            job = job_start(kind=kind, parameters=parameters, user=request.user)
        except ValueError as exc:
            raise ApiError(str(exc), fields={"parameters": [str(exc)]}) from exc
        return Response(s.JobSerializer(job).data, status=status.HTTP_201_CREATED)

    def _check_own_photos(self, request, parameters: dict) -> None:
        photo_ids = parameters.get("photo_ids")
        if not isinstance(photo_ids, list) or not photo_ids or not all(isinstance(p, str) for p in photo_ids):
            raise ApiError("localize needs parameters.photo_ids: a list of your photos' IDs.",
                           fields={"parameters.photo_ids": ["a non-empty list of mission-roll-frame IDs"]})
        owned = set(request.user.photos.filter(photo_id__in=photo_ids).values_list("photo_id", flat=True))
        missing = [p for p in photo_ids if p not in owned]
        if missing:
            raise PermissionDenied(f"You may localize only your own photos; not yours: {', '.join(missing[:10])}")


class JobDetailView(APIView):
    permission_classes = [JobPermission]

    @extend_schema(responses={200: s.JobSerializer}, tags=["jobs"])
    def get(self, request, pk: int):
        job = job_get(user=request.user, job_id=pk)
        if job is None:
            raise NotFound("No such job.")
        return Response(s.JobSerializer(job).data)


class JobCancelView(APIView):
    permission_classes = [JobPermission]

    @extend_schema(request=None, responses={200: s.JobSerializer}, tags=["jobs"])
    def post(self, request, pk: int):
        job = job_get(user=request.user, job_id=pk)
        if job is None:
            raise NotFound("No such job.")
        return Response(s.JobSerializer(job_cancel(job=job)).data)


class TileListView(APIView):
    """Satellite database tiles by bbox, zoom and year (id order, cursor-paginated)."""

    permission_classes = [IsStaffOrReadOnly]

    class Params(serializers.Serializer):
        bbox = serializers.CharField(required=False)
        zoom = serializers.IntegerField(required=False, min_value=0, max_value=30)
        year = serializers.IntegerField(required=False, min_value=1900, max_value=3000)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)
        cursor = serializers.CharField(required=False)

        def validate_bbox(self, value):
            return parse_bbox(value)

    @extend_schema(parameters=[Params], responses={200: s.TileSerializer(many=True)}, tags=["imagery"])
    def get(self, request):
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        d = params.validated_data
        qs = tile_list(bbox=d.get("bbox"), zoom=d.get("zoom"), year=d.get("year"))
        if "cursor" in d:
            qs = qs.filter(pk__gt=cursor_decode(d["cursor"], keys=1, tag="tiles")[0])
        tiles = list(qs.order_by("pk")[: d["limit"] + 1])
        body = {"results": s.TileSerializer(tiles[: d["limit"]], many=True).data, "next": None}
        if len(tiles) > d["limit"]:
            body["next"] = url_with(request, cursor=cursor_encode([tiles[d["limit"] - 1].pk], tag="tiles"))
        return Response(body)


class MosaicListView(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses={200: s.MosaicSerializer(many=True)}, tags=["imagery"])
    def get(self, request):
        return Response(s.MosaicSerializer(mosaic_list()[:1000], many=True).data)


class ModelVersionListView(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses={200: s.ModelVersionSerializer(many=True)}, tags=["models"])
    def get(self, request):
        return Response(s.ModelVersionSerializer(model_version_list()[:500], many=True).data)


class ModelVersionDetailView(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses={200: s.ModelVersionSerializer}, tags=["models"])
    def get(self, request, pk: int):
        version = model_version_list().filter(pk=pk).first()
        if version is None:
            raise NotFound("No such model version.")
        return Response(s.ModelVersionSerializer(version).data)


def _check_lockout(request, username: str) -> None:
    if login_locked(username=username, address=client_address(request)):
        raise Throttled(detail="Too many failed logins for this user or address; try again later.")


class LoginView(APIView):
    """Session login for the web (CSRF applies to later unsafe requests); brute-force limited."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=s.LoginSerializer, responses={200: OpenApiTypes.OBJECT}, tags=["auth"])
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _check_lockout(request, data.validated_data["username"])
        user = authenticate(request, **data.validated_data)
        if user is None:
            raise ApiError("Wrong username or password.", code="authentication_failed")
        login(request, user)
        return Response({"username": user.get_username(), "is_staff": user.is_staff})


class LogoutView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """Your script tokens; POST issues one (logged in, or with username + password)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: s.TokenSerializer(many=True)}, tags=["auth"])
    def get(self, request):
        if not request.user.is_authenticated:
            raise PermissionDenied("Log in to list your tokens.")
        return Response(s.TokenSerializer(ApiToken.objects.filter(user=request.user), many=True).data)

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.IssuedTokenSerializer}, tags=["auth"])
    def post(self, request):
        data = s.TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        if user is None:
            username, password = data.validated_data.get("username"), data.validated_data.get("password")
            if not username or not password:
                raise ApiError("Log in, or give username and password.",
                               fields={"password": ["required when not logged in"]})
            _check_lockout(request, username)
            user = authenticate(request, username=username, password=password)
            if user is None:
                raise ApiError("Wrong username or password.", code="authentication_failed")
        issued = token_create(user=user, name=data.validated_data["name"],
                              expires_at=data.validated_data.get("expires_at"))
        body = s.TokenSerializer(issued.token).data | {"key": issued.key}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request, pk: int):
        token = ApiToken.objects.filter(user=request.user, pk=pk).first()
        if token is None:
            raise NotFound("No such token.")
        token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
