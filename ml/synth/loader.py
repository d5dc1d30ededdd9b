"""Read a generated synthetic dataset back, with its ground truth.

This is the contract other code (training, evaluation, the demo) is written against: field names are
stable; new fields may be added, none renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ml.synth.tiles import read_manifest

__all__ = ["SynthDataset", "SynthPhoto", "SynthTile", "load_synth"]


@dataclass(frozen=True)
class SynthTile:
    """One database image cut on the XYZ grid."""

    zoom: int
    x: int
    y: int
    span: int
    year: int
    path: Path  # image file (PNG or JPEG, RGB)
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


@dataclass(frozen=True)
class SynthPhoto:
    """One astronaut photo and its truth. ``weak_center`` is what the system may see (train only)."""

    photo_id: str  # mission-roll-frame, e.g. "ISS064-E-513"
    path: Path  # JPEG
    split: str  # "train" | "val" | "test"
    footprint: tuple[tuple[float, float], ...]  # 4 corners (lon, lat), image order TL, TR, BR, BL
    center: tuple[float, float]  # true center (lon, lat)
    weak_center: tuple[float, float] | None  # noisy weak label, None when not given
    nadir: tuple[float, float]
    focal_length_mm: float
    altitude_km: float
    tilt_deg: float
    cloud_pct: float
    captured_at: datetime
    camera: str = ""
    area: str = ""  # "train_only" | "shared" | "heldout": band of the region the photo shows
    azimuth_deg: float = 0.0
    roll_deg: float = 0.0
    width_px: int = 0
    height_px: int = 0


@dataclass(frozen=True)
class SynthDataset:
    """A generated dataset. ``mosaics`` holds one EPSG:3857 GeoTIFF per year, in ``years`` order."""

    root: Path
    mosaics: list[Path]  # GeoTIFF paths
    years: list[int]
    tiles: list[SynthTile]
    photos: list[SynthPhoto]
    mosaic_4326: Path | None = None
    config: dict = field(default_factory=dict)

    def split(self, name: str) -> list[SynthPhoto]:
        """Photos of one split ("train", "val" or "test")."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; expected 'train', 'val' or 'test'")
        return [p for p in self.photos if p.split == name]


def load_synth(root: Path) -> SynthDataset:
    """Load the dataset generated under ``root`` (see ml/synth/README.md for the layout)."""
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"{manifest_path} not found: generate the dataset with python -m ml.synth generate"
        )
    manifest = json.loads(manifest_path.read_text())
    tiles = [
        SynthTile(zoom=r.zoom, x=r.x, y=r.y, span=r.span, year=r.year, path=root / r.path, bounds=r.bounds)
        for r in read_manifest(root)
    ]
    photos = [_photo(root, rec) for rec in json.loads((root / "truth" / "photos.json").read_text())]
    return SynthDataset(
        root=root,
        mosaics=[root / p for p in manifest["mosaics"]],
        years=list(manifest["years"]),
        tiles=tiles,
        photos=photos,
        mosaic_4326=root / manifest["mosaic_4326"] if manifest.get("mosaic_4326") else None,
        config=manifest["config"],
    )


def _photo(root: Path, rec: dict) -> SynthPhoto:
    pose = rec["pose"]
    return SynthPhoto(
        photo_id=rec["photo_id"],
        path=root / rec["path"],
        split=rec["split"],
        footprint=tuple((float(lon), float(lat)) for lon, lat in rec["footprint"]),
        center=(float(rec["center"][0]), float(rec["center"][1])),
        weak_center=tuple(rec["weak_center"]) if rec["weak_center"] else None,
        nadir=(float(rec["nadir"][0]), float(rec["nadir"][1])),
        focal_length_mm=float(pose["focal_length_mm"]),
        altitude_km=float(pose["altitude_km"]),
        tilt_deg=float(pose["tilt_deg"]),
        cloud_pct=float(rec["cloud_pct"]),
        captured_at=datetime.fromisoformat(rec["captured_at"]),
        camera=rec["camera"],
        area=rec["area"],
        azimuth_deg=float(pose["azimuth_deg"]),
        roll_deg=float(pose["roll_deg"]),
        width_px=int(pose["width_px"]),
        height_px=int(pose["height_px"]),
    )
