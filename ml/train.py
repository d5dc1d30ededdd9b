"""Training of the descriptor model with AstroLoc's pairwise loss and/or MUM.

Importable functions only (`build_model`, `BatchBuilder`, `train_step`, `fit`): the same code runs from the
CLI
(`python -m ml.train --config X.yaml`) and from a Celery task, which passes its own records and a progress
callback that updates the job row. Nothing lives at module level. A run directory holds `config.yaml`,
`last.pt` (resumable: optimizer, samplers and RNG states) and `best.pt` (best validation R@5).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import yaml

from ml.data.clusters import ClusterSampler, group_locations
from ml.data.footprints import FootprintIndex, footprint_rotation_deg
from ml.data.images import ImageStore
from ml.data.pairs import PairBatchSampler, build_pairs
from ml.data.records import PhotoRecord, TileRecord
from ml.data.transforms import AugmentConfig, Augmenter, rotate_quarter_turns
from ml.embed import embed_files, resolve_device, synchronize
from ml.evaluate import evaluate
from ml.losses import mum_loss, pairwise_loss
from ml.models.checkpoint import load_checkpoint, save_checkpoint
from ml.models.descriptor import DescriptorModel
from ml.models.norm import frozen_norm_statistics
from ml.models.registry import model_config
from ml.progress import format_seconds

__all__ = [
    "Batch",
    "BatchBuilder",
    "FitResult",
    "Progress",
    "Throughput",
    "TrainConfig",
    "TrainData",
    "build_model",
    "fit",
    "images_per_step",
    "lr_at",
    "measure_throughput",
    "train_step",
]


@dataclass
class TrainConfig:
    """Everything a run depends on; dumped as `config.yaml` beside its outputs."""

    model_preset: str = "resnet18_salad"
    model_overrides: dict = field(default_factory=dict)
    init_checkpoint: str | None = None  # start from our checkpoint's weights (architecture from the preset)
    data_root: str | None = None  # synthetic Earth root, for the CLI
    out_dir: str = "runs/train"
    seed: int = 0
    iterations: int = 1000
    # Stop once the training steps have taken this many seconds (validation and re-clustering excluded; a
    # resumed run counts the time already spent). `iterations` stays the upper bound and the length of the
    # lr schedule, so a budgeted run plans `iterations` from a measured throughput (`measure_throughput`).
    time_budget_s: float | None = None
    lr: float = 1e-4
    lr_schedule: str = "constant"  # constant | cosine (linear warmup, then cosine decay to lr * lr_min_ratio)
    warmup_iterations: int = 0
    lr_min_ratio: float = 0.0
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    pairs_per_batch: int = 24
    mum_locations_per_batch: int = 12
    years_per_location: int = 2
    pair_loss_weight: float = 1.0
    mum_loss_weight: float = 1.0
    mum_ignore_overlap: bool = True
    # The MUM tiles go through their own forward pass that leaves BatchNorm's running statistics to the pair
    # half (ml/models/norm.py): otherwise (e)'s 1 photo : 2 tiles batches normalise test photos with
    # tile-heavy statistics that (c) never has. No effect on BatchNorm-free models (the ViT default).
    mum_separate_norm: bool = True
    min_iou: float = 0.2
    num_clusters: int = 50
    cluster_mode: str = "proportional"  # proportional | uniform | random
    recluster_every: int = 200
    recluster_max_photos: int = 2000
    ms_alpha: float = 1.0
    ms_beta: float = 50.0
    ms_base: float = 0.0
    val_every: int = 0  # 0: validate only at the end
    val_max_queries: int = 300
    checkpoint_every: int = 100
    device: str = "auto"
    num_threads: int | None = None
    embed_batch_size: int = 64
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {sorted(unknown)}; valid keys: {sorted(known)}")
        data = dict(data)
        if isinstance(data.get("augment"), dict):
            aug = data["augment"]
            data["augment"] = AugmentConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in aug.items()}
            )
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        with open(path) as fh:
            return cls.from_dict(yaml.safe_load(fh) or {})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in d["augment"].items()}
        return d

    def dump_yaml(self, path: str | Path) -> Path:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return Path(path)

    @property
    def uses_pairs(self) -> bool:
        return self.pair_loss_weight > 0

    @property
    def uses_mum(self) -> bool:
        return self.mum_loss_weight > 0


@dataclass
class TrainData:
    """Plain inputs of a run: training tiles (all years) and photos; validation photos and database."""

    tiles: Sequence[TileRecord]
    photos: Sequence[PhotoRecord]
    val_photos: Sequence[PhotoRecord] = ()
    val_tiles: Sequence[TileRecord] = ()


@dataclass(frozen=True)
class Progress:
    """What the progress callback receives (a Celery task writes it to the job row)."""

    iteration: int
    total: int
    losses: dict[str, float]
    metrics: dict[str, float] | None = None
    phase: str = "train"  # train | recluster | validate | done
    seconds: float = 0.0  # time spent in training steps so far (what `time_budget_s` bounds)
    images_per_step: int = 0

    @property
    def images_per_s(self) -> float:
        return self.iteration * self.images_per_step / self.seconds if self.seconds > 0 else 0.0

    def eta_s(self, budget_s: float | None = None) -> float | None:
        """Seconds of training left: the remaining steps at the rate so far, capped by the time budget."""
        if self.iteration <= 0 or self.seconds <= 0:
            return budget_s
        eta = (self.total - self.iteration) * self.seconds / self.iteration
        return min(eta, max(budget_s - self.seconds, 0.0)) if budget_s else eta


@dataclass
class Batch:
    """Normalised image tensors of one step; either half may be absent."""

    photos: torch.Tensor | None = None  # [B, 3, S, S]
    pair_tiles: torch.Tensor | None = None  # [B, 3, S, S], tile i pairs with photo i
    mum_tiles: torch.Tensor | None = None  # [M, 3, S, S]
    mum_labels: torch.Tensor | None = None  # [M] location labels
    mum_overlap: torch.Tensor | None = None  # [M, M] bool ground overlap


@dataclass
class FitResult:
    out_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    best_metrics: dict
    history: list[dict]
    wall_s: float
    iterations: int = 0  # steps trained in all (a time budget may end the run before `config.iterations`)
    train_seconds: float = 0.0  # time spent in those steps


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False


LR_SCHEDULES = ("constant", "cosine")


def lr_at(config: TrainConfig, iteration: int) -> float:
    """Learning rate of step `iteration` (0-based): a pure function of the step, so resuming needs no state.

    Why a schedule: short from-scratch runs (the CPU ablation) gain most from a high rate early and a low one
    at the end; a linear warmup keeps the first steps of MS loss on a random model from blowing up.
    """
    if config.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}; choose one of {LR_SCHEDULES}")
    if iteration < config.warmup_iterations:
        return config.lr * (iteration + 1) / config.warmup_iterations
    if config.lr_schedule == "constant":
        return config.lr
    span = max(1, config.iterations - config.warmup_iterations)
    progress = min(1.0, (iteration - config.warmup_iterations) / span)
    floor = config.lr * config.lr_min_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def images_per_step(config: TrainConfig) -> int:
    """Images one `train_step` forwards and back-propagates: photos + their tiles + the MUM tiles."""
    pairs = 2 * config.pairs_per_batch if config.uses_pairs else 0
    mum = config.mum_locations_per_batch * config.years_per_location if config.uses_mum else 0
    return pairs + mum


@dataclass(frozen=True)
class Throughput:
    """How fast this machine trains a config: measured, so that a time budget can be turned into steps."""

    images_per_step: int
    steps: int
    seconds: float
    device: str

    @property
    def images_per_s(self) -> float:
        return self.images_per_step * self.steps / self.seconds

    def iterations_for(self, budget_s: float) -> int:
        """Steps that fit in `budget_s` at this rate (at least 1)."""
        return max(1, int(budget_s * self.images_per_s / self.images_per_step))


def measure_throughput(config: TrainConfig, *, seconds: float = 8.0, max_steps: int = 50) -> Throughput:
    """Time `train_step` on random images of the config's size and batch (one untimed warm-up step).

    Image content does not change the cost of a step, so no data is needed: the result is the machine's
    training speed for this model, batch and device, what a time budget is planned from.
    """
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    model = build_model(config).to(device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    size = model.preprocessing.size
    generator = torch.Generator().manual_seed(config.seed)
    batch = Batch()
    if config.uses_pairs:
        batch.photos = torch.randn(config.pairs_per_batch, 3, size, size, generator=generator)
        batch.pair_tiles = torch.randn(config.pairs_per_batch, 3, size, size, generator=generator)
    if config.uses_mum:
        m = config.mum_locations_per_batch * config.years_per_location
        batch.mum_tiles = torch.randn(m, 3, size, size, generator=generator)
        batch.mum_labels = torch.arange(config.mum_locations_per_batch).repeat_interleave(config.years_per_location)
        batch.mum_overlap = torch.zeros(m, m, dtype=torch.bool)
    train_step(model, optimizer, batch, config, device)
    synchronize(device)
    steps, start = 0, time.perf_counter()
    while steps < max_steps and (steps == 0 or time.perf_counter() - start < seconds):
        train_step(model, optimizer, batch, config, device)
        steps += 1
    synchronize(device)
    return Throughput(images_per_step(config), steps, time.perf_counter() - start, str(device))


def build_model(config: TrainConfig) -> DescriptorModel:
    """The preset (with overrides); weights from `init_checkpoint` when given."""
    model = DescriptorModel(model_config(config.model_preset, **config.model_overrides))
    if config.init_checkpoint:
        model.load_state_dict(load_checkpoint(config.init_checkpoint).model_state)
    return model


class BatchBuilder:
    """Draws pair and MUM batches, loads and augments their images, and re-clusters on demand."""

    def __init__(
        self, config: TrainConfig, data: TrainData, model: DescriptorModel, store: ImageStore
    ) -> None:
        self.config = config
        self.data = data
        self.store = store
        self.preprocessing = model.preprocessing
        self.augment = Augmenter(model.preprocessing.size, config.augment)
        self.tile_index = FootprintIndex([t.footprint for t in data.tiles])
        self.pair_sampler: PairBatchSampler | None = None
        self.cluster_sampler: ClusterSampler | None = None
        if config.uses_pairs:
            pairs = build_pairs(data.photos, data.tiles, min_iou=config.min_iou, tile_index=self.tile_index)
            self.pair_sampler = PairBatchSampler(
                pairs, data.photos, data.tiles, batch_size=config.pairs_per_batch, seed=config.seed
            )
        if config.uses_mum:
            self.locations = group_locations(data.tiles, min_years=2)
            self.cluster_sampler = ClusterSampler(
                self.locations,
                num_clusters=config.num_clusters,
                mode=config.cluster_mode,
                locations_per_batch=config.mum_locations_per_batch,
                years_per_location=config.years_per_location,
                seed=config.seed + 1,
            )

    @property
    def num_pairs(self) -> int:
        return len(self.pair_sampler.pairs) if self.pair_sampler else 0

    def recluster(self, model: DescriptorModel, device: torch.device) -> None:
        """k-means on the model's current descriptors of one tile per location; photos assigned."""
        sampler = self.cluster_sampler
        if sampler is None or not sampler.needs_descriptors:
            return
        bs = self.config.embed_batch_size
        loc_paths = [self.data.tiles[loc.tiles[0]].path for loc in self.locations]
        loc_desc = embed_files(model, loc_paths, batch_size=bs, device=device, store=self.store)[:, 0]
        photo_desc = None
        if sampler.mode == "proportional":  # photo counts only matter for proportional sampling
            paths = [p.path for p in self.data.photos][: self.config.recluster_max_photos]
            photo_desc = embed_files(model, paths, batch_size=bs, device=device, store=self.store)[:, 0]
        sampler.update(loc_desc, photo_desc)

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return self.preprocessing.normalize(x)

    def next_batch(self) -> Batch:
        batch = Batch()
        if self.pair_sampler is not None:
            pairs = next(self.pair_sampler)
            photos = [self.store.get(self.data.photos[p].path) for p, _ in pairs]
            tiles = []
            for p, t in pairs:
                turns = round(footprint_rotation_deg(self.data.photos[p].footprint) / 90.0)
                tiles.append(rotate_quarter_turns(self.store.get(self.data.tiles[t].path), turns))
            batch.photos = self._norm(self.augment.photos(photos))
            batch.pair_tiles = self._norm(self.augment.tiles(tiles))
        if self.cluster_sampler is not None:
            drawn = self.cluster_sampler.sample()
            idx = [t for t, _ in drawn]
            batch.mum_tiles = self._norm(
                self.augment.mum_tiles([self.store.get(self.data.tiles[t].path) for t in idx])
            )
            batch.mum_labels = torch.tensor([label for _, label in drawn])
            if self.config.mum_ignore_overlap:
                batch.mum_overlap = torch.from_numpy(self.tile_index.overlap_matrix(idx))
        return batch

    def state_dict(self) -> dict:
        return {
            "pairs": self.pair_sampler.state_dict() if self.pair_sampler else None,
            "clusters": self.cluster_sampler.state_dict() if self.cluster_sampler else None,
        }

    def load_state_dict(self, state: dict) -> None:
        if self.pair_sampler and state.get("pairs"):
            self.pair_sampler.load_state_dict(state["pairs"])
        if self.cluster_sampler and state.get("clusters"):
            self.cluster_sampler.load_state_dict(state["clusters"])


def train_step(
    model: DescriptorModel,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    config: TrainConfig,
    device: torch.device,
) -> dict[str, float]:
    """One optimisation step on a batch. Returns the loss terms.

    One forward pass over all images, or two when `mum_separate_norm` keeps BatchNorm's running statistics
    to the pair half.
    """
    model.train()
    ms = {"alpha": config.ms_alpha, "beta": config.ms_beta, "base": config.ms_base}

    def forward(images: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            return model(images.to(device)).float()

    losses: dict[str, torch.Tensor] = {}
    has_pairs = batch.photos is not None and batch.pair_tiles is not None
    has_mum = batch.mum_tiles is not None and batch.mum_labels is not None
    separate = has_pairs and has_mum and config.mum_separate_norm
    parts = [t for t in (batch.photos, batch.pair_tiles, batch.mum_tiles) if t is not None]
    desc = forward(torch.cat(parts[:2] if separate else parts))
    if separate:
        with frozen_norm_statistics(model):
            desc = torch.cat([desc, forward(batch.mum_tiles)])
    offset = 0
    if has_pairs:
        b = len(batch.photos)
        losses["pair_loss"] = pairwise_loss(desc[:b], desc[b : 2 * b], **ms)
        offset = 2 * b
    if has_mum:
        overlap = batch.mum_overlap.to(device) if batch.mum_overlap is not None else None
        losses["mum_loss"] = mum_loss(desc[offset:], batch.mum_labels.to(device), overlap, **ms)
    total = config.pair_loss_weight * losses.get("pair_loss", 0.0) + config.mum_loss_weight * losses.get(
        "mum_loss", 0.0
    )
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    if config.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], config.grad_clip)
    optimizer.step()
    out = {k: float(v.detach()) for k, v in losses.items()}
    out["loss"] = float(total.detach())
    return out


def _validate(
    model: DescriptorModel, config: TrainConfig, data: TrainData, device: torch.device, store: ImageStore
) -> dict:
    photos = list(data.val_photos)[: config.val_max_queries]
    result = evaluate(
        model, photos, data.val_tiles, batch_size=config.embed_batch_size, device=device, store=store
    )
    return {f"val_R@{n}": v for n, v in result.recalls.items()} | {"val_queries": result.num_queries}


def fit(
    config: TrainConfig,
    data: TrainData,
    *,
    progress: Callable[[Progress], None] | None = None,
    resume: bool = True,
    store: ImageStore | None = None,
) -> FitResult:
    """Train for `config.iterations` steps or `config.time_budget_s` seconds of steps, whichever ends first;
    resume from `out_dir/last.pt` when it exists and `resume`.

    Validation (R@5 on `data.val_photos` vs `data.val_tiles`) runs every `val_every` steps and at the end;
    the best model by R@5 is `best.pt`.
    """
    start = time.perf_counter()
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config.dump_yaml(out_dir / "config.yaml")
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    seed_everything(config.seed)
    device = resolve_device(config.device)
    model = build_model(config).to(device)
    store = store or ImageStore(model.preprocessing.size)
    builder = BatchBuilder(config, data, model, store)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    data_config = {
        "num_tiles": len(data.tiles),
        "num_photos": len(data.photos),
        "num_pairs": builder.num_pairs,
        "image_size": model.preprocessing.size,
        "data_root": config.data_root,
    }
    last_path, best_path = out_dir / "last.pt", out_dir / "best.pt"
    iteration, best, history, train_seconds = 0, {}, [], 0.0
    per_step = images_per_step(config)
    if resume and last_path.exists():
        ckpt = load_checkpoint(last_path)
        model.load_state_dict(ckpt.model_state)
        optimizer.load_state_dict(ckpt.train_state["optimizer"])
        builder.load_state_dict(ckpt.train_state["samplers"])
        torch.set_rng_state(ckpt.train_state["torch_rng"])
        iteration, best, history = (
            ckpt.train_state["iteration"],
            ckpt.train_state["best"],
            ckpt.train_state["history"],
        )
        train_seconds = float(ckpt.train_state.get("train_seconds", 0.0))

    def save_last() -> None:
        state = {
            "optimizer": optimizer.state_dict(),
            "samplers": builder.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "iteration": iteration,
            "best": best,
            "history": history,
            "train_seconds": train_seconds,
            "config": config.to_dict(),
        }
        save_checkpoint(last_path, model, data_config=data_config, train_state=state, metrics=best)

    def validate() -> None:
        nonlocal best
        if not data.val_photos or not data.val_tiles:
            return
        metrics = _validate(model, config, data, device, store) | {"iteration": iteration}
        history.append(metrics)
        if progress:
            progress(Progress(iteration, config.iterations, {}, metrics, "validate", train_seconds, per_step))
        if metrics["val_R@5"] > best.get("val_R@5", -1.0):
            best = metrics
            save_checkpoint(best_path, model, data_config=data_config, metrics=metrics)

    needs_clusters = builder.cluster_sampler is not None and builder.cluster_sampler.needs_descriptors
    if needs_clusters and builder.cluster_sampler.weights is None:
        builder.recluster(model, device)
    def out_of_time() -> bool:
        return config.time_budget_s is not None and train_seconds >= config.time_budget_s

    while iteration < config.iterations and not out_of_time():
        if needs_clusters and iteration > 0 and iteration % config.recluster_every == 0:
            if progress:
                progress(Progress(iteration, config.iterations, {}, None, "recluster", train_seconds, per_step))
            builder.recluster(model, device)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(config, iteration)
        step_start = time.perf_counter()
        losses = train_step(model, optimizer, builder.next_batch(), config, device)
        train_seconds += time.perf_counter() - step_start
        iteration += 1
        if progress:
            progress(Progress(iteration, config.iterations, losses, None, "train", train_seconds, per_step))
        mid_run = iteration < config.iterations and not out_of_time()
        if config.val_every and iteration % config.val_every == 0 and mid_run:
            validate()
        if iteration % config.checkpoint_every == 0:
            save_last()
    if not history or history[-1]["iteration"] != iteration:
        validate()
    save_last()
    if progress:
        progress(Progress(iteration, config.iterations, {}, best, "done", train_seconds, per_step))
    return FitResult(
        out_dir=out_dir,
        last_checkpoint=last_path,
        best_checkpoint=best_path if best_path.exists() else None,
        best_metrics=best,
        history=history,
        wall_s=time.perf_counter() - start,
        iterations=iteration,
        train_seconds=train_seconds,
    )


def progress_line(p: Progress, budget_s: float | None = None) -> str:
    """`train 37/120 it, 52 images/s, ETA 1m40s pair_loss=...`: the counter, rate and ETA every reporter shows."""
    terms = " ".join(f"{k}={v:.4f}" for k, v in p.losses.items())
    eta = p.eta_s(budget_s)
    eta_text = f", ETA {format_seconds(eta)}" if eta is not None else ""
    return f"{p.phase} {p.iteration}/{p.total} it, {p.images_per_s:.0f} images/s{eta_text} {terms}".strip()


class ConsoleProgress:
    """Prints a training progress line at most every `every_s` seconds, and every phase change."""

    def __init__(self, budget_s: float | None = None, every_s: float = 10.0) -> None:
        self.budget_s, self.every_s, self._last = budget_s, every_s, -math.inf

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.phase != "train":
            print(f"[{p.iteration}/{p.total}] {p.phase} {p.metrics or ''}", flush=True)
        elif now - self._last >= self.every_s or p.iteration == p.total:
            self._last = now
            print(f"[{progress_line(p, self.budget_s)}]", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: train on a synthetic Earth (`data_root` in the config or --data)."""
    from ml.data.synth_adapter import records_from_synth

    parser = argparse.ArgumentParser(prog="python -m ml.train", description=main.__doc__)
    parser.add_argument("--config", required=True, help="YAML with TrainConfig fields")
    parser.add_argument("--data", help="synthetic Earth root (overrides data_root)")
    parser.add_argument("--out", help="run directory (overrides out_dir)")
    parser.add_argument("--no-resume", action="store_true", help="start over even if out_dir/last.pt exists")
    parser.add_argument("--iterations", type=int, help="steps (overrides iterations)")
    parser.add_argument("--time-budget", type=float, metavar="SECONDS",
                        help="train for this many seconds: measures this machine's speed first and plans the "
                             "iterations (the lr schedule's length) from it; --iterations then caps them")
    args = parser.parse_args(argv)
    config = TrainConfig.from_yaml(args.config)
    if args.iterations:
        config.iterations = args.iterations
    if args.data:
        config.data_root = args.data
    if args.out:
        config.out_dir = args.out
    if not config.data_root:
        parser.error("no data: set data_root in the config or pass --data")
    if args.time_budget:
        speed = measure_throughput(config)
        planned = speed.iterations_for(args.time_budget)
        config.iterations = min(planned, args.iterations) if args.iterations else planned
        config.time_budget_s = args.time_budget
        print(f"this machine trains {speed.images_per_s:.0f} images/s on {speed.device}; training for "
              f"{args.time_budget:.0f} s ≈ {config.iterations} iterations", flush=True)
    records = records_from_synth(config.data_root)
    data = TrainData(records.tiles, records.photos["train"], records.photos["val"], records.database())
    result = fit(config, data, progress=ConsoleProgress(config.time_budget_s),
                 resume=not args.no_resume)
    print(f"done in {result.wall_s:.0f}s; best {result.best_metrics}; checkpoints in {result.out_dir}")


if __name__ == "__main__":
    main()
