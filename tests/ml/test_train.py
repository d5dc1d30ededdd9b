import itertools

import numpy as np
import pytest
import torch

from ml.data.footprints import footprint_rotation_deg
from ml.data.transforms import rotate_quarter_turns
from ml.models import load_checkpoint, load_model
from ml.train import Progress, TrainConfig, TrainData, fit, images_per_step, measure_throughput, progress_line
from tests.ml.world import corners, make_texture, render


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_tile_turned_by_footprint_rotation_matches_photo(angle):
    """The quarter-turn alignment of pair tiles uses the same sign convention as the footprints."""
    texture = make_texture(3)
    tile = torch.from_numpy(render(texture, (2.0, 2.0), 0.5, 0.0, 64)).permute(2, 0, 1).float()
    photo = torch.from_numpy(render(texture, (2.0, 2.0), 0.5, angle, 64)).permute(2, 0, 1).float()
    turns = round(footprint_rotation_deg(corners((2.0, 2.0), 0.5, angle)) / 90)
    aligned = rotate_quarter_turns(tile, turns)
    assert (aligned - photo).abs().mean() < 2.0
    assert angle == 0 or (tile - photo).abs().mean() > 10.0


def _config(tmp_path, **kw) -> TrainConfig:
    base = dict(
        model_preset="resnet18_gem",
        model_overrides={"image_size": 64, "desc_dim": 32},
        out_dir=str(tmp_path / "run"),
        iterations=4,
        pairs_per_batch=4,
        mum_locations_per_batch=3,
        num_clusters=3,
        recluster_every=2,
        checkpoint_every=2,
        val_every=2,
        embed_batch_size=32,
        min_iou=0.1,
        lr=1e-3,
    )
    base.update(kw)
    return TrainConfig(**base)


def _data(world) -> TrainData:
    db = [t for t in world.tiles if t.year == 2020]
    return TrainData(world.tiles, world.photos[:8], world.photos[8:], db)


def test_fit_trains_validates_checkpoints_and_reports_progress(tmp_path, world):
    events = []
    result = fit(_config(tmp_path), _data(world), progress=events.append)
    phases = [e.phase for e in events]
    assert (
        phases.count("train") == 4 and "recluster" in phases and "validate" in phases and phases[-1] == "done"
    )
    assert all(
        np.isfinite(e.losses["loss"]) and {"pair_loss", "mum_loss"} <= set(e.losses)
        for e in events
        if e.phase == "train"
    )
    assert (result.out_dir / "config.yaml").exists()
    assert TrainConfig.from_yaml(result.out_dir / "config.yaml") == _config(tmp_path)
    best = load_checkpoint(result.best_checkpoint)
    assert best.metrics["val_R@5"] == result.best_metrics["val_R@5"] >= 0
    assert best.data_config["num_pairs"] > 0
    assert load_model(result.last_checkpoint).desc_dim == 32


def test_resume_continues_exactly_where_it_stopped(tmp_path, world):
    data = _data(world)
    straight = fit(_config(tmp_path / "a", val_every=0), data)
    fit(_config(tmp_path / "b", val_every=0, iterations=2), data)
    resumed = fit(_config(tmp_path / "b", val_every=0), data)
    a, b = load_checkpoint(straight.last_checkpoint), load_checkpoint(resumed.last_checkpoint)
    assert b.train_state["iteration"] == 4
    for k, v in a.model_state.items():
        torch.testing.assert_close(b.model_state[k], v, atol=1e-5, rtol=1e-4, msg=k)


def test_unknown_config_key_is_reported(tmp_path):
    (tmp_path / "c.yaml").write_text("iterations: 3\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_yaml(tmp_path / "c.yaml")


def test_lr_schedule_warms_up_then_decays_to_the_floor():
    from ml.train import lr_at

    cosine = TrainConfig(lr=1e-3, lr_schedule="cosine", warmup_iterations=10, iterations=110, lr_min_ratio=0.1)
    assert lr_at(cosine, 0) == pytest.approx(1e-4) and lr_at(cosine, 9) == pytest.approx(1e-3)
    assert lr_at(cosine, 10) == pytest.approx(1e-3)
    assert lr_at(cosine, 60) == pytest.approx(0.55e-3)  # half-way through the decay: mean of peak and floor
    assert lr_at(cosine, 110) == pytest.approx(1e-4)
    decay = [lr_at(cosine, i) for i in range(10, 111)]
    assert all(a >= b for a, b in itertools.pairwise(decay))
    constant = TrainConfig(lr=3e-4, iterations=50)
    assert {lr_at(constant, i) for i in range(50)} == {3e-4}
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_at(TrainConfig(lr_schedule="step"), 0)


@pytest.mark.parametrize("separate", [True, False])
def test_mum_tiles_leave_batch_norm_statistics_to_the_pair_half(separate):
    """With `mum_separate_norm` a full (e) step moves BatchNorm's running estimates exactly as its pair half
    alone would; without it the MUM tiles pull them towards tile statistics."""
    from ml.models.descriptor import DescriptorModel
    from ml.models.registry import model_config
    from ml.train import Batch, train_step

    def running(model):
        return torch.cat([b for n, b in model.named_buffers() if n.endswith("running_mean")])

    g = torch.Generator().manual_seed(0)
    photos, tiles = torch.randn(4, 3, 32, 32, generator=g), torch.randn(4, 3, 32, 32, generator=g) + 1
    mum = torch.randn(6, 3, 32, 32, generator=g) * 3 + 2  # far from the pair half's statistics
    config = TrainConfig(model_preset="resnet18_gem", model_overrides={"image_size": 32, "desc_dim": 16},
                         mum_separate_norm=separate, lr=0.0, grad_clip=0.0)
    after = []
    for batch in (Batch(photos, tiles), Batch(photos, tiles, mum, torch.tensor([0, 0, 1, 1, 2, 2]))):
        torch.manual_seed(0)
        model = DescriptorModel(model_config(config.model_preset, **config.model_overrides))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        losses = train_step(model, optimizer, batch, config, torch.device("cpu"))
        assert np.isfinite(losses["loss"])
        after.append(running(model))
    assert torch.allclose(after[0], after[1], atol=1e-6) == separate


def test_time_budget_stops_training_and_a_resume_counts_the_time_already_spent(tmp_path, world):
    events = []
    config = _config(tmp_path, iterations=1000, val_every=0, time_budget_s=1.0)
    result = fit(config, _data(world), progress=events.append)
    steps = [e for e in events if e.phase == "train"]
    assert 0 < len(steps) < 1000 and steps[-1].seconds >= 1.0
    assert len(steps) == 1 or steps[-2].seconds < 1.0  # it stopped at the first step past the budget
    state = load_checkpoint(result.last_checkpoint).train_state
    assert state["iteration"] == len(steps) and state["train_seconds"] >= 1.0

    again = []
    fit(config, _data(world), progress=again.append)  # the budget is spent: nothing more is trained
    assert [e for e in again if e.phase == "train"] == []


def test_measured_throughput_plans_the_iterations_of_a_budget(tmp_path):
    config = _config(tmp_path)
    speed = measure_throughput(config, seconds=0.5, max_steps=3)
    assert speed.images_per_step == images_per_step(config) == 2 * 4 + 3 * 2
    assert 1 <= speed.steps <= 3 and speed.images_per_s > 0
    assert speed.iterations_for(10 * speed.seconds / speed.steps) == 10


def test_progress_line_has_counter_rate_and_eta():
    p = Progress(iteration=30, total=120, losses={"loss": 0.5}, seconds=60.0, images_per_step=72)
    assert progress_line(p) == "train 30/120 it, 36 images/s, ETA 3m00s loss=0.5000"
    assert "ETA 20s" in progress_line(p, budget_s=80.0)  # the time budget ends first
