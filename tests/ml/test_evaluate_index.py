import numpy as np
import pytest

from ml.data.records import PhotoRecord
from ml.evaluate import evaluate, positives_for, recall_at_n
from ml.index import TileIndex, rerank_exact


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_recall_at_n_on_constructed_case():
    db = _unit(np.eye(4))[:, None, :]  # 4 tiles, 1 rotation
    queries = _unit([[1, 0.1, 0, 0], [1, 0.5, 0.2, 0], [0, 0, 0.2, 1], [0, 1, 0, 0]])
    positives = [np.array([0]), np.array([2]), np.array([3, 1]), np.array([], dtype=np.int64)]
    # q0: rank 0 hit; q1: ranks 0,1 miss, rank 2 hit; q2: rank 0 hit; q3: no positive -> excluded.
    res = recall_at_n(queries, db, positives, ns=(1, 2, 3, 10))
    assert res.num_queries == 3 and res.num_excluded == 1
    assert res.recalls == pytest.approx({1: 2 / 3, 2: 2 / 3, 3: 1.0, 10: 1.0})


def test_recall_counts_a_tile_once_across_rotations():
    # Tile 0 matches the query at every rotation; tile 1 only at rotation 2; tile 2 is the positive.
    q = _unit([[1, 0, 0, 0]])
    db = np.zeros((3, 4, 4), np.float32)
    db[0] = _unit([[1, 0.1, 0, 0]] * 4)
    db[1] = _unit([[0, 1, 0, 0], [0, 1, 0, 0], [1, 0.2, 0, 0], [0, 1, 0, 0]])
    db[2] = _unit([[0, 0, 1, 0], [1, 0.3, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]])
    res = recall_at_n(q, db, [np.array([2])], ns=(1, 2, 3))
    assert res.recalls == {1: 0.0, 2: 0.0, 3: 1.0}


def test_tile_index_is_id_mapped_and_reranks_exactly():
    rng = np.random.default_rng(0)
    desc = _unit(rng.normal(size=(10, 4, 8)))
    ids = np.arange(100, 110)
    index = TileIndex(8).build(desc.reshape(40, 8), np.repeat(ids, 4))
    q = desc[3, 2][None] + 0.01
    found, scores = index.search(_unit(q), 5, rotations=4)
    assert found[0, 0] == 103 and len(set(found[0])) == 5 and np.all(np.diff(scores[0]) <= 1e-6)
    reranked, _ = rerank_exact(_unit(q), found[:, ::-1].copy(), {int(i): desc[i - 100] for i in ids})
    assert reranked[0, 0] == 103


def test_evaluate_end_to_end_with_identity_like_model(world):
    """Photos are crops of tiles: even a random CNN ranks some true tiles first; excluded queries counted."""
    from ml.models import create_model

    far = PhotoRecord("far", world.photos[0].path, ((50, 50), (51, 50), (51, 49), (50, 49)))
    photos = [*world.photos, far]
    db = [t for t in world.tiles if t.year == 2020]
    positives = positives_for(photos, db)
    assert len(positives[-1]) == 0 and all(len(p) for p in positives[:-1])
    res = evaluate(create_model("resnet18_gem", image_size=64, desc_dim=32), photos, db, ns=(1, 100))
    assert res.num_excluded == 1 and res.num_queries == len(world.photos)
    assert res.recalls[100] == 1.0


def test_large_index_switches_to_ivf_and_still_finds_the_tile(tmp_path):
    rng = np.random.default_rng(1)
    desc = _unit(rng.normal(size=(2000, 16)))
    ids = np.arange(5000, 7000)
    index = TileIndex(16, exact_threshold=1000, threads=1).build(desc, ids)
    assert "IVF" in type(index.index).__name__
    found, _ = index.search(desc[[7, 1234]], 3)
    assert found[:, 0].tolist() == [5007, 6234]
    reloaded = TileIndex.load(index.save(tmp_path / "tiles.faiss"))
    assert reloaded.search(desc[[7]], 1)[0][0, 0] == 5007


def test_queries_are_grouped_by_distance_from_the_nadir():
    """EarthLoc-style groups: a footprint centred 1 deg of latitude (~111 km) from the nadir is near-vertical,
    5 deg (~556 km) is high oblique; recall is also reported per group."""
    from ml.data.records import bounds_footprint
    from ml.evaluate import nadir_distance_km, nadir_groups

    box = bounds_footprint((9.9, 9.9, 10.1, 10.1))  # centre (10, 10)
    near = PhotoRecord("n", "n.jpg", box, nadir=(10.0, 9.0))
    mid = PhotoRecord("m", "m.jpg", box, nadir=(10.0, 7.0))
    far = PhotoRecord("f", "f.jpg", box, nadir=(10.0, 5.0))
    unknown = PhotoRecord("u", "u.jpg", box)
    assert nadir_distance_km(near) == pytest.approx(111.2, abs=0.5)
    assert nadir_distance_km(unknown) is None
    assert nadir_groups([near, mid, far, unknown]) == ["nadir<200km", "nadir200-500km", "nadir>=500km", None]

    db = _unit(np.eye(4))[:, None, :]
    queries = _unit([[1, 0.1, 0, 0], [1, 0.5, 0.2, 0], [0, 0, 0.2, 1], [0, 1, 0, 0]])
    positives = [np.array([0]), np.array([2]), np.array([3]), np.array([1])]
    groups = ["near", "near", "far", None]
    res = recall_at_n(queries, db, positives, ns=(1, 3), groups=groups)
    assert res.recalls == pytest.approx({1: 3 / 4, 3: 1.0})
    assert res.by_group == {
        "near": {"queries": 2, "recalls": pytest.approx({1: 0.5, 3: 1.0})},
        "far": {"queries": 1, "recalls": {1: 1.0, 3: 1.0}},
    }
    with pytest.raises(ValueError, match="groups"):
        recall_at_n(queries, db, positives, groups=["near"])
