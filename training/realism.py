"""Measures that reward realism, where PSNR and SSIM reward the blur; all computed offline.

- `accuracy`: the dataset's classifier (training.classifier) on the denoised test images:
  does the output still look like its class?
- `fd`: the Fréchet distance between Gaussians fitted to the classifier's pooled features of
  the outputs and of the clean images (FID's formula, Heusel et al. 2017, on our own small
  classifier instead of Inception, which would need a download). As FID pools Inception's
  last convolutional block, we average the classifier's last convolutional stage over the
  image: 64 numbers for every dataset. Its flattened values (2,304 for CIFAR-10) are too many
  for a thousand images: two disjoint sets of clean test images came out farther apart on them
  than a blurry denoiser's outputs from their own clean images, so sampling noise drowned what
  they measured. tests/test_realism.py checks that the pooled features keep that spread small.
  0 for the clean images themselves; blur and noise both move it up.
- `hf_ratio`: the high-frequency energy (a 4-neighbour Laplacian, summed squares) of the
  outputs over that of the clean images: below 1 is smoother than real, above 1 noisier.
  The one measure for photos, where no classifier fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import keras
import numpy as np

from . import classifier
from .scoring import SMALL_BATCH


def laplacian_energy(images: Iterable[np.ndarray]) -> float:
    """The summed squared Laplacian of images (H, W, C) of any sizes, over their interiors."""
    total = 0.0
    for x in images:
        x = np.asarray(x, np.float64)
        lap = x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]
        total += float(np.sum(lap**2))
    return total


def high_frequency_ratio(outputs: Iterable[np.ndarray], clean: Iterable[np.ndarray]) -> float:
    return laplacian_energy(outputs) / laplacian_energy(clean)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) for feature rows a (N, D) and b (M, D).

    With A and B the centred rows over sqrt(N - 1) and sqrt(M - 1), S_a S_b = A'A B'B has the
    non-zero eigenvalues of (A B')(A B')', so tr((S_a S_b)^(1/2)) is the sum of the singular
    values of the N x M matrix A B': exact and real, with no matrix square root to go complex.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mean_a, mean_b = a.mean(0), b.mean(0)
    centred_a, centred_b = (a - mean_a) / np.sqrt(len(a) - 1), (b - mean_b) / np.sqrt(len(b) - 1)
    trace_root = float(np.sum(np.linalg.svd(centred_a @ centred_b.T, compute_uv=False)))
    traces = float(np.sum(centred_a**2) + np.sum(centred_b**2))
    return max(0.0, float(np.sum((mean_a - mean_b) ** 2)) + traces - 2 * trace_root)


@dataclass
class Judge:
    """The realism measures for one dataset's test images: their classifier (if any), labels and clean features."""

    clean: np.ndarray
    network: keras.Model | None = None  # image -> (pooled features, class probabilities)
    labels: np.ndarray | None = None
    clean_features: np.ndarray | None = None

    def judge(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.network.predict(images, batch_size=SMALL_BATCH, verbose=0)  # pooled: one row per image

    def measure(self, outputs: np.ndarray) -> dict[str, float]:
        """hf_ratio always; accuracy and fd where the dataset has a classifier."""
        scores = {"hf_ratio": high_frequency_ratio(outputs, self.clean)}
        if self.network is not None:
            features, probabilities = self.judge(outputs)
            scores["accuracy"] = float(np.mean(np.argmax(probabilities, axis=-1) == self.labels))
            scores["fd"] = frechet_distance(features, self.clean_features)
        return scores


def judge_for(dataset: str, clean: np.ndarray, labels: np.ndarray, weights_dir: Path | None = None) -> Judge:
    """The dataset's Judge: with its classifier where one is trained, else the high-frequency ratio alone."""
    if not classifier.path(dataset, weights_dir).is_file():
        return Judge(clean)
    model = classifier.load(dataset, weights_dir)
    last_stage = next(layer for layer in model.layers if isinstance(layer, keras.layers.Flatten)).input
    network = keras.Model(model.inputs, [keras.layers.GlobalAveragePooling2D()(last_stage), model.outputs[0]])
    judge = Judge(clean, network, classifier.labels(labels))
    judge.clean_features, _ = judge.judge(clean)
    return judge
