"""Scoring: the mean per-image PSNR / SSIM and seconds per image of a denoiser on noisy images.

Training (the manifest's metrics), the diagnosis and the evaluation all score through here,
so the same model gets the same number wherever it is reported.
"""

from __future__ import annotations

import time
from typing import Callable

import keras
import numpy as np

from denoiser.datasets import Dataset
from denoiser.metrics import mean_scores
from denoiser.noise import GAUSSIAN, add_noise
from denoiser.weights import metric_key

Predict = Callable[[np.ndarray], np.ndarray]
Images = np.ndarray | list[np.ndarray]  # one batch, or a list of images of differing sizes
Restore = Callable[[Images], Images]  # a method as the evaluation runs it on either


def timed(predict: Restore, noisy: Images) -> tuple[Images, float]:
    """The outputs of `predict` on a batch or a list of images, and its seconds per image."""
    start = time.perf_counter()
    restored = predict(noisy)
    return restored, (time.perf_counter() - start) / len(noisy)


def score(predict: Predict, clean: np.ndarray, noisy: np.ndarray) -> tuple[dict[str, float], float]:
    """Mean PSNR/SSIM of `predict` on a batch, and its seconds per image."""
    restored, seconds = timed(predict, noisy)
    return mean_scores(clean, restored), seconds


SMALL_BATCH = 256  # small images (MNIST, CIFAR-10) a bare network predicts at once, here and in training.realism
PHOTO_BATCH = 2  # whole photos at once: their activations are large


def network_predict(network: keras.Model, batch_size: int = SMALL_BATCH) -> Predict:
    """A bare Keras network as a Predict (one pass, no tiling or self-ensemble)."""
    return lambda x: network.predict(x, batch_size=batch_size, verbose=0)


def gaussian_metrics(network: keras.Model, data: Dataset, count: int, multiple: int) -> dict[str, dict[str, float]]:
    """The manifest's metrics for a freshly trained network: each of the dataset's Gaussian levels, noise seed 0.

    Photos are cut to the network's size `multiple` and run two at a time.
    """
    clean = data.test_images(count)
    batch_size = SMALL_BATCH if data.spec.fixed_size else PHOTO_BATCH
    if not data.spec.fixed_size:
        clean = clean[:, : clean.shape[1] // multiple * multiple, : clean.shape[2] // multiple * multiple]
    metrics = {}
    for sigma in data.spec.gaussian_levels:
        noisy = add_noise(clean, GAUSSIAN, sigma, seed=0)
        scores, _ = score(network_predict(network, batch_size), clean, noisy)
        metrics[metric_key(sigma)] = {k: round(v, 3) for k, v in scores.items()}
    return metrics
