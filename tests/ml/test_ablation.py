from ml.ablation import ARMS, format_table, run_ablation
from ml.train import TrainConfig


def test_ablation_runs_every_arm_and_prints_a_table(tmp_path, world):
    base = TrainConfig(
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
    db = [t for t in world.tiles if t.year == 2021]
    results = run_ablation(
        base, world.tiles, world.photos[:8], world.photos[8:], db, out_dir=tmp_path, log=lambda _: None
    )
    assert [(r.arm, r.seed) for r in results] == [(a, 0) for a in ARMS] + [("e_pairs_mum", 1)]
    untrained = results[0].recall.recalls
    assert any(r.recall.recalls != untrained for r in results[1:]), "training must change the model"
    table = format_table(results)
    assert table.count("\n") == len(results) + 1 and "| b_satellite_only | 0 |" in table
