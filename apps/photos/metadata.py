"""Photo metadata from its three sources, merged with precedence CSV > EXIF > filename, conflicts reported.

- CSV: NASA EOL-style columns (``MRF, MISSION, ROLL, FRAME, CENTER_LAT, CENTER_LON, NADIR_LAT, ...``, as in
  shared/real-samples/metadata.csv) and the EarthLoc layout (``LL_LAT ... LR_LON, MISSION, ROLL, FRAME,
  YYYYMMDD, NADIR_LAT, NADIR_LON, ...``, shared/real-footprints) are read by one column map; the layout only
  decides what is reported. Unknown columns are ignored with a warning.
- EXIF: DateTimeOriginal (UTC, as NASA writes it), FocalLength, Model; ImageDescription when it holds a
  mission-roll-frame ID; the GPS block, when present, is where the camera was: the ISS nadir and altitude.
- Filename: a mission-roll-frame ID in the file name (``ISS064-E-513.jpg``, ``iss064e000513.jpg``) or in a
  parent folder's name (``ISS064-E-513/photo.jpg``).

Values are plain Python (points are (lon, lat) tuples: CSV columns in (lat, lon) order are swapped here and
nowhere else).
"""

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from PIL import Image

from apps.core.services import JobInputError
from apps.photos.validators import MISSION_ROLL_FRAME_RE

__all__ = [
    "CsvMetadata",
    "MergedMetadata",
    "MetadataCsvError",
    "exif_metadata",
    "filename_photo_id",
    "merge_metadata",
    "normalize_photo_id",
    "parse_metadata_csv",
]

#: Radius of NASA's hand-clicked center points (about ±1 degree).
CENTER_UNCERTAINTY_KM = 111.0

_DASHED_ID = re.compile(r"(?P<mission>[A-Z]{2,4}\d{2,3}[A-Z]?)-(?P<roll>[A-Z0-9]{1,4})-(?P<frame>\d{1,7})")
_COMPACT_ID = re.compile(r"(?P<mission>[A-Z]{2,4}\d{3})(?P<roll>[A-Z])(?P<frame>\d{1,7})")

# Columns read, by normalised header name. Corners and a few descriptive columns are read elsewhere.
_COLUMN_FIELDS = {
    "MRF": "photo_id", "PHOTO_ID": "photo_id", "PHOTOID": "photo_id", "ID": "photo_id",
    "CENTER_LAT": "center_lat", "CENTER_LON": "center_lon", "NADIR_LAT": "nadir_lat", "NADIR_LON": "nadir_lon",
    "TILT_DEG": "tilt_deg", "FOCAL_LENGTH_MM": "focal_length_mm", "FOCAL_LENGTH": "focal_length_mm",
    "CLOUD_PCT": "cloud_pct", "TILT": "tilt_class", "DATE": "date", "YYYYMMDD": "date", "TIME": "time",
    "CAMERA": "camera", "ALTITUDE_KM": "altitude_km", "SUN_ELEVATION": "sun_elevation_deg",
    "SUN_AZIMUTH": "sun_azimuth_deg", "FEATURES": "feature_text", "FEATURE": "feature_text",
    "CENTER_UNCERTAINTY_KM": "center_uncertainty_km", "FILENAME": "filename", "FILE": "filename", "URL": "url",
}
_ID_PARTS = ("MISSION", "ROLL", "FRAME")
_CORNERS = ("UL", "UR", "LR", "LL")  # image order TL, TR, BR, BL
_CORNER_COLUMNS = {f"{c}_{a}" for c in _CORNERS for a in ("LAT", "LON")}
_KNOWN_UNUSED = {"SQ_KM_AREA", "ORIENTATION"}
_KNOWN = set(_COLUMN_FIELDS) | set(_ID_PARTS) | _CORNER_COLUMNS | _KNOWN_UNUSED
_TILT_CLASSES = {"NV", "LO", "HO"}

#: Fields compared between sources, with the tolerance under which two values agree.
_TOLERANCES: dict[str, float] = {
    "focal_length_mm": 0.5, "altitude_km": 1.0, "nadir": 0.1, "center": 0.1,
}


class MetadataCsvError(JobInputError):
    """The CSV cannot be used at all (encoding, no header, no ID column); says what to fix."""


def normalize_photo_id(text: str) -> str | None:
    """``ISS064-E-000513``, ``iss064e000513`` -> ``ISS064-E-513``; None if ``text`` is not such an ID."""
    text = text.strip().upper()
    match = _DASHED_ID.fullmatch(text) or _COMPACT_ID.fullmatch(text)
    if match is None:
        return None
    photo_id = f"{match['mission']}-{match['roll']}-{int(match['frame'])}"
    return photo_id if MISSION_ROLL_FRAME_RE.match(photo_id) else None


def filename_photo_id(parts: Sequence[str]) -> str | None:
    """The ID in a file's name, else in its nearest parent folder's name (``parts`` is the path's parts)."""
    for i, part in enumerate(reversed(parts)):
        stem = part.rsplit(".", 1)[0] if i == 0 else part
        photo_id = normalize_photo_id(stem)
        if photo_id is None and i == 0:
            match = _DASHED_ID.search(stem.upper())
            photo_id = normalize_photo_id(match.group(0)) if match else None
        if photo_id:
            return photo_id
    return None


# --- CSV ----------------------------------------------------------------------------------------------
@dataclass
class CsvMetadata:
    """A parsed metadata CSV: values per row, how rows are found, what was wrong."""

    name: str
    layout: str
    columns: list[str]
    unknown_columns: list[str]
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)  # CSV line number -> values
    by_id: dict[str, int] = field(default_factory=dict)
    by_filename: dict[str, int] = field(default_factory=dict)
    invalid_rows: list[dict[str, Any]] = field(default_factory=list)

    def find(self, *, filename: str, photo_ids: Iterable[str | None]) -> int | None:
        """The row for a file: by its FILENAME/URL column first, then by the photo's ID."""
        line = self.by_filename.get(filename.lower())
        if line is not None:
            return line
        for photo_id in photo_ids:
            if photo_id and photo_id in self.by_id:
                return self.by_id[photo_id]
        return None

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "layout": self.layout, "rows": len(self.rows) + len(self.invalid_rows),
                "unknown_columns": self.unknown_columns, "invalid_rows": self.invalid_rows}


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").upper())


def _float(raw: str, column: str, lo: float | None = None, hi: float | None = None) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{column}={raw!r} is not a number") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{column}={raw!r} is outside [{lo}, {hi}]")
    return value


def _point(values: dict[str, str], prefix: str) -> tuple[float, float] | None:
    lat, lon = values.get(f"{prefix}_LAT", ""), values.get(f"{prefix}_LON", "")
    if not lat and not lon:
        return None
    if not lat or not lon:
        raise ValueError(f"{prefix}_LAT and {prefix}_LON must both be given")
    return (_float(lon, f"{prefix}_LON", -180, 180), _float(lat, f"{prefix}_LAT", -90, 90))


def _datetime(day: str, clock: str) -> tuple[datetime, bool]:
    """(UTC datetime, date_only) from YYYYMMDD (or YYYY-MM-DD) and optional HHMMSS (or HH:MM:SS)."""
    digits = re.sub(r"\D", "", day)
    try:
        d = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except (ValueError, IndexError):
        raise ValueError(f"date {day!r} is not YYYYMMDD") from None
    if not clock:
        return datetime.combine(d, time(0, 0), tzinfo=UTC), True
    c = re.sub(r"\D", "", clock).zfill(6)
    try:
        t = time(int(c[:2]), int(c[2:4]), int(c[4:6]))
    except ValueError:
        raise ValueError(f"time {clock!r} is not HHMMSS") from None
    return datetime.combine(d, t, tzinfo=UTC), False


def _row_values(raw: dict[str, str]) -> dict[str, Any]:
    """Typed values of one CSV row (normalised headers); raises ValueError naming the bad column."""
    get = {k: (v or "").strip() for k, v in raw.items() if k}
    fields = {_COLUMN_FIELDS[k]: v for k, v in get.items() if k in _COLUMN_FIELDS and v}
    out: dict[str, Any] = {}
    photo_id = None
    if fields.get("photo_id"):
        photo_id = normalize_photo_id(fields["photo_id"])
    elif all(get.get(k) for k in _ID_PARTS):
        photo_id = normalize_photo_id(f"{get['MISSION']}-{get['ROLL']}-{get['FRAME']}")
    if photo_id is None:
        raise ValueError("no mission-roll-frame ID (MRF, or MISSION + ROLL + FRAME)")
    out["photo_id"] = photo_id
    nadir, center = _point(get, "NADIR"), _point(get, "CENTER")
    if nadir:
        out["nadir"] = nadir
    if center:
        out["center"] = center
        out["center_uncertainty_km"] = (
            _float(fields["center_uncertainty_km"], "CENTER_UNCERTAINTY_KM", 0)
            if "center_uncertainty_km" in fields else CENTER_UNCERTAINTY_KM
        )
    if any(get.get(c) for c in _CORNER_COLUMNS):
        out["footprint"] = [_point(get, c) for c in _CORNERS]
        if any(p is None for p in out["footprint"]):
            raise ValueError("footprint corners incomplete (UL, UR, LR, LL _LAT/_LON)")
    if "date" in fields:
        out["captured_at"], out["date_only"] = _datetime(fields["date"], fields.get("time", ""))
    numbers = {"focal_length_mm": (0, 10_000), "altitude_km": (0, 100_000), "tilt_deg": (0, 90),
               "cloud_pct": (0, 100), "sun_elevation_deg": (-90, 90), "sun_azimuth_deg": (0, 360)}
    for name, (lo, hi) in numbers.items():
        if name in fields:
            out[name] = _float(fields[name], name.upper(), lo, hi)
    if "tilt_class" in fields:
        tilt = fields["tilt_class"].upper()
        if tilt not in _TILT_CLASSES:
            raise ValueError(f"TILT={fields['tilt_class']!r} is not NV, LO or HO")
        out["tilt_class"] = tilt
    for name in ("camera", "feature_text"):
        if name in fields:
            out[name] = fields[name]
    return out


def parse_metadata_csv(content: bytes, *, name: str) -> CsvMetadata:
    """Parse a metadata CSV; bad rows are listed (``invalid_rows``), a CSV unusable as a whole raises."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataCsvError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") \
            from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise MetadataCsvError(f"{name}: empty, no header row.")
    columns = [_normalise_header(c) for c in reader.fieldnames]
    reader.fieldnames = columns
    if not ({"MRF", "PHOTO_ID", "PHOTOID", "ID"} & set(columns) or set(_ID_PARTS) <= set(columns)):
        raise MetadataCsvError(
            f"{name}: no photo ID column; expected MRF (EOL layout) or MISSION, ROLL, FRAME (EarthLoc layout). "
            f"Columns found: {', '.join(columns)}."
        )
    layout = "earthloc" if set(columns) >= _CORNER_COLUMNS else "eol"
    parsed = CsvMetadata(name=name, layout=layout, columns=columns,
                         unknown_columns=[c for c in columns if c not in _KNOWN])
    for record in reader:
        line = reader.line_num
        try:
            values = _row_values(record)
        except ValueError as exc:
            parsed.invalid_rows.append({"line": line, "error": str(exc)})
            continue
        if values["photo_id"] in parsed.by_id:
            parsed.invalid_rows.append({"line": line, "error": f"{values['photo_id']} repeats line "
                                                              f"{parsed.by_id[values['photo_id']]}; ignored"})
            continue
        parsed.rows[line] = values
        parsed.by_id[values["photo_id"]] = line
        for column in ("FILENAME", "FILE", "URL"):
            if record.get(column):
                parsed.by_filename[record[column].strip().rsplit("/", 1)[-1].lower()] = line
    return parsed


# --- EXIF ---------------------------------------------------------------------------------------------
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DESCRIPTION, _MODEL, _DATETIME, _DATETIME_ORIGINAL, _FOCAL_LENGTH = 0x010E, 0x0110, 0x0132, 0x9003, 0x920A


def _dms(value: Any, ref: Any) -> float:
    d, m, s = (float(x) for x in value)
    result = d + m / 60 + s / 3600
    return -result if str(ref).upper() in ("S", "W") else result


def exif_metadata(image: Image.Image) -> dict[str, Any]:
    """What EXIF says (only fields present and readable); never raises on odd EXIF."""
    try:
        exif = image.getexif()
    except Exception:
        return {}
    out: dict[str, Any] = {}
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    stamp = exif_ifd.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if stamp:
        with contextlib.suppress(ValueError):
            out["captured_at"] = datetime.strptime(str(stamp).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    if exif.get(_MODEL):
        out["camera"] = str(exif[_MODEL]).strip("\x00 ")
    focal = exif_ifd.get(_FOCAL_LENGTH)
    if focal:
        with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
            out["focal_length_mm"] = float(focal)
    description = exif.get(_DESCRIPTION)
    if description:
        photo_id = normalize_photo_id(str(description).strip("\x00 "))
        if photo_id:
            out["photo_id"] = photo_id
    gps = exif.get_ifd(_GPS_IFD)
    try:
        if gps.get(2) and gps.get(4):
            lon, lat = _dms(gps[4], gps.get(3, "E")), _dms(gps[2], gps.get(1, "N"))
            if -180 <= lon <= 180 and -90 <= lat <= 90:
                out["nadir"] = (lon, lat)
        if gps.get(6) is not None:
            out["altitude_km"] = float(gps[6]) / 1000.0
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return out


# --- merge --------------------------------------------------------------------------------------------
@dataclass
class MergedMetadata:
    """The values used for a photo, where each came from, and where the sources disagreed."""

    values: dict[str, Any]
    sources: dict[str, str]
    conflicts: list[dict[str, Any]]


def _agree(name: str, a: Any, b: Any) -> bool:
    if name in ("nadir", "center"):
        return abs(a[0] - b[0]) <= _TOLERANCES[name] and abs(a[1] - b[1]) <= _TOLERANCES[name]
    if name in _TOLERANCES:
        return abs(a - b) <= _TOLERANCES[name]
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return a == b


def _show(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def merge_metadata(csv_values: dict[str, Any], exif_values: dict[str, Any], filename_values: dict[str, Any]
                   ) -> MergedMetadata:
    """CSV > EXIF > filename, field by field; every disagreement is listed with the value used.

    A CSV date without a time (EarthLoc's YYYYMMDD) agrees with an EXIF time on the same day, and then the
    EXIF time is used: it is the same fact, more precise.
    """
    ranked = [("csv", csv_values), ("exif", exif_values), ("filename", filename_values)]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    conflicts: list[dict[str, Any]] = []
    names = [n for n in dict.fromkeys([*csv_values, *exif_values, *filename_values]) if n != "date_only"]
    for name in names:
        present = [(src, vals[name]) for src, vals in ranked if vals.get(name) is not None]
        if not present:
            continue
        source, value = present[0]
        if name == "captured_at" and source == "csv" and csv_values.get("date_only") and "captured_at" in exif_values:
            exif_time = exif_values["captured_at"]
            if exif_time.date() == value.date():
                source, value = "exif", exif_time
                present = [("exif", exif_time)]
        values[name], sources[name] = value, source
        disagree = [(src, v) for src, v in present[1:] if not _agree(name, value, v)]
        if disagree:
            conflicts.append({"field": name, "used": source, "value": _show(value),
                              **{src: _show(v) for src, v in disagree}})
    return MergedMetadata(values=values, sources=sources, conflicts=conflicts)
