"""Training data: records, footprint geometry, pair and cluster samplers, images and augmentations."""

from ml.data.clusters import SAMPLING_MODES, ClusterSampler, Location, group_locations
from ml.data.footprints import FootprintIndex, footprint_polygon, footprint_rotation_deg, iou, overlaps
from ml.data.images import ImageStore, load_image
from ml.data.pairs import PairBatchSampler, TrainPair, build_pairs
from ml.data.records import Footprint, PhotoRecord, TileRecord, bounds_footprint
from ml.data.transforms import AugmentConfig, Augmenter, rotate_quarter_turns

__all__ = [
    "SAMPLING_MODES",
    "AugmentConfig",
    "Augmenter",
    "ClusterSampler",
    "Footprint",
    "FootprintIndex",
    "ImageStore",
    "Location",
    "PairBatchSampler",
    "PhotoRecord",
    "TileRecord",
    "TrainPair",
    "bounds_footprint",
    "build_pairs",
    "footprint_polygon",
    "footprint_rotation_deg",
    "group_locations",
    "iou",
    "load_image",
    "overlaps",
    "rotate_quarter_turns",
]
