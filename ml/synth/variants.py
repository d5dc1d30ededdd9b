"""Generator variants: the same synthetic Earth machinery with other terrain statistics and camera effects.

Why: the matcher's thresholds and search are tuned on the standard generator, so coverage measured there may
be coverage of that generator's look, not of imagery the project did not make. A variant changes what a matcher
could have over-fitted to (landform sizes, land cover, season of the photo against the mosaic, lens and
atmosphere effects) and keeps the geometry truth exact, so ``python -m ml.labeling_eval`` measures coverage and
precision on it the same way. ``SynthConfig.variant`` names one; "" (the default) is the standard generator and
leaves its output byte for byte unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ml.synth.effects import EffectProfile

__all__ = ["VARIANTS", "Variant", "get_variant"]


@dataclass(frozen=True)
class Variant:
    """Terrain knobs (see ``ml.synth.terrain.make_geography``) and the photo effect ranges."""

    name: str
    description: str
    feature_scale: float = 1.0
    moisture_bias: float = 0.0
    sea_fraction: float = 0.22
    effects: EffectProfile = field(default_factory=EffectProfile)

    def terrain_kwargs(self) -> dict[str, float]:
        return {"feature_scale": self.feature_scale, "moisture_bias": self.moisture_bias,
                "sea_fraction": self.sea_fraction}


VARIANTS: dict[str, Variant] = {
    "": Variant("", "the standard generator"),
    # Other terrain statistics and seasons: landforms 0.6 x the size, a greener land cover with less sea, and
    # photos whose vegetation is in another season than every mosaic year.
    "terrain": Variant(
        "terrain",
        "landforms 0.6 x the size, greener land cover, less sea; photos in another season than the mosaics",
        feature_scale=0.6, moisture_bias=0.5, sea_fraction=0.12,
        effects=EffectProfile(season=(0.3, 0.9)),
    ),
    # Other camera and atmosphere: strong vignetting, JPEG blocking, chromatic aberration, motion blur and a
    # cirrus veil on every photo, on the standard terrain.
    "camera": Variant(
        "camera",
        "strong vignetting, JPEG quality 25-55, chromatic aberration, motion blur, thin cloud on every photo",
        effects=EffectProfile(vignette=(0.4, 0.9), jpeg_quality=(25, 56), thin_cloud=(0.1, 0.35),
                              chromatic=(0.002, 0.006), motion_blur_px=(1.0, 4.0)),
    ),
}


def get_variant(name: str) -> Variant:
    """The variant called ``name`` ("" for the standard generator); ValueError listing them on a typo."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown generator variant {name!r}; choose one of {sorted(VARIANTS)}") from None
