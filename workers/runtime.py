"""Per-process state of a worker: the model, the FAISS index, the descriptors and the matcher with its stored
features, loaded lazily (after the prefork) and kept for the next chunks.

Why one module: the embed, label and localize jobs each need some of it, and a process must hold one copy of
each (a model on a GPU, a memory-mapped descriptor file, an LRU of decoded features), reloaded only when the
job's model version or its index files change.
"""

from __future__ import annotations

import logging
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage

from apps.imagery.models import SatelliteTile
from apps.imagery.selectors import tile_features_data
from apps.models_registry.models import ModelVersion
from ml.index import TileIndex
from ml.matching.base import BaseMatcher
from ml.matching.registry import create_matcher
from ml.models import load_model
from ml.verification import MissingFeaturesError, TileFeatures, TileRecord, decode_features, feature_key

__all__ = ["LocalizeRuntime", "StoredFeatures", "index_files", "load_version_model", "localize_matcher",
           "runtime_for", "storage_local_path", "tile_record"]

logger = logging.getLogger(__name__)


def index_files(model_version_id: int) -> dict[str, str]:
    """Storage names of a version's FAISS index, float32 descriptors [N, 4, D] and their tile ids [N]."""
    base = f"indexes/v{int(model_version_id)}"
    return {"faiss": f"{base}/tiles.faiss", "descriptors": f"{base}/descriptors.npy",
            "tile_ids": f"{base}/tile_ids.npy"}


def storage_local_path(name: str) -> Path:
    """A local path for a stored file (the file itself on filesystem storage, else a downloaded copy)."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        tmp = Path(tempfile.mkdtemp(prefix="astroloc-")) / Path(name).name
        with default_storage.open(name, "rb") as src, tmp.open("wb") as dst:
            dst.write(src.read())
        return tmp


def tile_record(tile: SatelliteTile) -> TileRecord:
    """The pure description of a database image that ``ml`` works with."""
    return TileRecord(Path(tile.image.path), tuple(tile.bounds.extent), tile.zoom, tile.year, str(tile.pk))


_MODELS: dict[tuple[int, str], Any] = {}


def load_version_model(model_version: ModelVersion):
    """The version's model, loaded once per worker process (after the fork) and kept for its next chunks."""
    if not model_version.checkpoint:
        raise ValueError(f"model version {model_version.pk} ({model_version.name}) has no checkpoint file: "
                         "upload one (or train it) before embedding")
    key = (int(model_version.pk), model_version.checkpoint.name)
    if key in _MODELS:
        return _MODELS[key]
    model = load_model(storage_local_path(model_version.checkpoint.name))
    if model.desc_dim != model_version.embedding_dim:
        raise ValueError(f"checkpoint of model version {model_version.pk} gives {model.desc_dim}-D descriptors "
                         f"but the version says {model_version.embedding_dim}")
    _MODELS.clear()  # one version at a time per process: a GPU holds the model it serves, not every past one
    _MODELS[key] = model
    return model


_MATCHERS: dict[str, tuple[BaseMatcher, str]] = {}


def localize_matcher() -> tuple[BaseMatcher, str]:
    """The matcher localization verifies with (``ASTROLOC_LOCALIZE_MATCHER``) and its stored-features key."""
    name = settings.ASTROLOC_LOCALIZE_MATCHER
    if name not in _MATCHERS:
        _MATCHERS[name] = (create_matcher(name), feature_key(name))
    return _MATCHERS[name]


class StoredFeatures:
    """Features of database images read from the database (``TileFeatures`` rows), decoded once per process
    (LRU of ``ASTROLOC_FEATURES_CACHE_TILES`` images). Never extracts: a missing row is an error naming it."""

    def __init__(self, matcher_key: str, cache_tiles: int | None = None) -> None:
        self.matcher_key = matcher_key
        self._cache: OrderedDict[str, TileFeatures] = OrderedDict()
        self._cache_tiles = int(cache_tiles or settings.ASTROLOC_FEATURES_CACHE_TILES)

    def available(self, records: Sequence[TileRecord]) -> dict[str, TileFeatures]:
        """The stored features of those ``records`` that have them."""
        out = {r.tile_id: self._cache[r.tile_id] for r in records if r.tile_id in self._cache}
        todo = [int(r.tile_id) for r in records if r.tile_id not in out]
        if todo:
            for tid, blob in tile_features_data(tile_ids=todo, matcher_key=self.matcher_key).items():
                out[str(tid)] = decode_features(blob)
        for r in records:
            if r.tile_id in out:
                self._cache[r.tile_id] = out[r.tile_id]
                self._cache.move_to_end(r.tile_id)
        while len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return out

    def tile_features(self, records: Sequence[TileRecord]) -> dict[str, TileFeatures]:
        out = self.available(records)
        missing = [r.tile_id for r in records if r.tile_id not in out]
        if missing:
            raise MissingFeaturesError(
                f"no stored {self.matcher_key} features for database images {', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}: run the embed job (manage.py embed_tiles)")
        return out


@dataclass
class LocalizeRuntime:
    """What one worker process keeps for a model version: model, FAISS index, float32 descriptors, matcher
    and its stored features."""

    model_version_id: int
    model: Any
    index: TileIndex | None
    descriptors: np.ndarray  # [N, 4, D] float32, memory-mapped
    tile_row: dict[int, int]  # tile id -> row of ``descriptors``
    matcher: BaseMatcher
    features: StoredFeatures
    stamp: float = 0.0


_RUNTIME: LocalizeRuntime | None = None


def _index_stamp(model_version_id: int) -> float:
    name = index_files(model_version_id)["descriptors"]
    if not default_storage.exists(name):
        return -1.0
    return default_storage.get_modified_time(name).timestamp()


def runtime_for(model_version: ModelVersion) -> LocalizeRuntime:
    """This process's runtime for ``model_version``: loaded on first use, reloaded on a version/index change."""
    global _RUNTIME
    stamp = _index_stamp(model_version.pk)
    if stamp < 0:
        raise ValueError(f"model version {model_version.pk} ({model_version.name}) has no tile index: run "
                         f"`manage.py embed_tiles --model-version {model_version.pk}` first")
    if _RUNTIME is not None and _RUNTIME.model_version_id == model_version.pk and _RUNTIME.stamp == stamp:
        return _RUNTIME
    names = index_files(model_version.pk)
    descriptors = np.load(storage_local_path(names["descriptors"]), mmap_mode="r")
    tile_ids = np.load(storage_local_path(names["tile_ids"]))
    index = TileIndex.load(storage_local_path(names["faiss"])) if default_storage.exists(names["faiss"]) else None
    matcher, key = localize_matcher()
    _RUNTIME = LocalizeRuntime(
        model_version_id=model_version.pk,
        model=load_version_model(model_version),
        index=index,
        descriptors=descriptors,
        tile_row={int(t): i for i, t in enumerate(tile_ids)},
        matcher=matcher,
        features=StoredFeatures(key),
        stamp=stamp,
    )
    logger.info("localize runtime loaded: model version %s, %d tiles", model_version.pk, len(tile_ids))
    return _RUNTIME
