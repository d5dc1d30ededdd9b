"""The GPU check's code, run on the CPU with a small config: the same path `python -m workers.gpu check` takes."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import torch

from ml.gpu_check import run_check, vitb_config
from ml.index import rerank_exact, rerank_exact_torch
from ml.train import TrainConfig, measure_throughput
from tests.conftest import REPO_ROOT


def test_torch_rerank_matches_the_numpy_one():
    rng = np.random.default_rng(0)
    desc = rng.normal(size=(30, 4, 8)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=-1, keepdims=True)
    queries = desc[[3, 7], 2] + 0.01
    candidates = np.array([[5, 3, 9, -1], [7, 1, 2, 0]])
    ids, scores = rerank_exact(queries, candidates, {i: desc[i] for i in range(30)})
    t_ids, t_scores = rerank_exact_torch(torch.from_numpy(queries), torch.from_numpy(candidates),
                                         torch.from_numpy(desc))
    assert t_ids.tolist() == ids.tolist() and t_ids[0, 0] == 3 and t_ids[0, -1] == -1
    np.testing.assert_allclose(t_scores.numpy(), scores, rtol=1e-5)


def test_check_trains_embeds_and_localizes_on_cpu_with_a_small_config(synth_tiny):
    # MUM only: the tiny Earth's 6 training photos overlap too much for ground-disjoint pair batches.
    config = TrainConfig(model_preset="resnet18_gem", model_overrides={"image_size": 32, "desc_dim": 16},
                         pair_loss_weight=0.0, mum_locations_per_batch=2, num_clusters=2, embed_batch_size=16)
    result = run_check(synth_tiny, config=config, iterations=3, device="cpu", photos=5, log=lambda _: None)
    assert result.iterations == 3 and result.train_images_per_s > 0 and result.loss_first is not None
    assert result.tiles > 0 and result.embed_images_per_s > 0
    assert result.photos == 5 and result.photos_per_s > 0 and 0.0 <= result.recall[1] <= result.recall[10] <= 1.0
    report = "\n".join(result.lines())
    assert "images/s" in report and "photos/s" in report and "CPU reference" in report


def test_the_default_config_is_the_astroloc_vitb_one_and_it_trains(tmp_path):
    config = vitb_config()
    assert config.model_preset == "astroloc_vitb_salad" and config.pairs_per_batch == 24
    # The same architecture at 126 px (9 x 9 patches, more than SALAD's 64 clusters) and a 6-image batch: one
    # real step on the CPU.
    small = replace(config, model_overrides={"image_size": 126}, pairs_per_batch=2, mum_locations_per_batch=1,
                    device="cpu", out_dir=str(tmp_path))
    speed = measure_throughput(small, seconds=0.1, max_steps=1)
    assert speed.steps == 1 and speed.images_per_step == 6 and speed.images_per_s > 0


def test_without_cuda_the_check_says_so_and_exits_0():
    if torch.cuda.is_available():
        return  # on a GPU machine the command runs the real check instead
    result = subprocess.run([sys.executable, "-m", "workers.gpu", "check"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no CUDA device" in result.stdout
