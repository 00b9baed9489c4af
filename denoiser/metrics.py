"""Image quality metrics, from scikit-image rather than written by hand."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from .imaging import split_alpha


def psnr(clean: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of one (H, W, C) image with data range 1; identical images give inf. Alpha is not scored."""
    clean, test = split_alpha(clean)[0], split_alpha(test)[0]
    return float(peak_signal_noise_ratio(clean, np.clip(test, 0, 1), data_range=1.0))


def ssim(clean: np.ndarray, test: np.ndarray) -> float:
    """SSIM of one (H, W, C) image with data range 1; 7x7 windows, smaller on tiny images, NaN under 3x3.

    Alpha is not scored."""
    clean, test = split_alpha(clean)[0], split_alpha(test)[0]
    window = min(7, *clean.shape[:2])
    window -= 1 - window % 2  # the window side must be odd
    if window < 3:
        return float("nan")
    return float(structural_similarity(clean, np.clip(test, 0, 1), data_range=1.0, channel_axis=-1, win_size=window))


def mean_scores(clean: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """Mean per-image PSNR (infinite values capped at 100 dB) and SSIM over a batch."""
    psnrs = [min(psnr(c, t), 100.0) for c, t in zip(clean, test)]
    ssims = [ssim(c, t) for c, t in zip(clean, test)]
    return {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims))}


def batch_psnr(clean, output):
    """Mean per-image PSNR (dB) of a batch as a differentiable tensor: a training metric and loss.

    The 1e-5 floor on each image's MSE caps the value at 50 dB, so near-clean images cannot take over.
    """
    from keras import ops

    mse = ops.mean(ops.square(clean - output), axis=[1, 2, 3])
    return -ops.mean(10.0 * ops.log(mse + 1e-5)) / ops.log(10.0)
