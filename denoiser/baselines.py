"""Classical denoisers that the learned models are measured against, in one registry.

Each takes one noisy (H, W, C) float image in [0, 1] and the noise sigma it was told
(an estimate from the image where the noise is not Gaussian or the sigma is unknown).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.ndimage import median_filter
from skimage.restoration import denoise_nl_means, estimate_sigma

from .imaging import join_alpha, split_alpha
from .noise import GAUSSIAN
from .registry import Registry

Baseline = Callable[[np.ndarray, float], np.ndarray]


def _median(noisy: np.ndarray, sigma: float) -> np.ndarray:
    return median_filter(noisy, size=(3, 3, 1))


def _nl_means(noisy: np.ndarray, sigma: float) -> np.ndarray:
    return denoise_nl_means(noisy, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                            fast_mode=True, channel_axis=-1)


_ONE_BM3D_AT_A_TIME = threading.Lock()  # bm3d's native thread pool is global: two runs at once abort the process


def _bm3d(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    with _ONE_BM3D_AT_A_TIME:
        if noisy.shape[-1] == 3:
            return bm3d.bm3d_rgb(noisy, sigma)
        return bm3d.bm3d(noisy[..., 0], sigma)[..., None]


@dataclass(frozen=True)
class BaselineSpec:
    name: str
    title: str
    run: Baseline
    max_pixels: int  # above this the app does not offer it: it would not answer in seconds (the evaluation waits)
    noises: tuple[str, ...] | None = None  # the noise kinds it is meant for; None means any
    min_side: int = 1  # shorter sides are refused: BM3D kills the process under 9 px, so it asks 16 to be safe

    def applies(self, noise: str, size: tuple[int, int]) -> bool:
        """Whether it is meant for this noise and runs at this (height, width), however long it takes."""
        return self.min_side <= min(size) and (self.noises is None or noise in self.noises)

    def suits(self, noise: str, size: tuple[int, int]) -> bool:
        """Whether it applies and answers in seconds at this (height, width): what the app offers."""
        return self.applies(noise, size) and size[0] * size[1] <= self.max_pixels


BASELINES: Registry[BaselineSpec] = Registry(
    "baseline",
    (
        BaselineSpec("median", "Median filter 3x3", _median, 50_000_000),
        BaselineSpec("nl_means", "Non-local means", _nl_means, 1_000_000),
        # BM3D models additive white Gaussian noise, and takes about a second per 32x32 image here.
        BaselineSpec("bm3d", "BM3D", _bm3d, 300_000, noises=(GAUSSIAN,), min_side=16),
    ),
)


def known_sigma(kind: str, level: float) -> float | None:
    """The sigma the baselines are given for noise of this kind added at this level: the level itself for Gaussian
    noise; None for the other kinds, whose Gaussian-equivalent sigma run_baseline estimates from the image."""
    return float(level) if kind == GAUSSIAN else None


def estimated_sigma(noisy: np.ndarray) -> float:
    """Gaussian-equivalent noise sigma estimated from the image (wavelet MAD)."""
    return float(np.mean(estimate_sigma(noisy, channel_axis=-1)))


def run_baseline(name: str, noisy: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Denoise one (H, W, C) image; sigma defaults to an estimate, floored to stay positive. Alpha is kept."""
    colour, alpha = split_alpha(noisy)
    sigma = max(sigma if sigma is not None else estimated_sigma(colour), 1e-3)
    restored = np.clip(BASELINES.lookup(name).run(colour, sigma).reshape(colour.shape), 0.0, 1.0)
    return join_alpha(restored, alpha).astype(np.float32)
