"""The GPU check: the AstroLoc configuration trained, embedded and searched on one device, timed end to end.

`python -m workers.gpu check` runs it on a CUDA machine (without one it says so and stops). It exercises the
code the GPU workers run, on a synthetic Earth so it needs no data and no network:
1. `ml.train.fit` on the default ViT-B + SALAD config (`ml/configs/astroloc_vitb.yaml`) for a few hundred
   iterations (at most 4 minutes) in bf16 autocast (what `fit` does on CUDA), from random weights (none are
   downloaded);
2. `ml.embed.embed_files` over every database tile at 4 rotations, as an embed chunk does;
3. a batch of photos localized as far as the GPU goes: embedded in one batch, candidates from a `TileIndex`
   (FAISS on the GPU when faiss-gpu is installed, else on the CPU), and the exact re-rank over the 4
   rotations in torch on the device (`ml.index.rerank_exact_torch`); recall@1/10 against the truth.
Geometric verification (OpenCV SIFT) runs on the CPU whatever the device, so it is not part of the check.

It prints images/s and photos/s beside the CPU figures (measured on the spot for the same configuration
with a small batch, and the platform's CPU model from docs/benchmarks.md), so one run tells whether the
GPU paths work and what they buy. The same function runs on the CPU with a small config (the tests do).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ml.embed import embed_files, resolve_device, synchronize
from ml.evaluate import positives_for
from ml.index import TileIndex, rerank_exact_torch
from ml.models.checkpoint import load_checkpoint
from ml.train import Progress, TrainConfig, TrainData, fit, measure_throughput

__all__ = ["CPU_REFERENCE", "CheckResult", "run_check", "vitb_config"]

REPO_ROOT = Path(__file__).resolve().parents[1]
VITB_CONFIG = REPO_ROOT / "ml" / "configs" / "astroloc_vitb.yaml"
QUARTER_TURNS = (0, 1, 2, 3)

# The platform's CPU model on the slowest machine it runs on (docs/benchmarks.md): what the GPU is compared with.
CPU_REFERENCE = {
    "train images/s (ResNet-18 + GeM, 96 px, 2-core AVX2 EPYC)": 23.0,
    "localize photos/s, retrieval only (ResNet-18 + GeM, 96 px, batch, 2-core VM)": 73.0,
}


def vitb_config() -> TrainConfig:
    return TrainConfig.from_yaml(VITB_CONFIG)


@dataclass
class CheckResult:
    """What one check measured; `lines()` is the printed report."""

    device: str
    config_name: str
    iterations: int
    train_images_per_s: float
    train_seconds: float
    loss_first: float | None
    loss_last: float | None
    embed_images_per_s: float
    tiles: int
    photos: int
    photos_per_s: float
    recall: dict[int, float]
    index_on_gpu: bool
    cpu_images_per_s: float | None = None
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        rows = [
            ("device", self.device, ""),
            ("config", self.config_name, ""),
            (f"train, {self.iterations} iterations (bf16 autocast on CUDA)",
             f"{self.train_images_per_s:,.1f} images/s",
             f"CPU, same config: {self.cpu_images_per_s:,.1f} images/s" if self.cpu_images_per_s else ""),
            ("train loss, first -> last step", _loss(self.loss_first) + " -> " + _loss(self.loss_last), ""),
            (f"embed {self.tiles} tiles x 4 rotations", f"{self.embed_images_per_s:,.1f} images/s", ""),
            (f"localize {self.photos} photos (embed, FAISS {'GPU' if self.index_on_gpu else 'CPU'}, "
             "exact re-rank in torch)", f"{self.photos_per_s:,.1f} photos/s", ""),
            ("recall@1 / @10 (random init + short training)",
             " / ".join(f"{100 * self.recall.get(n, 0.0):.1f} %" for n in (1, 10)), ""),
        ]
        rows += [(f"CPU reference: {name}", f"{value:,.1f}", "") for name, value in CPU_REFERENCE.items()]
        width = max(len(r[0]) for r in rows)
        out = [f"{name:<{width}}  {value:<22} {extra}".rstrip() for name, value, extra in rows]
        out += [*self.notes, f"wall time {self.wall_s:.0f} s"]
        return out


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def run_check(
    data_root: Path,
    *,
    config: TrainConfig | None = None,
    iterations: int = 300,
    train_seconds: float = 240.0,
    device: str = "cuda",
    photos: int = 200,
    measure_cpu: bool = True,
    log: Callable[[str], None] = print,
) -> CheckResult:
    """Train, embed and localize on the synthetic Earth at `data_root` (see the module docstring).

    Training stops after `iterations` or `train_seconds` of steps, whichever comes first, so the whole check
    stays within its time even on a slower GPU than planned for.
    """
    from ml.data.synth_adapter import records_from_synth

    started = time.perf_counter()
    base = config or vitb_config()
    dev = resolve_device(device)
    records = records_from_synth(data_root)
    out_dir = Path(tempfile.mkdtemp(prefix="astroloc-gpu-check-"))
    config = replace(base, iterations=iterations, time_budget_s=train_seconds, device=str(dev), out_dir=str(out_dir),
                     val_every=0,
                     checkpoint_every=max(iterations, 1), recluster_every=max(base.recluster_every, iterations))
    notes: list[str] = []

    cpu_rate = None
    if measure_cpu and dev.type != "cpu":
        small = replace(config, device="cpu", pairs_per_batch=2, mum_locations_per_batch=1)
        log("timing one CPU step of the same config (small batch) for the comparison")
        cpu_rate = measure_throughput(small, seconds=1.0, max_steps=1).images_per_s

    losses: list[float] = []
    last: dict[str, Progress] = {}

    def progress(p: Progress) -> None:
        if p.phase == "train" and "loss" in p.losses:
            losses.append(p.losses["loss"])
            if p.iteration % 25 == 0 or p.iteration == p.total:
                log(f"train {p.iteration}/{p.total} it, {p.images_per_s:,.1f} images/s, loss {p.losses['loss']:.4f}")
        last["p"] = p

    log(f"training {config.model_preset} for {iterations} iterations on {dev}")
    result = fit(config, TrainData(records.tiles, records.photos["train"]), progress=progress, resume=False)
    model = load_checkpoint(result.last_checkpoint).build_model().to(dev).eval()
    final = last.get("p")
    train_rate = final.images_per_s if final else 0.0

    database = records.database()
    log(f"embedding {len(database)} tiles x 4 rotations")
    synchronize(dev)
    t0 = time.perf_counter()
    tile_desc = embed_files(model, [t.path for t in database], rotations=QUARTER_TURNS,
                            batch_size=config.embed_batch_size, device=dev)
    synchronize(dev)
    embed_s = time.perf_counter() - t0

    queries = (records.photos["test"] + records.photos["val"])[:photos]
    index = TileIndex(tile_desc.shape[-1])
    ids = np.repeat(np.arange(len(database), dtype=np.int64), len(QUARTER_TURNS))
    index.build(tile_desc.reshape(-1, tile_desc.shape[-1]), ids)
    device_desc = torch.from_numpy(tile_desc).to(dev)
    k = min(100, len(database))
    log(f"localizing {len(queries)} photos in one batch (top {k} candidates, exact re-rank x4 on {dev})")
    synchronize(dev)
    t0 = time.perf_counter()
    query_desc = embed_files(model, [p.path for p in queries], batch_size=config.embed_batch_size, device=dev)[:, 0]
    candidates, _ = index.search(query_desc, k, rotations=len(QUARTER_TURNS))
    ranked, _ = rerank_exact_torch(torch.from_numpy(query_desc).to(dev), torch.from_numpy(candidates).to(dev),
                                   device_desc)
    ranked = ranked.cpu().numpy()
    synchronize(dev)
    localize_s = time.perf_counter() - t0

    positives = positives_for(queries, database)
    recall = {}
    answerable = [i for i, p in enumerate(positives) if len(p)]
    for n in (1, 10):
        hits = [bool(set(ranked[i, :n].tolist()) & set(positives[i].tolist())) for i in answerable]
        recall[n] = float(np.mean(hits)) if hits else 0.0
    if dev.type == "cuda":
        notes.append(f"peak GPU memory {torch.cuda.max_memory_allocated(dev) / 2**30:.1f} GiB")
    return CheckResult(
        device=_device_name(dev),
        config_name=f"{config.model_preset} ({model.preprocessing.size} px, {model.desc_dim}-D)",
        iterations=final.iteration if final else 0,
        train_images_per_s=train_rate,
        train_seconds=final.seconds if final else 0.0,
        loss_first=losses[0] if losses else None,
        loss_last=losses[-1] if losses else None,
        embed_images_per_s=len(database) * len(QUARTER_TURNS) / max(embed_s, 1e-9),
        tiles=len(database),
        photos=len(queries),
        photos_per_s=len(queries) / max(localize_s, 1e-9),
        recall=recall,
        index_on_gpu=index.use_gpu,
        cpu_images_per_s=cpu_rate,
        wall_s=time.perf_counter() - started,
        notes=notes,
    )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    return f"cpu (torch {torch.__version__}, {torch.get_num_threads()} threads)"
