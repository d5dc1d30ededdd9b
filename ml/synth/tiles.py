"""The `tiles` step: cut the database images of the synthetic mosaics to disk, so training runs from files.

Uses :mod:`ml.tiling` exactly as the ingestion does; writes one image per (year, zoom, x, y) and a CSV
manifest that :mod:`ml.synth.loader` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

from ml.synth.metadata import read_csv, write_csv
from ml.tiling import cut_database_images

MANIFEST = "tiles/manifest.csv"
MANIFEST_COLUMNS = (
    "year", "zoom", "x", "y", "span", "path", "lon_min", "lat_min", "lon_max", "lat_max", "nodata_fraction",
)


@dataclass(frozen=True)
class TileRow:
    year: int
    zoom: int
    x: int
    y: int
    span: int
    path: str  # relative to the dataset root
    bounds: tuple[float, float, float, float]
    nodata_fraction: float


def cut_tiles(
    root: Path,
    mosaics: dict[int, Path],
    *,
    zooms: tuple[int, ...],
    span: int,
    tile_px: int,
    fmt: str = "jpg",
    max_nodata: float = 0.1,
) -> list[TileRow]:
    """Cut every year's mosaic on the XYZ grid into ``root/tiles/<year>/<zoom>/<x>_<y>.<fmt>``."""
    rows: list[TileRow] = []
    params = [cv2.IMWRITE_JPEG_QUALITY, 92] if fmt == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 6]
    for year, mosaic in sorted(mosaics.items()):
        images = cut_database_images(mosaic, zooms=zooms, span=span, out_size=tile_px, max_nodata=max_nodata)
        for img in images:
            rel = Path("tiles") / str(year) / str(img.zoom) / f"{img.x}_{img.y}.{fmt}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / rel), cv2.cvtColor(img.image, cv2.COLOR_RGB2BGR), params)
            rows.append(TileRow(year, img.zoom, img.x, img.y, span, rel.as_posix(), img.bounds,
                                round(img.nodata_fraction, 4)))
    write_csv(root / MANIFEST, MANIFEST_COLUMNS, (_to_csv(r) for r in rows))
    return rows


def _to_csv(row: TileRow) -> dict[str, str]:
    lon_min, lat_min, lon_max, lat_max = row.bounds
    return {
        "year": str(row.year), "zoom": str(row.zoom), "x": str(row.x), "y": str(row.y),
        "span": str(row.span), "path": row.path,
        "lon_min": repr(lon_min), "lat_min": repr(lat_min),
        "lon_max": repr(lon_max), "lat_max": repr(lat_max),
        "nodata_fraction": str(row.nodata_fraction),
    }


def read_manifest(root: Path) -> list[TileRow]:
    """Tile rows of a dataset (empty when the tiles step has not run)."""
    path = root / MANIFEST
    if not path.exists():
        return []
    return [
        TileRow(
            year=int(r["year"]), zoom=int(r["zoom"]), x=int(r["x"]), y=int(r["y"]), span=int(r["span"]),
            path=r["path"],
            bounds=(float(r["lon_min"]), float(r["lat_min"]), float(r["lon_max"]), float(r["lat_max"])),
            nodata_fraction=float(r["nodata_fraction"]),
        )
        for r in read_csv(path)
    ]
