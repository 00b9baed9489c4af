"""The committed weights on real test data: they load, score what they scored, and clear floors.

Protocol (as `training.evaluate`): Gaussian noise of σ, clipped, noise seed 0, mean per-image
PSNR over the first test images, denoised as the library does by default (with the 8-way
self-ensemble on CIFAR-10, whose models have it on by default). BM3D's scores come from the committed evaluation
(`weights/results/results.json`), which ran BM3D with the true σ on the same noisy images.
"""

from __future__ import annotations

import json

import pytest

import denoiser
from denoiser.baselines import BASELINES
from denoiser.config import settings
from denoiser.metrics import mean_scores
from denoiser.samples import load_samples

from training.evaluate import TARGETS

from .conftest import data_available

pytestmark = pytest.mark.quality

IMAGES = 200  # the manifest's metrics use the first 200 test images too
MARGIN_DB = 0.3  # allowance for scoring 200 images instead of the evaluation's set
# Allowance for scoring the 100 built-in samples (the first 100 test images) instead of the evaluation's 1000:
# on the committed weights they score from 0.08 dB below to 0.38 dB above the 1000-image means.
SAMPLES_MARGIN_DB = 0.3

# For Gaussian noise the app's model must reach each of the project's TARGETS less MARGIN_DB:
# (dataset, sigma) -> (reference, dB), where reference is "absolute" (dB is the floor) or "bm3d"
# (dB over BM3D's score in the committed evaluation). For the other kinds it must beat the best classical method there.
OTHER_NOISES = [("salt_pepper", 0.1), ("speckle", 0.2), ("poisson", 30.0)]


def _need_weights(dataset: str, model: str) -> None:
    if (dataset, model) not in {(e.dataset, e.model) for e in denoiser.list_models()}:
        pytest.skip(f"no committed weights for {dataset}/{model}")


def _need(dataset: str, model: str) -> None:
    if not data_available(dataset):
        pytest.skip(f"{dataset}.npz not in DENOISER_DATA_DIR")
    _need_weights(dataset, model)


def _psnr(dataset: str, model: str, sigma: float, ensemble: bool | None = None, kind: str = "gaussian",
          samples: bool = False) -> float:
    """Mean PSNR on the first IMAGES test images, or with `samples` on the built-in samples."""
    clean = load_samples(dataset).test_images() if samples else denoiser.load_dataset(dataset).test_images(IMAGES)
    noisy = denoiser.add_noise(clean, kind, sigma, seed=0)
    return mean_scores(clean, denoiser.load(dataset, model).denoise(noisy, ensemble=ensemble))["psnr"]


def _committed(dataset: str, kind: str, level: float, methods: set[str]) -> float:
    """The best score among `methods` for one noise in the committed evaluation."""
    path = settings().results_dir / "results.json"
    rows = json.loads(path.read_text()) if path.is_file() else []
    scores = [r["psnr"] for r in rows if (r["dataset"], r["noise"], r["level"]) == (dataset, kind, level)
              and r["method"] in methods]
    if not scores:
        pytest.skip(f"no score of {', '.join(sorted(methods))} for {dataset} {kind} {level:g} in {path}")
    return max(scores)


def _bm3d(dataset: str, sigma: float) -> float:
    return _committed(dataset, "gaussian", sigma, {"bm3d"})


@pytest.mark.parametrize("dataset, model", [(e.dataset, e.model) for e in denoiser.list_models()])
def test_committed_weights_score_what_their_manifest_says(dataset, model):
    _need(dataset, model)
    entry = next(e for e in denoiser.list_models() if (e.dataset, e.model) == (dataset, model))
    assert entry.config["eval_images"] == IMAGES
    recorded = entry.metrics["gaussian_0.3"]["psnr"]  # one pass of the network, as training measured it
    assert _psnr(dataset, model, 0.3, ensemble=False) == pytest.approx(recorded, abs=0.05)


@pytest.mark.parametrize("dataset, sigma", list(TARGETS))
def test_the_apps_model_meets_the_gaussian_targets(dataset, sigma):
    best = denoiser.best_model(dataset, "gaussian")  # what the app and `load(..., noise=)` use
    _need(dataset, best)
    reference, gain = TARGETS[(dataset, sigma)]
    floor = (_bm3d(dataset, sigma) if reference == "bm3d" else 0.0) + gain - MARGIN_DB
    assert _psnr(dataset, best, sigma) >= floor


@pytest.mark.parametrize("dataset, sigma", list(TARGETS))
def test_the_apps_model_meets_the_gaussian_targets_on_the_built_in_samples(dataset, sigma):
    """Runs anywhere the weights are, with no dataset: the samples ship with the project."""
    best = denoiser.best_model(dataset, "gaussian")
    _need_weights(dataset, best)
    reference, gain = TARGETS[(dataset, sigma)]
    floor = (_bm3d(dataset, sigma) if reference == "bm3d" else 0.0) + gain - SAMPLES_MARGIN_DB
    assert _psnr(dataset, best, sigma, samples=True) >= floor


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "cifar10"])
@pytest.mark.parametrize("kind, level", OTHER_NOISES)
def test_the_apps_model_beats_every_classical_method_on_other_noises(dataset, kind, level):
    model = denoiser.best_model(dataset, kind)
    _need(dataset, model)
    classical = _committed(dataset, kind, level, set(BASELINES))
    assert _psnr(dataset, model, level, kind=kind) > classical - MARGIN_DB


def test_best_denoiser_beats_every_study_model_on_mnist():
    best = denoiser.best_model("mnist", "gaussian")
    _need("mnist", best)
    study = [e.model for e in denoiser.list_models() if e.dataset == "mnist" and denoiser.MODELS[e.model].study]
    if not study:
        pytest.skip("no study models trained for mnist")
    assert all(_psnr("mnist", best, 0.3) > _psnr("mnist", name, 0.3) for name in study)
