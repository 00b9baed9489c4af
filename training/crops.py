"""The perception–distortion trade-off, shown: the PSNR model beside the sharp (GAN) one.

    python -m training.crops --dataset cifar10

Draws a few test images (the most textured of the first `--pool`, by Laplacian energy: where
a pixel loss blurs most) clean, noisy, and denoised by the app's PSNR model for Gaussian noise
(the specialist where trained) and by the GAN, each with its PSNR, into the results folder's
`sharp_crops_<dataset>.png` (`denoiser.config.SHARP_CROPS`). The noise is drawn as the
evaluation draws it (`training.evaluate.noisy_copies`, seed 0).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from denoiser import inference
from denoiser.config import SHARP_CROPS, figure_path, settings
from denoiser.datasets import DATASETS, load_dataset
from denoiser.metrics import psnr
from denoiser.models import MODELS, SHARP
from denoiser.noise import GAUSSIAN

from .evaluate import noisy_copies
from .realism import laplacian_energy


def most_textured(images: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` images with the most high-frequency energy, most first."""
    energy = [laplacian_energy([image]) for image in images]
    return np.argsort(energy)[::-1][:count]


def draw(dataset: str, sigma: float, count: int, pool: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clean = load_dataset(dataset).test_images(pool)
    noisy = noisy_copies(clean, GAUSSIAN, sigma, per_image=False)
    picked = most_textured(clean, count)
    columns = [("clean", clean[picked]), (f"noisy, σ {sigma:g}", noisy[picked])]
    for model in (inference.best_model(dataset, GAUSSIAN), SHARP):
        columns.append((MODELS[model].title, inference.load(dataset, model).denoise(noisy[picked])))
    fig, axes = plt.subplots(count, len(columns), figsize=(2.2 * len(columns), 2.4 * count), squeeze=False)
    for column, (title, images) in enumerate(columns):
        for row, image in enumerate(images):
            ax = axes[row, column]
            ax.imshow(np.squeeze(np.clip(image, 0, 1)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if column:
                ax.set_xlabel(f"{psnr(clean[picked[row]], image):.2f} dB", fontsize=9)
            if not row:
                ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cifar10", choices=[n for n, s in DATASETS.items() if s.fixed_size])
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--count", type=int, default=4, help="images to show")
    parser.add_argument("--pool", type=int, default=200, help="the first N test images to pick them from")
    parser.add_argument("--out", type=Path, default=settings().results_dir)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= args.pool:
        parser.error(f"--count {args.count}: between 1 and --pool ({args.pool}).")
    if SHARP not in inference.trained_models(args.dataset):
        parser.error(f"no trained {SHARP} for {args.dataset}: train it first (training/train_all.sh).")
    path = figure_path(SHARP_CROPS, args.dataset, args.out)
    draw(args.dataset, args.sigma, args.count, args.pool, path)
    print(path)


if __name__ == "__main__":
    main()
