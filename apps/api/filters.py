"""Query parameters of the footprint and photo lists, parsed into a ``FootprintFilter`` with field errors.

One serializer documents the parameters in the OpenAPI schema and validates them; a bad value is a 400
naming the parameter, never a 500.
"""

import json
import re
from datetime import UTC, datetime, time

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from apps.core.geo import geometry_from_geojson, lonlat_point
from apps.footprints.constants import FootprintSource
from apps.footprints.selectors import FootprintFilter
from apps.photos.constants import PhotoStatus, TiltClass

__all__ = ["FootprintFilterSerializer", "parse_bbox", "parse_datetime_interval"]

MAX_LIMIT = 1000


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``lon_min,lat_min,lon_max,lat_max`` (6 numbers = 3D bbox: heights dropped); lon_min > lon_max wraps."""
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise serializers.ValidationError(
            "bbox must be 4 comma-separated numbers: lon_min,lat_min,lon_max,lat_max"
        ) from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise serializers.ValidationError("bbox must be 4 numbers: lon_min,lat_min,lon_max,lat_max")
    lon_min, lat_min, lon_max, lat_max = numbers
    for lon in (lon_min, lon_max):
        if not -180 <= lon <= 180:
            raise serializers.ValidationError(f"bbox longitude {lon} is outside [-180, 180]")
    for lat in (lat_min, lat_max):
        if not -90 <= lat <= 90:
            raise serializers.ValidationError(f"bbox latitude {lat} is outside [-90, 90]")
    if lat_min > lat_max:
        raise serializers.ValidationError("bbox lat_min is greater than lat_max")
    if lon_min == lon_max or lat_min == lat_max:
        raise serializers.ValidationError("bbox is empty")
    return lon_min, lat_min, lon_max, lat_max


def _parse_instant(text: str, *, end: bool) -> datetime:
    value = parse_datetime(text) if "T" in text.upper() or " " in text else None
    if value is None:
        day = parse_date(text) if "T" not in text.upper() else None
        if day is None:
            raise ValueError(f"{text!r} is not an RFC 3339 date-time (e.g. 2021-04-08T04:39:23Z)")
        value = datetime.combine(day, time.max if end else time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_datetime_interval(text: str, *, strict: bool = False) -> tuple[datetime | None, datetime | None]:
    """``instant`` | ``start/end`` with ``..`` or empty for an open end (STAC / OGC API rules).

    ``strict`` (STAC) accepts only full RFC 3339 date-times with a time zone; otherwise a date alone means
    that whole day (UTC) and a missing zone means UTC.
    """
    text = text.strip()
    if strict:
        for part in text.split("/") if "/" in text else [text]:
            if part not in ("", "..") and not RFC3339.match(part):
                raise serializers.ValidationError(f"{part!r} is not an RFC 3339 date-time (2021-04-08T04:39:23Z)")
        text = text.upper()  # RFC 3339 allows t and z; the parser wants T and Z
    try:
        if "/" not in text:
            instant = _parse_instant(text, end=False)
            return instant, (_parse_instant(text, end=True) if "T" not in text.upper() else instant)
        start_text, _, end_text = text.partition("/")
        start = None if start_text in ("", "..") else _parse_instant(start_text, end=False)
        end = None if end_text in ("", "..") else _parse_instant(end_text, end=True)
    except (ValueError, OverflowError) as exc:
        raise serializers.ValidationError(str(exc)) from exc
    if start is None and end is None:
        raise serializers.ValidationError("datetime interval open at both ends: give at least one end")
    if start is not None and end is not None and start > end:
        raise serializers.ValidationError("datetime interval start is after its end")
    return start, end


def _csv(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


class FootprintFilterSerializer(serializers.Serializer):
    """Filters shared by /footprints and /photos (GET parameters; the POST search body takes the same keys)."""

    bbox = serializers.CharField(required=False, help_text="lon_min,lat_min,lon_max,lat_max (WGS84).")
    intersects = serializers.JSONField(
        required=False, help_text="GeoJSON geometry (lon/lat); in GET, URL-encoded JSON. Prefer POST .../search."
    )
    point = serializers.CharField(required=False, help_text="lon,lat: with distance_km, features within that distance.")
    distance_km = serializers.FloatField(required=False, min_value=0, max_value=20_000)
    datetime = serializers.CharField(required=False, help_text="Capture time: instant or start/end, '..' open.")
    mission = serializers.CharField(required=False, help_text="Comma-separated missions, e.g. ISS064,ISS065.")
    photo_id = serializers.CharField(required=False, help_text="Comma-separated mission-roll-frame IDs.")
    focal_min = serializers.FloatField(required=False, min_value=0, max_value=100_000)
    focal_max = serializers.FloatField(required=False, min_value=0, max_value=100_000)
    cloud_min = serializers.FloatField(required=False, min_value=0, max_value=100)
    cloud_max = serializers.FloatField(required=False, min_value=0, max_value=100)
    tilt = serializers.CharField(required=False, help_text="Comma-separated tilt classes: NV, LO, HO.")
    tilt_min = serializers.FloatField(required=False, min_value=0, max_value=90, help_text="Off-nadir degrees.")
    tilt_max = serializers.FloatField(required=False, min_value=0, max_value=90)
    status = serializers.CharField(required=False, help_text="Comma-separated photo statuses.")
    source = serializers.CharField(required=False, help_text="Comma-separated footprint sources.")
    confidence_min = serializers.FloatField(required=False, min_value=0, max_value=1)
    confidence_max = serializers.FloatField(required=False, min_value=0, max_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=100)
    cursor = serializers.CharField(required=False, help_text="Opaque; from the previous page's 'next' link.")

    def validate_bbox(self, value: str):
        return parse_bbox(value)

    def validate_intersects(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise serializers.ValidationError("intersects must be a GeoJSON geometry object") from exc
        try:
            return geometry_from_geojson(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_point(self, value: str):
        parts = value.split(",")
        try:
            if len(parts) != 2:
                raise ValueError("point must be lon,lat")
            return lonlat_point(float(parts[0]), float(parts[1]))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_datetime(self, value: str):
        return parse_datetime_interval(value)

    def _choices(self, value: str, allowed: list[str], name: str) -> list[str]:
        values = _csv(value)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise serializers.ValidationError(f"unknown {name} {', '.join(bad)}; use {', '.join(allowed)}")
        return values

    def validate_tilt(self, value: str):
        return self._choices(value, TiltClass.values, "tilt class")

    def validate_status(self, value: str):
        return self._choices(value, PhotoStatus.values, "status")

    def validate_source(self, value: str):
        return self._choices(value, FootprintSource.values, "source")

    def validate_mission(self, value: str):
        return _csv(value)

    def validate_photo_id(self, value: str):
        return _csv(value)

    def validate(self, attrs):
        if ("point" in attrs) != ("distance_km" in attrs):
            raise serializers.ValidationError({"distance_km": ["point and distance_km go together"]})
        for low, high in (("focal_min", "focal_max"), ("cloud_min", "cloud_max"), ("tilt_min", "tilt_max"),
                          ("confidence_min", "confidence_max")):
            if low in attrs and high in attrs and attrs[low] > attrs[high]:
                raise serializers.ValidationError({low: [f"{low} is greater than {high}"]})
        return attrs

    def to_filter(self, *, current_only: bool = True) -> FootprintFilter:
        data = self.validated_data
        start, end = data.get("datetime", (None, None))
        return FootprintFilter(
            bbox=data.get("bbox"),
            intersects=data.get("intersects"),
            point=data.get("point"),
            distance_km=data.get("distance_km"),
            datetime_start=start,
            datetime_end=end,
            missions=data.get("mission", ()),
            photo_ids=data.get("photo_id", ()),
            focal_min=data.get("focal_min"),
            focal_max=data.get("focal_max"),
            cloud_min=data.get("cloud_min"),
            cloud_max=data.get("cloud_max"),
            tilt_classes=data.get("tilt", ()),
            tilt_min=data.get("tilt_min"),
            tilt_max=data.get("tilt_max"),
            statuses=data.get("status", ()),
            sources=data.get("source", ()),
            confidence_min=data.get("confidence_min"),
            confidence_max=data.get("confidence_max"),
            current_only=current_only,
        )
