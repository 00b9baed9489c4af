"""The study's diagnosis: is a model's failure its capacity or the noise?

    python -m training.diagnose --dataset cifar10 --model cnn_dense

Trains the same architecture twice with the same budget, once on clean inputs (plain
reconstruction) and once on noisy ones, and prints both side by side. If the model
reconstructs clean images no better than it denoises noisy ones, the bottleneck is the
model's capacity, not the noise. Results go to `--out` as JSON for the README.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras

from denoiser import models
from denoiser.config import settings
from denoiser.datasets import DATASETS, load_dataset
from denoiser.noise import add_noise

from .scoring import network_predict, score
from .train import TrainConfig, train

VERDICT_MARGIN_DB = 1.0  # clean reconstruction must beat denoising by this much to clear capacity


def diagnose(dataset: str, model: str, steps: int, sigma: float, images: int, runs_dir: Path) -> dict:
    data = load_dataset(dataset)
    clean = data.test_images(images)
    noisy = add_noise(clean, "gaussian", sigma, seed=0)
    result = {"dataset": dataset, "model": model, "steps": steps, "sigma": sigma, "images": images}
    for noise, inputs in (("none", clean), ("gaussian", noisy)):
        weights_dir = runs_dir / "diagnose" / noise
        config = TrainConfig(dataset=dataset, model=model, epochs=1, steps_per_epoch=steps, noise=noise,
                             level_min=sigma, level_max=sigma, eval_images=8,
                             runs_dir=str(runs_dir / "diagnose-runs" / noise), weights_dir=str(weights_dir))
        entry = train(config, data, "training.diagnose")
        network = keras.models.load_model(entry.path(weights_dir), compile=False)
        scores, _ = score(network_predict(network), clean, inputs)
        result["clean_input" if noise == "none" else "noisy_input"] = {k: round(v, 3) for k, v in scores.items()}
        result["params"] = entry.params
    result["verdict"] = verdict(result["clean_input"]["psnr"], result["noisy_input"]["psnr"])
    return result


def verdict(clean_psnr: float, noisy_psnr: float) -> str:
    """'capacity' when the model reconstructs clean inputs hardly better than it denoises noisy ones."""
    return "capacity" if clean_psnr - noisy_psnr < VERDICT_MARGIN_DB else "noise"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cifar10", type=DATASETS.arg)
    parser.add_argument("--model", default="cnn_dense", type=models.MODELS.arg)
    parser.add_argument("--steps", type=int, default=500, help="training batches for each of the two runs")
    parser.add_argument("--sigma", type=float, default=0.1, help="Gaussian noise of the noisy run")
    parser.add_argument("--images", type=int, default=500, help="first N test images to score")
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--out", default=str(settings().results_dir))
    args = parser.parse_args(argv)

    result = diagnose(args.dataset, args.model, args.steps, args.sigma, args.images, Path(args.runs_dir))
    print(f"\n{args.model} on {args.dataset}, {result['params']:,} parameters, {args.steps} steps each")
    print(f"  trained on clean inputs, reconstructing clean images:  {result['clean_input']['psnr']:6.2f} dB")
    print(f"  trained on noisy inputs (σ={args.sigma}), denoising:          {result['noisy_input']['psnr']:6.2f} dB")
    cause = ("capacity: it cannot even reproduce clean images" if result["verdict"] == "capacity"
             else "the noise: clean images come back much better")
    print(f"  verdict: {cause}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"diagnosis_{args.dataset}_{args.model}.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
