from dataclasses import replace

from ml.ablation import ARMS, format_table, run_ablation
from ml.train import TrainConfig


def _base() -> TrainConfig:
    return TrainConfig(
        model_preset="resnet18_gem",
        model_overrides={"image_size": 64, "desc_dim": 32},
        iterations=2,
        pairs_per_batch=4,
        mum_locations_per_batch=3,
        num_clusters=3,
        recluster_every=1,
        checkpoint_every=10,
        val_every=0,
        min_iou=0.1,
    )


def test_ablation_runs_every_arm_and_prints_a_table(tmp_path, world):
    base = _base()
    db = [t for t in world.tiles if t.year == 2021]
    results = run_ablation(
        base, world.tiles, world.photos[:8], world.photos[8:], db, out_dir=tmp_path, log=lambda _: None
    )
    assert [(r.arm, r.seed) for r in results] == [("ref_raw_pixels_16x16", 0)] + [(a, 0) for a in ARMS] + [
        ("e_pairs_mum", 1)
    ]
    assert results[0].train_s == 0 and 0 <= results[0].recall.recalls[1] <= 1
    untrained = results[1].recall.recalls
    assert any(r.recall.recalls != untrained for r in results[2:]), "training must change the model"
    table = format_table(results)
    assert table.count("\n") == len(results) + 1 and "| b_satellite_only | 0 |" in table
    assert "R@1 nadir<200km" in table.splitlines()[0]


def test_ablation_trains_arms_in_parallel_worker_processes(tmp_path, world):
    """jobs=2: arms run in spawned single-threaded workers; results come back in the canonical order."""
    base = replace(_base(), num_threads=2)
    db = [t for t in world.tiles if t.year == 2021]
    results = run_ablation(
        base, world.tiles, world.photos[:8], world.photos[8:], db, out_dir=tmp_path,
        arms=("a_untrained", "c_pairs"), extra_seeds=(1,), seeded_arms=("a_untrained", "c_pairs"), jobs=2,
        log=lambda _: None,
    )
    assert [(r.arm, r.seed) for r in results] == [
        ("ref_raw_pixels_16x16", 0), ("a_untrained", 0), ("c_pairs", 0), ("c_pairs", 1)
    ]
    assert (tmp_path / "c_pairs_s0" / "last.pt").exists() and results[2].train_s > 0


def test_cpu_small_config_is_the_ablation_default():
    """ml/configs/cpu_small.yaml documents the ablation's shared settings; the two must not drift apart."""
    from pathlib import Path

    from ml.ablation import default_config
    from ml.train import TrainConfig

    path = Path(__file__).resolve().parents[2] / "ml" / "configs" / "cpu_small.yaml"
    assert TrainConfig.from_yaml(path) == default_config()
    assert default_config().mum_separate_norm and default_config().augment.mum_photo_like == 0.5


def test_ordering_check_compares_margins_with_the_seed_spread():
    from ml.ablation import ArmResult, ordering_check
    from ml.evaluate import RecallResult

    def arm(name, r1, seed=0):
        return ArmResult(name, seed, RecallResult({1: r1 / 100, 10: 0.5, 100: 0.9}, 100, 0), 0.0, 0.0)

    results = [arm("a_untrained", 10), arm("b_satellite_only", 12), arm("c_pairs", 15), arm("d_mum", 13.5),
               arm("e_pairs_mum", 16), arm("e_pairs_mum", 15, seed=1)]
    lines = ordering_check(results).splitlines()
    assert lines[0] == "seed spread at R@1: e_pairs_mum 1.0"
    assert "e_pairs_mum > c_pairs: R@1 margin +0.5 -> FAILS" in lines  # mean 15.5 - 15, below the spread
    assert "e_pairs_mum > d_mum: R@1 margin +2.0 -> holds" in lines
    assert "b_satellite_only > a_untrained: R@1 margin +2.0 -> holds" in lines
    assert "d_mum > b_satellite_only: R@1 margin +1.5 -> holds" in lines
    one_seed = ordering_check(results[:5]).splitlines()
    assert one_seed[0] == "seed spread: no arm ran with several seeds"
    assert all(line.endswith("FAILS") for line in one_seed[1:])
    noisy_c = ordering_check([*results, arm("c_pairs", 12, seed=1)]).splitlines()
    assert noisy_c[0] == "seed spread at R@1: c_pairs 3.0, e_pairs_mum 1.0"
    assert "e_pairs_mum > d_mum: R@1 margin +2.0 -> FAILS" in noisy_c  # now below the larger spread of (c)
