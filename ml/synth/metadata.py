"""NASA-like photo metadata: JPEG EXIF and CSV files in the EOL and EarthLoc column layouts.

The platform imports real metadata from these three sources, so the synthetic Earth writes all three with
the real column names (shared/real-samples/metadata.csv for EOL, shared/real-footprints for EarthLoc) and
the tests read them back. Coordinates are (lon, lat) in code; the CSV column order is the files' own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from ml.geo import LonLat, initial_bearing_deg, polygon_area_km2

#: Columns of shared/real-samples/metadata.csv, in order, then the extra EOL fields this generator adds.
EOL_COLUMNS = (
    "MRF", "MISSION", "ROLL", "FRAME", "CENTER_LAT", "CENTER_LON", "NADIR_LAT", "NADIR_LON",
    "TILT_DEG", "FOCAL_LENGTH_MM", "CLOUD_PCT",
    "TILT", "DATE", "TIME", "CAMERA", "ALTITUDE_KM", "SUN_ELEVATION", "SUN_AZIMUTH",
)
#: Columns of shared/real-footprints/iss_footprints_earthloc.csv, in order.
EARTHLOC_COLUMNS = (
    "LL_LAT", "LL_LON", "UL_LAT", "UL_LON", "UR_LAT", "UR_LON", "LR_LAT", "LR_LON",
    "MISSION", "ROLL", "FRAME", "YYYYMMDD", "NADIR_LAT", "NADIR_LON", "SQ_KM_AREA", "ORIENTATION", "URL",
)
#: NASA's cloud-cover classes (percent).
CLOUD_CLASSES = (0, 10, 25, 50, 75, 100)

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DESCRIPTION, _MAKE, _MODEL, _DATETIME = 0x010E, 0x010F, 0x0110, 0x0132
_DATETIME_ORIGINAL, _FOCAL_LENGTH = 0x9003, 0x920A
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_ALT_REF, _GPS_ALT = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class PhotoMetadata:
    """What NASA publishes about a photo. ``center`` is the weak label (None when not given)."""

    photo_id: str
    captured_at: datetime
    camera: str
    focal_length_mm: float
    altitude_km: float
    nadir: LonLat
    center: LonLat | None
    tilt_deg: float
    cloud_pct: float
    sun_elevation_deg: float
    sun_azimuth_deg: float

    @property
    def mission(self) -> str:
        return self.photo_id.split("-")[0]

    @property
    def roll(self) -> str:
        return self.photo_id.split("-")[1]

    @property
    def frame(self) -> int:
        return int(self.photo_id.split("-")[2])


def tilt_class(tilt_deg: float) -> str:
    """NASA tilt class: NV near vertical (<= 15 deg), LO low oblique (<= 45 deg), HO high oblique."""
    if tilt_deg <= 15.0:
        return "NV"
    return "LO" if tilt_deg <= 45.0 else "HO"


def cloud_class(cloud_pct: float) -> int:
    """Nearest NASA cloud-cover class."""
    return min(CLOUD_CLASSES, key=lambda c: abs(c - cloud_pct))


# --- EXIF ---------------------------------------------------------------------------------------------
def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def _from_dms(dms, ref: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    return -value if ref in ("S", "W") else value


def save_jpeg_with_exif(image: np.ndarray, path: Path, meta: PhotoMetadata, quality: int) -> None:
    """Write an RGB uint8 image as JPEG with NASA-like EXIF: ID, camera, time, focal length, ISS position.

    The GPS block holds the spacecraft nadir and altitude (where the camera was), never the photo centre.
    """
    exif = Image.Exif()
    exif[_DESCRIPTION] = meta.photo_id
    exif[_MAKE] = "NIKON CORPORATION"
    exif[_MODEL] = meta.camera
    stamp = meta.captured_at.astimezone(UTC).strftime("%Y:%m:%d %H:%M:%S")
    exif[_DATETIME] = stamp
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    exif_ifd[_DATETIME_ORIGINAL] = stamp
    exif_ifd[_FOCAL_LENGTH] = float(meta.focal_length_mm)
    gps = exif.get_ifd(_GPS_IFD)
    lon, lat = meta.nadir
    gps[_GPS_LAT_REF] = "N" if lat >= 0 else "S"
    gps[_GPS_LAT] = _dms(lat)
    gps[_GPS_LON_REF] = "E" if lon >= 0 else "W"
    gps[_GPS_LON] = _dms(lon)
    gps[_GPS_ALT_REF] = b"\x00"
    gps[_GPS_ALT] = float(round(meta.altitude_km * 1000.0, 1))
    Image.fromarray(image).save(path, format="JPEG", quality=quality, exif=exif.tobytes())


@dataclass(frozen=True)
class ExifRecord:
    """The EXIF fields read back from a JPEG."""

    photo_id: str
    camera: str
    captured_at: datetime
    focal_length_mm: float
    nadir: LonLat
    altitude_km: float


def read_exif(path: Path) -> ExifRecord:
    """Read the fields written by :func:`save_jpeg_with_exif` (works on any JPEG that has them)."""
    with Image.open(path) as img:
        exif = img.getexif()
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    gps = exif.get_ifd(_GPS_IFD)
    when = datetime.strptime(exif_ifd.get(_DATETIME_ORIGINAL, exif.get(_DATETIME)), "%Y:%m:%d %H:%M:%S")
    return ExifRecord(
        photo_id=str(exif.get(_DESCRIPTION, "")),
        camera=str(exif.get(_MODEL, "")),
        captured_at=when.replace(tzinfo=UTC),
        focal_length_mm=float(exif_ifd[_FOCAL_LENGTH]),
        nadir=(_from_dms(gps[_GPS_LON], gps[_GPS_LON_REF]), _from_dms(gps[_GPS_LAT], gps[_GPS_LAT_REF])),
        altitude_km=float(gps[_GPS_ALT]) / 1000.0,
    )


# --- CSV ----------------------------------------------------------------------------------------------
def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def eol_row(meta: PhotoMetadata) -> dict[str, str]:
    """One EOL-layout row (what the platform receives for a photo)."""
    return {
        "MRF": meta.photo_id,
        "MISSION": meta.mission,
        "ROLL": meta.roll,
        "FRAME": str(meta.frame),
        "CENTER_LAT": _fmt(meta.center[1] if meta.center else None, 1),
        "CENTER_LON": _fmt(meta.center[0] if meta.center else None, 1),
        "NADIR_LAT": _fmt(meta.nadir[1], 4),
        "NADIR_LON": _fmt(meta.nadir[0], 4),
        "TILT_DEG": str(round(meta.tilt_deg)),
        "FOCAL_LENGTH_MM": str(round(meta.focal_length_mm)),
        "CLOUD_PCT": str(cloud_class(meta.cloud_pct)),
        "TILT": tilt_class(meta.tilt_deg),
        "DATE": meta.captured_at.strftime("%Y%m%d"),
        "TIME": meta.captured_at.strftime("%H%M%S"),
        "CAMERA": meta.camera,
        "ALTITUDE_KM": _fmt(meta.altitude_km, 1),
        "SUN_ELEVATION": str(round(meta.sun_elevation_deg)),
        "SUN_AZIMUTH": str(round(meta.sun_azimuth_deg)),
    }


def earthloc_row(
    photo_id: str, corners: tuple[LonLat, ...], when: datetime, nadir: LonLat, url: str
) -> dict[str, str]:
    """One EarthLoc-layout row. Corners come in image order TL, TR, BR, BL = UL, UR, LR, LL.

    ORIENTATION is the bearing (degrees from north) of the image's up direction at its centre.
    """
    tl, tr, br, bl = corners
    centre_lon = sum(c[0] for c in corners) / 4
    centre_lat = sum(c[1] for c in corners) / 4
    top_mid = ((tl[0] + tr[0]) / 2, (tl[1] + tr[1]) / 2)
    mission, roll, frame = photo_id.split("-")
    return {
        "LL_LAT": f"{bl[1]:.6f}", "LL_LON": f"{bl[0]:.6f}",
        "UL_LAT": f"{tl[1]:.6f}", "UL_LON": f"{tl[0]:.6f}",
        "UR_LAT": f"{tr[1]:.6f}", "UR_LON": f"{tr[0]:.6f}",
        "LR_LAT": f"{br[1]:.6f}", "LR_LON": f"{br[0]:.6f}",
        "MISSION": mission, "ROLL": roll, "FRAME": frame,
        "YYYYMMDD": when.strftime("%Y%m%d"),
        "NADIR_LAT": f"{nadir[1]:.1f}", "NADIR_LON": f"{nadir[0]:.1f}",
        "SQ_KM_AREA": str(round(polygon_area_km2(corners))),
        "ORIENTATION": f"{initial_bearing_deg(centre_lon, centre_lat, *top_mid):.1f}",
        "URL": url,
    }


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> None:
    """Write rows with exactly ``columns`` (\\n line ends, so bytes do not depend on the platform)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def footprint_from_earthloc(row: dict[str, str]) -> tuple[LonLat, LonLat, LonLat, LonLat]:
    """Corners (lon, lat) in image order TL, TR, BR, BL from an EarthLoc row."""
    return tuple(  # type: ignore[return-value]
        (float(row[f"{k}_LON"]), float(row[f"{k}_LAT"])) for k in ("UL", "UR", "LR", "LL")
    )


def center_from_eol(row: dict[str, str]) -> LonLat | None:
    """Weak centre (lon, lat) of an EOL row, None when absent."""
    if not row.get("CENTER_LAT") or not row.get("CENTER_LON"):
        return None
    return (float(row["CENTER_LON"]), float(row["CENTER_LAT"]))
