"""Adapter from the synthetic Earth (`ml.synth.loader`) to the plain training records.

The only place that knows the synth types; `ml.synth` is imported lazily so the rest of `ml.data` runs without
it (e.g. from database rows). A location is an XYZ cell (zoom, x, y, span); its years are its tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml.data.records import PhotoRecord, TileRecord, bounds_footprint

__all__ = ["SynthRecords", "records_from_synth"]


@dataclass(frozen=True)
class SynthRecords:
    tiles: list[TileRecord]
    photos: dict[str, list[PhotoRecord]]  # "train" | "val" | "test"
    years: list[int]

    def database(self, year: int | None = None) -> list[TileRecord]:
        """The retrieval database: every location in one year (default: the latest)."""
        year = max(self.years) if year is None else year
        return [t for t in self.tiles if t.year == year]


def records_from_synth(root: str | Path) -> SynthRecords:
    from ml.synth.loader import load_synth

    ds = load_synth(Path(root))
    tiles = [
        TileRecord(
            tile_id=f"{t.zoom}/{t.x}/{t.y}/{t.span}/{t.year}",
            path=Path(t.path),
            footprint=bounds_footprint(t.bounds),
            location_key=f"{t.zoom}/{t.x}/{t.y}/{t.span}",
            year=t.year,
        )
        for t in ds.tiles
    ]
    photos: dict[str, list[PhotoRecord]] = {"train": [], "val": [], "test": []}
    for p in ds.photos:
        photos.setdefault(p.split, []).append(
            PhotoRecord(
                photo_id=p.photo_id,
                path=Path(p.path),
                footprint=tuple(tuple(c) for c in p.footprint),
                nadir=(float(p.nadir[0]), float(p.nadir[1])),
            )
        )
    return SynthRecords(tiles=tiles, photos=photos, years=sorted(ds.years))
