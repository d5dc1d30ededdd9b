"""Command line: ``python -m ml.synth generate|tiles|render-examples``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ml.synth.config import PRESETS, SynthConfig, get_preset
from ml.synth.variants import VARIANTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.synth", description="Synthetic Earth for AstroLoc.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="generate mosaics, photos, metadata, truth and tiles")
    gen.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--variant", choices=sorted(v for v in VARIANTS if v), default="",
                     help="a generator variant (other terrain statistics, camera effects); default: standard")
    tiles = sub.add_parser("tiles", help="(re)cut the database images of a generated dataset to disk")
    tiles.add_argument("--data", type=Path, required=True)
    tiles.add_argument("--tile-px", type=int, default=None, help="override the preset's stored tile size")
    ex = sub.add_parser("render-examples", help="write PNGs a person can look at")
    ex.add_argument("--data", type=Path, required=True)
    ex.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "generate":
        from ml.synth.generate import generate

        start = time.perf_counter()
        manifest = generate(get_preset(args.preset, args.seed).with_variant(args.variant), args.out)
        print(f"done in {time.perf_counter() - start:.1f} s: {manifest['n_tiles']} tiles, "
              f"photos {manifest['n_photos']} -> {args.out}")
    elif args.command == "tiles":
        from ml.synth.tiles import cut_tiles

        config = SynthConfig.from_dict(json.loads((args.data / "manifest.json").read_text())["config"])
        mosaics = {y: args.data / "mosaics" / f"{y}_3857.tif" for y in config.years}
        rows = cut_tiles(args.data, mosaics, zooms=config.zooms, span=config.span,
                         tile_px=args.tile_px or config.tile_px, fmt=config.tile_format)
        print(f"{len(rows)} tiles -> {args.data / 'tiles'}")
    else:
        from ml.synth.examples import render_examples

        for path in render_examples(args.data, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
