"""Georeferenced files of a localized photo, built from the photo and its footprint's four corners.

A footprint's corners (lon/lat, image order TL, TR, BR, BL) are where the photo's corners (pixel corner
convention: (0, 0), (w, 0), (w, h), (0, h)) lie on the ground. The localization found them as a homography
onto Web Mercator imagery, so the exact mapping of the photo onto the map is the projective transform in
EPSG:3857 through those four pairs. From it:

- ``warped_geotiff``: the photo resampled onto an EPSG:3857 grid (north up), alpha 0 outside the photo;
- ``gcp_geotiff``: the photo's own pixels with the four corners as ground control points (EPSG:4326), for
  GIS tools that warp themselves;
- ``kml_ground_overlay`` / ``kmz``: a Google Earth GroundOverlay with ``gx:LatLonQuad`` (which maps the
  four corners exactly), plus the footprint as a Placemark;
- ``world_file_zip``: the JPEG with a world file and .prj. A world file is affine, so it cannot follow a
  perspective quad: it is the least-squares fit of the four corners, and the largest corner error (pixels)
  is reported. Only a footprint that is a parallelogram in EPSG:3857 (a nadir photo) is exact.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
from affine import Affine
from PIL import Image
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.enums import WktVersion
from rasterio.io import MemoryFile
from rasterio.warp import transform as crs_transform

__all__ = [
    "MAX_WARPED_PIXELS",
    "WorldFile",
    "corners_mercator",
    "gcp_geotiff",
    "jpeg_bytes",
    "kml_ground_overlay",
    "kmz",
    "photo_homography",
    "warped_geotiff",
    "world_file_zip",
]

WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)
#: The warped GeoTIFF keeps about the photo's own pixel count, coarser if that would exceed this many.
MAX_WARPED_PIXELS = 64_000_000
_GTIFF = {"driver": "GTiff", "dtype": "uint8", "compress": "deflate", "tiled": True, "blockxsize": 256,
          "blockysize": 256}

LonLat = tuple[float, float]


def corners_mercator(corners: Sequence[LonLat]) -> np.ndarray:
    """The four (lon, lat) corners in EPSG:3857 metres, shape (4, 2)."""
    xs, ys = crs_transform(WGS84, WEB_MERCATOR, [c[0] for c in corners], [c[1] for c in corners])
    return np.column_stack([xs, ys])


def _image_corners(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def photo_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 projective transform taking the four points ``src`` to ``dst`` (exactly)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def warped_geotiff(image: Image.Image, corners: Sequence[LonLat]) -> bytes:
    """The photo warped onto EPSG:3857 (RGBA GeoTIFF, alpha 0 outside the photo), about its own resolution."""
    quad = corners_mercator(corners)
    w, h = image.size
    area = 0.5 * abs(np.dot(quad[:, 0], np.roll(quad[:, 1], 1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], 1)))
    res = math.sqrt(area / (w * h))
    (min_x, min_y), (max_x, max_y) = quad.min(axis=0), quad.max(axis=0)
    while math.ceil((max_x - min_x) / res) * math.ceil((max_y - min_y) / res) > MAX_WARPED_PIXELS:
        res *= 1.25
    width, height = math.ceil((max_x - min_x) / res), math.ceil((max_y - min_y) / res)
    transform = Affine(res, 0.0, min_x, 0.0, -res, max_y)
    to_map = photo_homography(_image_corners((w, h)), quad)
    grid = np.array([[transform.a, transform.b, transform.c], [transform.d, transform.e, transform.f], [0, 0, 1]])
    to_photo = np.linalg.inv(to_map) @ grid  # output pixel (col, row) -> photo pixel, corner convention
    to_photo /= to_photo[2, 2]
    rgba = _rgb(image).convert("RGBA")
    warped = rgba.transform((width, height), Image.Transform.PERSPECTIVE, data=tuple(to_photo.flatten()[:8]),
                            resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0, 0))
    pixels = np.asarray(warped).transpose(2, 0, 1)
    with MemoryFile() as memory:
        with memory.open(width=width, height=height, count=4, crs=WEB_MERCATOR, transform=transform,
                         photometric="RGB", alpha="YES", **_GTIFF) as dst:
            dst.write(pixels)
        return memory.read()


def gcp_geotiff(image: Image.Image, corners: Sequence[LonLat]) -> bytes:
    """The photo's pixels untouched (RGB GeoTIFF) with its four corners as GCPs in EPSG:4326."""
    w, h = image.size
    gcps = [GroundControlPoint(row=row, col=col, x=lon, y=lat, id=name)
            for (col, row), (lon, lat), name in zip(_image_corners((w, h)), corners, ("TL", "TR", "BR", "BL"),
                                                    strict=True)]
    pixels = np.asarray(_rgb(image)).transpose(2, 0, 1)
    with MemoryFile() as memory:
        with memory.open(width=w, height=h, count=3, photometric="RGB", **_GTIFF) as dst:
            dst.write(pixels)
            dst.gcps = (gcps, WGS84)
        return memory.read()


def _coordinates(points: Sequence[LonLat]) -> str:
    return " ".join(f"{lon:.8f},{lat:.8f}" for lon, lat in points)


def kml_ground_overlay(*, name: str, image_href: str, corners: Sequence[LonLat], description: str = "") -> str:
    """KML with the photo as a GroundOverlay (``gx:LatLonQuad``) and its footprint as a Placemark.

    ``gx:LatLonQuad`` lists the image's lower-left, lower-right, upper-right, upper-left corners.
    """
    tl, tr, br, bl = corners
    ring = [tl, tr, br, bl, tl]
    name, description = escape(name), escape(description)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n'
        f"<Document><name>{name}</name>\n"
        f"<GroundOverlay><name>{name}</name><description>{description}</description>"
        f"<Icon><href>{escape(image_href)}</href></Icon>"
        f"<gx:LatLonQuad><coordinates>{_coordinates([bl, br, tr, tl])}</coordinates></gx:LatLonQuad>"
        "</GroundOverlay>\n"
        f"<Placemark><name>{name} footprint</name><description>{description}</description>"
        "<Style><LineStyle><color>ff0000ff</color><width>2</width></LineStyle><PolyStyle><fill>0</fill></PolyStyle>"
        "</Style><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{_coordinates(ring)}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>\n"
        "</Document></kml>\n"
    )


def jpeg_bytes(image: Image.Image, original: bytes | None = None) -> bytes:
    """``original`` if it already is a JPEG, else the image encoded as one (quality 90)."""
    if original is not None and original[:3] == b"\xff\xd8\xff":
        return original
    buffer = io.BytesIO()
    _rgb(image).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def kmz(*, name: str, jpeg: bytes, corners: Sequence[LonLat], description: str = "") -> bytes:
    """A KMZ: ``doc.kml`` (see :func:`kml_ground_overlay`) and the photo as ``files/<name>.jpg``."""
    image_name = f"files/{name}.jpg"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml_ground_overlay(name=name, image_href=image_name, corners=corners,
                                                       description=description))
        archive.writestr(zipfile.ZipInfo(image_name), jpeg)  # JPEG does not compress further: stored
    return buffer.getvalue()


@dataclass(frozen=True)
class WorldFile:
    """A zip of the JPEG, its world file and .prj, and how far the affine fit is off at the worst corner."""

    content: bytes
    max_error_px: float


def world_file_zip(*, name: str, jpeg: bytes, size: tuple[int, int], corners: Sequence[LonLat]) -> WorldFile:
    """The JPEG with a world file (``.jgw``, EPSG:3857) fitted to the four corners, its CRS (``.prj`` and the
    ``.jpg.aux.xml`` GDAL reads) and a README that states the fit's worst corner error."""
    quad = corners_mercator(corners)
    pixel = _image_corners(size)
    design = np.column_stack([pixel, np.ones(4)])
    (a, b, c), *_ = np.linalg.lstsq(design, quad[:, 0], rcond=None)
    (d, e, f), *_ = np.linalg.lstsq(design, quad[:, 1], rcond=None)
    fitted = design @ np.array([[a, d], [b, e], [c, f]])
    pixel_m = math.sqrt(abs(a * e - b * d))
    max_error_px = float(np.max(np.hypot(*(fitted - quad).T)) / pixel_m)
    # A world file names the centre of the upper-left pixel: half a pixel in from the corner.
    lines = [a, d, b, e, c + (a + b) / 2, f + (d + e) / 2]
    readme = (
        f"{name}.jpg with a world file ({name}.jgw) and its CRS, EPSG:3857 Web Mercator ({name}.prj for ESRI\n"
        f"tools, {name}.jpg.aux.xml for GDAL and QGIS).\n\n"
        "A world file is an affine transform; a photo's footprint is a perspective quadrilateral. The world\n"
        "file is the least-squares affine fit of the four corners: the worst corner is off by "
        f"{max_error_px:.2f} pixels.\nFor an exact placement use the GeoTIFFs (warped, or with GCPs) or the KMZ.\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(f"{name}.jpg"), jpeg)
        archive.writestr(f"{name}.jgw", "".join(f"{v:.10f}\n" for v in lines))
        archive.writestr(f"{name}.prj", WEB_MERCATOR.to_wkt(version=WktVersion.WKT1_ESRI))
        archive.writestr(f"{name}.jpg.aux.xml",
                         f"<PAMDataset><SRS>{escape(WEB_MERCATOR.to_wkt())}</SRS></PAMDataset>\n")
        archive.writestr("README.txt", readme)
    return WorldFile(buffer.getvalue(), max_error_px)
