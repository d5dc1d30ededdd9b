"""Bulk export of a filtered footprint selection for GIS tools: CSV (WKT), KML, GeoPackage, FlatGeobuf.

The selection is the REST filters' (``footprints_filtered``: visibility always applies), read with a
server-side cursor in chunks, so a million rows are never in memory at once. CSV and KML are written as the
rows arrive (a streamed response); GeoPackage and FlatGeobuf need a file with an index, so the rows are
streamed to a typed CSV on disk (``.csvt`` names each column's type) and GDAL's ``ogr2ogr`` converts it.
Every row carries the photo's metadata as attributes.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKT
from django.db.models import QuerySet

from apps.footprints.models import Footprint
from apps.footprints.selectors import FOOTPRINT_FEATURE_PROPERTIES

__all__ = ["EXPORT_COLUMNS", "EXPORT_FORMATS", "ExportFormat", "export_rows", "export_stream", "export_to_file"]

#: Attribute name -> ORM path (from Footprint). The map's feature properties, and the rest of the metadata.
EXPORT_COLUMNS: dict[str, str] = {
    **FOOTPRINT_FEATURE_PROPERTIES,
    "camera": "photo__camera",
    "altitude_km": "photo__altitude_km",
    "tilt_deg": "photo__tilt_deg",
    "sun_elevation_deg": "photo__sun_elevation_deg",
    "sun_azimuth_deg": "photo__sun_azimuth_deg",
    "visibility": "photo__visibility",
    "feature_text": "photo__feature_text",
}
_CSVT = {"BooleanField": "Integer(Boolean)", "FloatField": "Real", "DateTimeField": "DateTime",
         "AutoField": "Integer64", "BigAutoField": "Integer64", "ForeignKey": "Integer64",
         "PositiveIntegerField": "Integer", "PositiveSmallIntegerField": "Integer"}
CHUNK_ROWS = 2000


@dataclass(frozen=True)
class ExportFormat:
    driver: str  # OGR driver name; empty: written here, streamed
    media_type: str
    extension: str


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "gpkg": ExportFormat("GPKG", "application/geopackage+sqlite3", "gpkg"),
    "fgb": ExportFormat("FlatGeobuf", "application/flatgeobuf", "fgb"),
    "kml": ExportFormat("", "application/vnd.google-earth.kml+xml", "kml"),
    "csv": ExportFormat("", "text/csv; charset=utf-8", "csv"),
}


def _field_type(path: str) -> str:
    model, field = Footprint, None
    for part in path.split("__"):
        field = model._meta.get_field("id" if part == "pk" else part)
        model = field.related_model or model
    return _CSVT.get(field.get_internal_type(), "String")


def export_rows(qs: QuerySet[Footprint]) -> Iterator[tuple]:
    """(WKT, then ``EXPORT_COLUMNS`` values) per footprint, by id, read ``CHUNK_ROWS`` at a time."""
    rows = (qs.annotate(export_wkt=AsWKT("polygon")).order_by("pk")
            .values_list("export_wkt", *EXPORT_COLUMNS.values()))
    return rows.iterator(chunk_size=CHUNK_ROWS)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _csv_lines(rows: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["WKT", *EXPORT_COLUMNS])
    for row in rows:
        writer.writerow([_text(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_KML_TYPES = {"Integer(Boolean)": "bool", "Real": "double", "Integer64": "int", "Integer": "int"}


def _kml_parts(rows: Iterator[tuple]) -> Iterator[str]:
    fields = "".join(f'<SimpleField name="{name}" type="{_KML_TYPES.get(_field_type(path), "string")}"/>'
                     for name, path in EXPORT_COLUMNS.items())
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n'
           f'<Document id="root_doc"><Schema name="footprints" id="footprints">{fields}</Schema>\n'
           "<Folder><name>footprints</name>\n")
    for wkt, *values in rows:
        ring = wkt[wkt.index("((") + 2:wkt.index(")")]
        coordinates = " ".join(",".join(point.split()) for point in ring.split(","))
        data = "".join(f'<SimpleData name="{name}">{escape(_text(value))}</SimpleData>'
                       for name, value in zip(EXPORT_COLUMNS, values, strict=True) if value not in (None, ""))
        yield (f"<Placemark><name>{escape(str(values[0]))}</name>"
               f'<ExtendedData><SchemaData schemaUrl="#footprints">{data}</SchemaData></ExtendedData>'
               f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coordinates}</coordinates></LinearRing>"
               "</outerBoundaryIs></Polygon></Placemark>\n")
    yield "</Folder></Document></kml>\n"


def export_stream(qs: QuerySet[Footprint], fmt: str) -> Iterator[bytes]:
    """CSV or KML of the selection, produced as the rows are read."""
    parts = {"csv": _csv_lines, "kml": _kml_parts}[fmt](export_rows(qs))
    return (part.encode() for part in parts)


class _TempFile(io.FileIO):
    """A file that removes its folder when closed (after the response has sent it)."""

    def __init__(self, path: Path, folder: Path):
        super().__init__(path, "rb")
        self.folder = folder

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.folder, ignore_errors=True)


def export_to_file(qs: QuerySet[Footprint], fmt: str) -> io.FileIO:
    """GeoPackage or FlatGeobuf of the selection, as an open file that deletes itself when closed."""
    spec = EXPORT_FORMATS[fmt]
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=settings.ASTROLOC_EXPORT_TMP_DIR))
    try:
        source = folder / "footprints.csv"
        with source.open("w", encoding="utf-8") as out:
            for part in _csv_lines(export_rows(qs)):
                out.write(part)
        (folder / "footprints.csvt").write_text(
            ",".join(["WKT", *(_field_type(path) for path in EXPORT_COLUMNS.values())]) + "\n")
        target = folder / f"footprints.{spec.extension}"
        command = ["ogr2ogr", "-f", spec.driver, str(target), str(source), "-nln", "footprints",
                   "-a_srs", "EPSG:4326", "-nlt", "POLYGON", "-oo", "GEOM_POSSIBLE_NAMES=WKT",
                   "-oo", "KEEP_GEOM_COLUMNS=NO"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=settings.ASTROLOC_EXPORT_TIMEOUT_SECONDS)
        if done.returncode != 0:
            raise RuntimeError(f"ogr2ogr could not write {spec.driver}: {done.stderr.strip()[-500:]}")
        return _TempFile(target, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
