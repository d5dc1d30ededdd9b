"""Generate a whole synthetic dataset: mosaics, photos, metadata, truth, database tiles.

Output layout (documented in ml/synth/README.md)::

    manifest.json                     config, years, file lists, generation timings
    mosaics/<year>_3857.tif           one mosaic per year (tiled, DEFLATE, overviews)
    mosaics/<first year>_4326.tif     the first year reprojected to EPSG:4326
    photos/<split>/<MRF>.jpg          astronaut photos with NASA-like EXIF
    metadata/eol.csv                  what the platform is given (EOL layout; weak centres on train only)
    truth/footprints_earthloc.csv     true footprints of all photos (EarthLoc layout)
    truth/photos.json                 full truth: footprint, centre, camera pose, effects, split, area
    tiles/<year>/<zoom>/<x>_<y>.jpg   database images cut on the XYZ grid, plus tiles/manifest.csv
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ml.geo import Bounds
from ml.synth.camera import CameraPose
from ml.synth.config import SynthConfig
from ml.synth.metadata import (
    EARTHLOC_COLUMNS,
    EOL_COLUMNS,
    PhotoMetadata,
    earthloc_row,
    eol_row,
    save_jpeg_with_exif,
    write_csv,
)
from ml.synth.mosaic import mosaic_grid, reproject_to_4326, write_mosaic_3857
from ml.synth.photos import (
    SPLITS,
    PhotoTruth,
    build_pyramid,
    make_photo,
    sample_pose,
    split_bands,
    sun_position,
)
from ml.synth.terrain import make_geography, render_year, year_style
from ml.synth.tiles import cut_tiles
from ml.synth.variants import get_variant

FORMAT_VERSION = 1


def generate(config: SynthConfig, out: Path, *, log: Callable[[str], None] = print) -> dict:
    """Write the dataset described by ``config`` under ``out``; returns the manifest."""
    out = Path(out)
    for sub in ("mosaics", "metadata", "truth", *(f"photos/{s}" for s in SPLITS)):
        (out / sub).mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    grid = mosaic_grid(config.region, max(config.zooms), config.mosaic_px_per_tile)
    geo = make_geography(np.random.default_rng([config.seed, 1]), (grid.height, grid.width), grid.km_per_px,
                         **get_variant(config.variant).terrain_kwargs())
    timings["geography_s"] = time.perf_counter() - t0
    log(f"geography {grid.width}x{grid.height} px at {grid.km_per_px * 1000:.0f} m/px")

    t = time.perf_counter()
    mosaics: dict[int, Path] = {}
    pyramids: dict[int, list[np.ndarray]] = {}
    for i, year in enumerate(config.years):
        rgb = render_year(geo, year_style(config.seed, year, i, len(config.years)))
        mosaics[year] = out / "mosaics" / f"{year}_3857.tif"
        write_mosaic_3857(mosaics[year], rgb, grid)
        pyramids[year] = build_pyramid(rgb)
    del geo
    mosaic_4326 = None
    if config.write_4326:
        mosaic_4326 = out / "mosaics" / f"{config.years[0]}_4326.tif"
        reproject_to_4326(mosaics[config.years[0]], mosaic_4326)
    timings["mosaics_s"] = time.perf_counter() - t
    log(f"mosaics: {len(mosaics)} years")

    t = time.perf_counter()
    truths = _photos(config, out, pyramids, grid.bounds_m)
    timings["photos_s"] = time.perf_counter() - t
    log(f"photos: {len(truths)}")
    del pyramids

    t = time.perf_counter()
    tiles = cut_tiles(out, mosaics, zooms=config.zooms, span=config.span, tile_px=config.tile_px,
                      fmt=config.tile_format)
    timings["tiles_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    log(f"tiles: {len(tiles)}")

    manifest = {
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "years": list(config.years),
        "mosaics": [p.relative_to(out).as_posix() for p in mosaics.values()],
        "mosaic_4326": mosaic_4326.relative_to(out).as_posix() if mosaic_4326 else None,
        "mosaic_bounds_3857": list(grid.bounds_m),
        "split_bands": {k: list(v) for k, v in split_bands(config.region).items()},
        "n_tiles": len(tiles),
        "n_photos": {s: sum(1 for p in truths if p.split == s) for s in SPLITS},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    # Timings vary from run to run: kept out of manifest.json so that the same seed gives the same bytes.
    rounded = {k: round(v, 2) for k, v in timings.items()}
    (out / "timings.json").write_text(json.dumps(rounded, indent=2) + "\n")
    return manifest


def _photo_boxes(config: SynthConfig, split: str, rng: np.random.Generator) -> tuple[str, Bounds, Bounds]:
    """(area name, box for the centre, box the footprint must fit) for one photo of ``split``."""
    bands = split_bands(config.region)
    lon0, lat0, _, lat1 = config.region
    if split == "train":
        area = "train_only" if rng.random() < 0.65 else "shared"
        return area, bands[area], (lon0, lat0, bands["heldout"][0], lat1)
    area = "shared" if rng.random() < 0.5 else "heldout"
    return area, bands[area], (bands[area] if area == "heldout" else config.region)


def _photos(
    config: SynthConfig, out: Path, pyramids: dict[int, list[np.ndarray]], bounds_m: Bounds
) -> list[PhotoTruth]:
    truths: list[PhotoTruth] = []
    frames: dict[int, int] = {}
    eol_rows, earthloc_rows, records = [], [], []
    for split in SPLITS:
        rng = np.random.default_rng([config.seed, 2, SPLITS.index(split)])
        for _ in range(config.n_photos.get(split, 0)):
            for _attempt in range(100):
                area, centre_box, footprint_box = _photo_boxes(config, split, rng)
                pose = sample_pose(rng, config, centre_box, footprint_box)
                made = make_photo(rng, config, frames=frames, split=split, area=area, pose=pose,
                                  pyramids=pyramids, mosaic_bounds_m=bounds_m)
                if made is not None:
                    break
            else:
                raise RuntimeError("could not find land to photograph: the region is almost all water")
            image, truth = made
            rel = f"photos/{split}/{truth.photo_id}.jpg"
            meta = _metadata(truth)
            save_jpeg_with_exif(image, out / rel, meta, truth.effects.jpeg_quality)
            eol_rows.append(eol_row(meta))
            earthloc_rows.append(
                earthloc_row(truth.photo_id, truth.footprint, truth.captured_at, pose.nadir, rel)
            )
            records.append(_truth_record(truth, rel, meta))
            truths.append(truth)
    write_csv(out / "metadata" / "eol.csv", EOL_COLUMNS, eol_rows)
    write_csv(out / "truth" / "footprints_earthloc.csv", EARTHLOC_COLUMNS, earthloc_rows)
    (out / "truth" / "photos.json").write_text(json.dumps(records, indent=1) + "\n")
    return truths


def _metadata(truth: PhotoTruth) -> PhotoMetadata:
    pose: CameraPose = truth.pose
    sun_el, sun_az = sun_position(truth.captured_at, *truth.center)
    return PhotoMetadata(
        photo_id=truth.photo_id,
        captured_at=truth.captured_at,
        camera=truth.camera,
        focal_length_mm=pose.focal_length_mm,
        altitude_km=round(pose.altitude_km, 1),
        nadir=pose.nadir,
        center=truth.weak_center,
        tilt_deg=pose.tilt_deg,
        cloud_pct=truth.effects.cloud_pct,
        sun_elevation_deg=sun_el,
        sun_azimuth_deg=sun_az,
    )


def _truth_record(truth: PhotoTruth, rel: str, meta: PhotoMetadata) -> dict:
    return {
        "photo_id": truth.photo_id,
        "path": rel,
        "split": truth.split,
        "area": truth.area,
        "footprint": [list(c) for c in truth.footprint],
        "center": list(truth.center),
        "weak_center": list(truth.weak_center) if truth.weak_center else None,
        "nadir": list(truth.pose.nadir),
        "captured_at": truth.captured_at.isoformat(),
        "camera": truth.camera,
        "pose": truth.pose.to_dict(),
        "cloud_pct": truth.effects.cloud_pct,
        "sun_elevation_deg": round(meta.sun_elevation_deg, 2),
        "sun_azimuth_deg": round(meta.sun_azimuth_deg, 2),
        "years_mixed": list(truth.years_mixed),
        "effects": _effects_record(truth),
    }


def _effects_record(truth: PhotoTruth) -> dict:
    """The effects applied to a photo; a variant's extra effects only where there are some (the standard
    generator's truth file stays as it was)."""
    record = asdict(truth.effects)
    if not record["extra"]:
        del record["extra"]
    return record
