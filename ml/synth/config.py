"""Configuration of a synthetic Earth and its named presets (tiny, demo, bench).

One frozen dataclass describes everything the generator does, so that a dataset is reproduced exactly by
(preset, seed) and the config is dumped next to the data it made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from ml.geo import Bounds


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of one synthetic dataset.

    The mosaic is a Web Mercator raster aligned on the XYZ grid at ``max(zooms)`` with ``mosaic_px_per_tile``
    pixels per tile of that zoom. Photos are split by longitude band (see ``ml.synth.photos``): the west
    holds training photos only, the middle band is shared by all splits (test places seen in training), the
    east band has val/test photos only (places never seen with a label).
    """

    name: str
    region: Bounds  # lon_min, lat_min, lon_max, lat_max
    years: tuple[int, ...]
    zooms: tuple[int, ...]
    span: int
    tile_px: int  # side of a stored database image
    mosaic_px_per_tile: int
    photo_size: tuple[int, int]  # width, height (3:2 like the 36 x 24 mm sensor)
    n_photos: dict[str, int] = field(default_factory=dict)  # per split
    weak_label_fraction: float = 0.8  # training photos that carry a weak center point
    weak_label_sigma_deg: float = 1.0
    #: Scales the real footprint sizes (EarthLoc CSV) so that photos fit small regions.
    footprint_scale: float = 1.0
    max_tilt_deg: float = 60.0
    cloud_probability: float = 0.6
    write_4326: bool = True
    tile_format: str = "jpg"
    seed: int = 0
    #: Generator variant (``ml.synth.variants``): other terrain statistics and camera effects; "" is standard.
    variant: str = ""

    def with_seed(self, seed: int) -> SynthConfig:
        return replace(self, seed=seed)

    def with_variant(self, variant: str) -> SynthConfig:
        return replace(self, variant=variant)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not data["variant"]:
            del data["variant"]  # the standard generator's manifest stays as it was
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SynthConfig:
        data = dict(data)
        for key in ("region", "years", "zooms", "photo_size"):
            data[key] = tuple(data[key])
        return cls(**data)


PRESETS: dict[str, SynthConfig] = {
    # Unit tests: a ~1.4 deg square, 2 years, a handful of photos; generates in a few seconds.
    "tiny": SynthConfig(
        name="tiny",
        region=(30.0, 20.0, 31.4, 21.3),
        years=(2019, 2021),
        zooms=(10, 11),
        span=4,
        tile_px=64,
        mosaic_px_per_tile=64,
        photo_size=(192, 128),
        n_photos={"train": 6, "val": 2, "test": 3},
        footprint_scale=0.35,
    ),
    # The demo command: a small model trains on it in minutes of CPU.
    "demo": SynthConfig(
        name="demo",
        region=(30.0, 20.0, 35.0, 24.0),
        years=(2018, 2020, 2022),
        zooms=(9, 10, 11),
        span=4,
        tile_px=128,
        mosaic_px_per_tile=96,
        photo_size=(384, 256),
        n_photos={"train": 160, "val": 30, "test": 50},
        footprint_scale=0.6,
    ),
    # Accuracy benchmarks: thousands of tiles, hundreds of photos.
    "bench": SynthConfig(
        name="bench",
        region=(30.0, 18.0, 40.0, 26.0),
        years=(2018, 2020, 2022),
        zooms=(9, 10, 11),
        span=4,
        tile_px=256,
        mosaic_px_per_tile=96,
        photo_size=(480, 320),
        n_photos={"train": 400, "val": 80, "test": 1000},
        footprint_scale=1.0,
    ),
    # Generator variants and quick checks: bench's database resolution, photo size and footprint sizes (so the
    # matching sees the same pixels per footprint) on a 6 x 5 deg region with fewer photos; ~1/3 of bench's time.
    "bench-lite": SynthConfig(
        name="bench-lite",
        region=(30.0, 18.0, 36.0, 23.0),
        years=(2018, 2020, 2022),
        zooms=(9, 10, 11),
        span=4,
        tile_px=256,
        mosaic_px_per_tile=96,
        photo_size=(480, 320),
        n_photos={"train": 100, "val": 40, "test": 0},
        footprint_scale=1.0,
    ),
}


def get_preset(name: str, seed: int = 0) -> SynthConfig:
    """The named preset with ``seed``; raises ValueError listing the presets on a typo."""
    try:
        return PRESETS[name].with_seed(seed)
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
