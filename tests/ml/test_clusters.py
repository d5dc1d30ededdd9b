import numpy as np
import pytest

from ml.data.clusters import ClusterSampler, Location


def _setup(mode: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.eye(8, dtype=np.float32)[:3] * 10  # three well separated clusters
    loc_desc = np.concatenate([centres[c] + rng.normal(0, 0.1, (20, 8)) for c in range(3)]).astype(np.float32)
    loc_desc /= np.linalg.norm(loc_desc, axis=1, keepdims=True)
    counts = [10, 30, 60]  # photos per cluster
    photo_desc = np.concatenate([centres[c] + rng.normal(0, 0.1, (n, 8)) for c, n in enumerate(counts)])
    photo_desc = (photo_desc / np.linalg.norm(photo_desc, axis=1, keepdims=True)).astype(np.float32)
    locations = [Location(str(i), (2 * i, 2 * i + 1)) for i in range(60)]
    sampler = ClusterSampler(locations, num_clusters=3, mode=mode, locations_per_batch=4, seed=seed)
    sampler.update(loc_desc, photo_desc)
    return sampler, np.array(counts) / 100


def _frequencies(sampler: ClusterSampler, n: int = 3000) -> np.ndarray:
    true_cluster = lambda tile: (tile // 2) // 20  # noqa: E731 - tile -> location -> generating cluster
    hits = np.zeros(3)
    for _ in range(n):
        batch = sampler.sample()
        clusters = {true_cluster(t) for t, _ in batch}
        assert len(clusters) == 1, "a batch must come from one cluster"
        hits[clusters.pop()] += 1
    return hits / n


def test_proportional_sampling_follows_photo_counts():
    sampler, expected = _setup("proportional")
    np.testing.assert_allclose(_frequencies(sampler), expected, atol=0.03)


def test_uniform_sampling_ignores_photo_counts():
    sampler, _ = _setup("uniform")
    np.testing.assert_allclose(_frequencies(sampler), [1 / 3] * 3, atol=0.03)


def test_batch_holds_each_location_in_several_years():
    sampler, _ = _setup("proportional")
    batch = sampler.sample()
    labels = [label for _, label in batch]
    assert len(batch) == 8 and all(labels.count(x) == 2 for x in set(labels))
    for t, label in batch:  # both tiles of a label are the two years of one location
        assert [u // 2 for u, lab in batch if lab == label] == [t // 2] * 2


def test_random_mode_needs_no_clustering_and_update_is_required_otherwise():
    locations = [Location(str(i), (2 * i, 2 * i + 1)) for i in range(10)]
    assert len(ClusterSampler(locations, mode="random", locations_per_batch=3).sample()) == 6
    with pytest.raises(RuntimeError):
        ClusterSampler(locations, mode="uniform").sample()
