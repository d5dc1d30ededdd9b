"""Photo metadata from its three sources, merged with precedence metadata file > EXIF > filename, conflicts reported.

- Metadata file (one per batch; ``parse_metadata_file``): a CSV or the JSON output of NASA's Photos Database API.
  One column map reads every layout: the EOL CSV layout (``MRF, MISSION, ROLL, FRAME, CENTER_LAT, ...``, as in
  shared/real-samples/metadata.csv), the EarthLoc layout (``LL_LAT ... LR_LON, MISSION, ROLL, FRAME,
  YYYYMMDD, ...``, shared/real-footprints) and NASA's own field names, table-qualified as the API returns them
  (``frames.pdate``), as its queries spell them (``frames|pdate``) or bare upper-case as CSV exports carry them
  (``PDATE``). The table in docs/import-photos.md lists every column. Columns outside the map are ignored and
  listed (``ignored_columns``), never dropped silently.
- EXIF: DateTimeOriginal (UTC, as NASA writes it), FocalLength, Model; ImageDescription when it holds a
  mission-roll-frame ID; the GPS block, when present, is where the camera was: the ISS nadir and altitude.
- Filename: a mission-roll-frame ID in the file name (``ISS064-E-513.jpg``, ``iss064e000513.jpg``) or in a
  parent folder's name (``ISS064-E-513/photo.jpg``).

Values are plain Python (points are (lon, lat) tuples: columns in (lat, lon) order are swapped here and
nowhere else).
"""

import contextlib
import csv
import io
import json
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
    "parse_metadata_file",
    "parse_metadata_json",
]

#: Radius of NASA's hand-clicked center points (about ±1 degree).
CENTER_UNCERTAINTY_KM = 111.0

_DASHED_ID = re.compile(r"(?P<mission>[A-Z]{2,4}\d{2,3}[A-Z]?)-(?P<roll>[A-Z0-9]{1,4})-(?P<frame>\d{1,7})")
_COMPACT_ID = re.compile(r"(?P<mission>[A-Z]{2,4}\d{3})(?P<roll>[A-Z])(?P<frame>\d{1,7})")

# Bare column names (normalised: upper case, spaces and dashes as "_") -> field. NASA's EOL names (PDATE,
# FCLT, ...) sit beside the descriptive ones; table-qualified names are in _QUALIFIED below.
_COLUMN_FIELDS = {
    "MRF": "photo_id", "PHOTO_ID": "photo_id", "PHOTOID": "photo_id", "ID": "photo_id",
    "MISSION": "mission", "ROLL": "roll", "FRAME": "frame",
    "CENTER_LAT": "center_lat", "CENTER_LON": "center_lon", "NADIR_LAT": "nadir_lat", "NADIR_LON": "nadir_lon",
    "LAT": "center_lat", "LON": "center_lon", "NLAT": "nadir_lat", "NLON": "nadir_lon",
    "TILT": "tilt", "TILT_DEG": "tilt_deg", "FOCAL_LENGTH_MM": "focal_length_mm", "FOCAL_LENGTH": "focal_length_mm",
    "FCLT": "focal_length_mm", "CLOUD_PCT": "cloud_pct", "CLDP": "cloud_pct",
    "DATE": "date", "YYYYMMDD": "date", "PDATE": "date", "TIME": "time", "PTIME": "time",
    "CAMERA": "camera", "ALTITUDE_KM": "altitude_km", "ALT": "altitude_nmi",
    "SUN_ELEVATION": "sun_elevation_deg", "ELEV": "sun_elevation_deg",
    "SUN_AZIMUTH": "sun_azimuth_deg", "AZI": "sun_azimuth_deg",
    "FEATURES": "feature_text", "FEATURE": "feature_text", "FEAT": "feature_text", "GEON": "geographic_name",
    "CENTER_UNCERTAINTY_KM": "center_uncertainty_km", "FILENAME": "filename", "FILE": "filename", "URL": "url",
    "DIRECTORY": "directory", "WIDTH": "width", "HEIGHT": "height",
}
_CORNERS = ("UL", "UR", "LR", "LL")  # image order TL, TR, BR, BL
_COLUMN_FIELDS.update({f"{c}_{a}": f"fp_{c}_{a}".lower() for c in _CORNERS for a in ("LAT", "LON")})
_FRAMES = ("MISSION", "ROLL", "FRAME", "PDATE", "PTIME", "LAT", "LON", "NLAT", "NLON", "TILT", "FCLT", "CLDP",
           "AZI", "ELEV", "CAMERA", "GEON", "FEAT", "ALT")
_IMAGES = ("DIRECTORY", "FILENAME", "WIDTH", "HEIGHT")
# NASA's table-qualified names (``frames.pdate``; ``frames|pdate`` is normalised to the same), -> field.
# ``mlcoord`` holds NASA's machine-learning footprint: its corners and centre.
_QUALIFIED = {
    **{f"FRAMES.{name}": _COLUMN_FIELDS[name] for name in _FRAMES},
    **{f"IMAGES.{name}": _COLUMN_FIELDS[name] for name in _IMAGES},
    "MLCOORD.LAT": "ml_center_lat", "MLCOORD.LON": "ml_center_lon",
    **{f"MLCOORD.{c}_{a}": f"ml_{c}_{a}".lower() for c in _CORNERS for a in ("LAT", "LON")},
}
_KNOWN_UNUSED = {"SQ_KM_AREA", "ORIENTATION"}
_TILT_CLASSES = {"NV", "LO", "HO"}
#: EOL gives the spacecraft altitude (``frames.alt``) in nautical miles.
_KM_PER_NAUTICAL_MILE = 1.852

#: Fields compared between sources, with the tolerance under which two values agree.
_TOLERANCES: dict[str, float] = {
    "focal_length_mm": 0.5, "altitude_km": 1.0, "nadir": 0.1, "center": 0.1,
}


class MetadataCsvError(JobInputError):
    """The metadata file (CSV or EOL JSON) cannot be used at all (encoding, no header, no ID column); says what
    to fix."""


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


# --- metadata file (CSV or EOL JSON) -----------------------------------------------------------------
@dataclass
class CsvMetadata:
    """A parsed metadata file (CSV or EOL JSON): values per row, how rows are found, what was read or not.

    ``rows`` is keyed by the CSV line number, or the record number (from 1) of a JSON file.
    """

    name: str
    layout: str
    columns: list[str]
    unknown_columns: list[str]
    columns_read: dict[str, str] = field(default_factory=dict)  # column as given -> field it fills
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)
    by_filename: dict[str, int] = field(default_factory=dict)
    invalid_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ignored_columns(self) -> list[str]:
        return [c for c in self.columns if c not in self.columns_read]

    def find(self, *, filename: str, photo_ids: Iterable[str | None]) -> int | None:
        """The row for a file: by its file name (FILENAME, URL, images.filename) first, then by the photo's ID."""
        line = self.by_filename.get(filename.lower())
        if line is not None:
            return line
        for photo_id in photo_ids:
            if photo_id and photo_id in self.by_id:
                return self.by_id[photo_id]
        return None

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "layout": self.layout, "rows": len(self.rows) + len(self.invalid_rows),
                "columns_read": self.columns_read, "ignored_columns": self.ignored_columns,
                "unknown_columns": self.unknown_columns, "invalid_rows": self.invalid_rows}


def _column_field(column: str) -> str | None:
    """The field a column fills (None: not read). ``frames.pdate``, ``frames|pdate`` and ``PDATE`` are one."""
    key = re.sub(r"[\s\-]+", "_", column.strip().lstrip("\ufeff").upper()).replace("|", ".")
    return _QUALIFIED.get(key) if "." in key else _COLUMN_FIELDS.get(key)


def _float(raw: str, column: str, lo: float | None = None, hi: float | None = None) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{column}={raw!r} is not a number") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{column}={raw!r} is outside [{lo}, {hi}]")
    return value


def _point(get: dict[str, str], labels: dict[str, str], prefix: str) -> tuple[float, float] | None:
    lat_field, lon_field = f"{prefix}_lat", f"{prefix}_lon"
    lat, lon = get.get(lat_field, ""), get.get(lon_field, "")
    if not lat and not lon:
        return None
    lat_label, lon_label = labels.get(lat_field, lat_field), labels.get(lon_field, lon_field)
    if not lat or not lon:
        raise ValueError(f"{lat_label} and {lon_label} must both be given")
    return (_float(lon, lon_label, -180, 180), _float(lat, lat_label, -90, 90))


def _corners(get: dict[str, str], labels: dict[str, str], prefix: str) -> list[tuple[float, float]] | None:
    names = [f"{prefix}_{c}".lower() for c in _CORNERS]
    if not any(get.get(f"{n}_lat") or get.get(f"{n}_lon") for n in names):
        return None
    corners = [_point(get, labels, n) for n in names]
    if any(p is None for p in corners):
        missing = [labels.get(f"{n}_lat", n) for n, p in zip(names, corners, strict=True) if p is None]
        raise ValueError(f"footprint corners incomplete (UL, UR, LR, LL lat/lon; missing {', '.join(missing)})")
    return corners  # type: ignore[return-value]


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


def _source_url(get: dict[str, str], base_url: str) -> str | None:
    """The photo's file URL: a URL column, else EOL's ``images.directory`` + ``images.filename``.

    A relative directory (``/DatabaseImages/ESC/large/ISS064``, as EOL gives it) is joined to ``base_url``.
    """
    if get.get("url"):
        return get["url"]
    directory, filename = get.get("directory", ""), get.get("filename", "")
    if not directory or not filename:
        return None
    if not re.match(r"^https?://", directory, re.IGNORECASE):
        if not base_url:
            return None
        directory = f"{base_url.rstrip('/')}/{directory.lstrip('/')}"
    return f"{directory.rstrip('/')}/{filename.lstrip('/')}"


_NUMBERS = {"focal_length_mm": (0, 10_000), "altitude_km": (0, 100_000), "altitude_nmi": (0, 60_000),
            "tilt_deg": (0, 90), "cloud_pct": (0, 100), "sun_elevation_deg": (-90, 90), "sun_azimuth_deg": (0, 360),
            "center_uncertainty_km": (0, 20_000), "width": (1, 1_000_000), "height": (1, 1_000_000)}


def _row_values(get: dict[str, str], labels: dict[str, str], *, base_url: str) -> dict[str, Any]:
    """Typed values of one row (``get``: field -> non-empty text); raises ValueError naming the bad column."""
    out: dict[str, Any] = {}
    photo_id = None
    if get.get("photo_id"):
        photo_id = normalize_photo_id(get["photo_id"])
    elif all(get.get(k) for k in ("mission", "roll", "frame")):
        photo_id = normalize_photo_id(f"{get['mission']}-{get['roll']}-{get['frame']}")
    if photo_id is None:
        raise ValueError("no mission-roll-frame ID (MRF, or MISSION + ROLL + FRAME)")
    out["photo_id"] = photo_id
    for name in ("nadir", "center", "ml_center"):
        point = _point(get, labels, name)
        if point:
            out[name] = point
    numbers = {name: _float(get[name], labels[name], lo, hi) for name, (lo, hi) in _NUMBERS.items() if name in get}
    if "center" in out:
        out["center_uncertainty_km"] = numbers.get("center_uncertainty_km", CENTER_UNCERTAINTY_KM)
    for name, prefix in (("footprint", "fp"), ("ml_footprint", "ml")):
        corners = _corners(get, labels, prefix)
        if corners:
            out[name] = corners
    if "date" in get:
        out["captured_at"], out["date_only"] = _datetime(get["date"], get.get("time", ""))
    for name in ("focal_length_mm", "altitude_km", "tilt_deg", "cloud_pct", "sun_elevation_deg", "sun_azimuth_deg"):
        if name in numbers:
            out[name] = numbers[name]
    if "altitude_nmi" in numbers and "altitude_km" not in out:
        out["altitude_km"] = round(numbers["altitude_nmi"] * _KM_PER_NAUTICAL_MILE, 3)
    for name in ("width", "height"):
        if name in numbers:
            out[f"declared_{name}"] = int(numbers[name])
    if "tilt" in get:  # EOL: a class (NV, LO, HO) or an angle in degrees
        tilt = get["tilt"].upper()
        if tilt in _TILT_CLASSES:
            out["tilt_class"] = tilt
        elif re.fullmatch(r"-?\d+(\.\d*)?", tilt):
            out.setdefault("tilt_deg", _float(tilt, labels["tilt"], 0, 90))
        else:
            raise ValueError(f"{labels['tilt']}={get['tilt']!r} is not NV, LO, HO or an angle in degrees")
    for name in ("camera", "feature_text", "geographic_name"):
        if name in get:
            out[name] = get[name]
    url = _source_url(get, base_url)
    if url and len(url) > 1000:
        raise ValueError(f"the file's URL is {len(url)} characters long; at most 1000 are kept")
    if url:
        out["source_url"] = url
    return out


def _read_rows(parsed: CsvMetadata, records: Iterable[tuple[int, dict[str, Any]]], *, base_url: str) -> None:
    """Fill ``parsed`` from (line, {column: raw value}) records; bad rows are listed, not raised."""
    labels = {f: c for c, f in reversed(parsed.columns_read.items())}  # first column wins a field
    for line, record in records:
        get: dict[str, str] = {}
        for column, raw in record.items():
            name = parsed.columns_read.get(column)
            text = "" if raw is None else str(raw).strip()
            if name and text and name not in get:
                get[name] = text
        try:
            values = _row_values(get, labels, base_url=base_url)
        except ValueError as exc:
            parsed.invalid_rows.append({"line": line, "error": str(exc)})
            continue
        if values["photo_id"] in parsed.by_id:
            parsed.invalid_rows.append({"line": line, "error": f"{values['photo_id']} repeats line "
                                                              f"{parsed.by_id[values['photo_id']]}; ignored"})
            continue
        parsed.rows[line] = values
        parsed.by_id[values["photo_id"]] = line
        for name in (get.get("filename"), values.get("source_url")):
            if name:
                parsed.by_filename[name.rsplit("/", 1)[-1].lower()] = line


def _new_metadata(name: str, columns: list[str], kind: str) -> CsvMetadata:
    read = {c: f for c in columns if (f := _column_field(c))}
    if not ("photo_id" in read.values() or {"mission", "roll", "frame"} <= set(read.values())):
        raise MetadataCsvError(
            f"{name}: no photo ID column; expected MRF (EOL layout), MISSION, ROLL, FRAME (EarthLoc layout) or "
            f"frames.mission, frames.roll, frames.frame (NASA Photos Database API). Columns found: "
            f"{', '.join(columns)}."
        )
    if kind == "json":
        layout = "eol_json"
    elif any(("." in c or "|" in c) for c in read):
        layout = "eol_qualified"
    elif {f"fp_{c}_lat".lower() for c in _CORNERS} <= set(read.values()):
        layout = "earthloc"
    else:
        layout = "eol"
    unknown = [c for c in columns if c not in read
               and re.sub(r"[\s\-]+", "_", c.strip().upper()) not in _KNOWN_UNUSED]
    return CsvMetadata(name=name, layout=layout, columns=columns, unknown_columns=unknown, columns_read=read)


def parse_metadata_csv(content: bytes, *, name: str, base_url: str = "") -> CsvMetadata:
    """Parse a metadata CSV; bad rows are listed (``invalid_rows``), a CSV unusable as a whole raises."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataCsvError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") \
            from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise MetadataCsvError(f"{name}: empty, no header row.")
    columns = [c.strip() for c in reader.fieldnames]
    reader.fieldnames = columns
    parsed = _new_metadata(name, columns, "csv")
    _read_rows(parsed, ((reader.line_num, record) for record in reader), base_url=base_url)
    return parsed


def parse_metadata_json(content: bytes, *, name: str, base_url: str = "") -> CsvMetadata:
    """Parse the JSON of NASA's Photos Database API: a list of records keyed ``frames.mission``, ...

    An object holding such a list under one key is accepted too. Columns are every key seen, in order.
    """
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MetadataCsvError(f"{name}: not valid JSON ({exc}).") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise MetadataCsvError(f"{name}: expected a JSON list of records (objects keyed like 'frames.mission').")
    if not data:
        raise MetadataCsvError(f"{name}: the JSON holds no records.")
    columns = list(dict.fromkeys(str(k) for record in data for k in record))
    parsed = _new_metadata(name, columns, "json")
    _read_rows(parsed, ((i, {str(k): v for k, v in r.items()}) for i, r in enumerate(data, start=1)),
               base_url=base_url)
    return parsed


def parse_metadata_file(content: bytes, *, name: str, base_url: str = "") -> CsvMetadata:
    """A metadata CSV or EOL JSON, told apart by the ``.json`` suffix or a leading ``[`` / ``{``."""
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if name.lower().endswith(".json") or head in (b"[", b"{"):
        return parse_metadata_json(content, name=name, base_url=base_url)
    return parse_metadata_csv(content, name=name, base_url=base_url)


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
